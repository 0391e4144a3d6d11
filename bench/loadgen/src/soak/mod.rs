//! The soak (`make soak`; `make test` runs a 20-second version): many patients at once, each
//! through its own app session, mixing OAuth flows, availability searches, bookings of contested
//! slots, reschedules, cancellations and ASAP subscriptions against a running portal; afterwards
//! the invariant checks of `testkit::invariants` read the whole store.
//!
//! It fails when a function answered 5xx, when an answer is one the API does not document for
//! what was sent (see [`patient`]), or when an invariant is broken. The emulator's own failures
//! (`cargo lambda watch` dropping a request) are reported apart and do not fail the run: API
//! Gateway has no such fault, and a request they hit is resent as a client would (the same
//! `Idempotency-Key`, the same `If-Match`).

pub mod cli;
mod patient;
mod seed;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::config::Config;
use testkit::invariants::{self, Expected, GrantSeen};

use crate::http::Stats;
use patient::Patient;

/// What a soak runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The portal's base URL (its issuer).
    pub base_url: String,
    /// Concurrent patients, each with its own session.
    pub clients: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// Seed of the patients' choices (each patient draws from `seed + its number`).
    pub seed: u64,
}

/// What a soak saw.
#[derive(Debug)]
pub struct Outcome {
    /// Answers by step.
    pub stats: Arc<Stats>,
    /// Answers the API does not document for the request, in words (the first ones).
    pub surprises: Vec<String>,
    /// The invariant checks' report.
    pub invariants: invariants::Report,
    /// Actions completed.
    pub actions: u64,
}

impl Outcome {
    /// 5xx answers of the functions (the emulator's own failures are not among them).
    pub fn server_errors(&self) -> u64 {
        self.stats.steps().values().map(|s| s.server_errors()).sum()
    }

    /// Requests the emulator failed itself.
    pub fn emulator_faults(&self) -> u64 {
        self.stats.steps().values().map(|s| s.emulator_faults).sum()
    }

    /// Whether the run passed: no 5xx, no surprise, no broken invariant.
    pub fn passed(&self) -> bool {
        self.server_errors() == 0 && self.surprises.is_empty() && self.invariants.is_clean()
    }

    /// The report printed at the end of a run.
    pub fn report(&self) -> String {
        let mut out = self.stats.table();
        out.push_str(&format!(
            "\n{} actions; {} 5xx from the functions; {} emulator faults (reported apart)\n",
            self.actions,
            self.server_errors(),
            self.emulator_faults()
        ));
        out.push_str(&format!("invariants: {}\n", self.invariants.summary()));
        for violation in &self.invariants.violations {
            out.push_str(&format!("  violated: {violation}\n"));
        }
        for surprise in &self.surprises {
            out.push_str(&format!("  unexpected answer: {surprise}\n"));
        }
        out.push_str(if self.passed() {
            "SOAK PASSED\n"
        } else {
            "SOAK FAILED\n"
        });
        out
    }
}

/// Why a soak could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The configuration or the store.
    #[error("{0}")]
    Setup(String),
    /// A patient could not sign in.
    #[error("signing in: {0}")]
    SignIn(String),
}

/// Runs the soak against the portal at `options.base_url`, whose store `config` names (the
/// configuration of `make run`: `PORTAL_STORE`, `PORTAL_DATA_DIR`, …).
///
/// # Errors
/// When seeding, signing in or reading the store fails (not for what the checks find: see
/// [`Outcome::passed`]).
pub async fn run(config: &Config, options: &Options) -> Result<Outcome, SoakError> {
    let store = shared::boot::connect_store(config)
        .await
        .map_err(|e| SoakError::Setup(format!("opening the store: {e}")))?;
    let app = seed::app(&store, &options.base_url).await?;
    let stats = Arc::new(Stats::default());
    let mut patients = Vec::new();
    for number in 0..options.clients {
        let account = seed::account(&store).await?;
        patients.push(Patient::new(
            &options.base_url,
            app.clone(),
            account,
            stats.clone(),
            options.seed + number as u64,
        )?);
    }
    // Every session first (the sign-in pages once per patient), then the load together.
    for patient in &mut patients {
        patient.sign_in().await?;
    }
    let deadline = Instant::now() + options.duration;
    let tasks: Vec<_> = patients
        .into_iter()
        .map(|mut patient| {
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    patient.act().await;
                }
                patient
            })
        })
        .collect();
    let mut grants: BTreeMap<String, GrantSeen> = BTreeMap::new();
    let mut surprises = Vec::new();
    let mut actions = 0;
    for task in tasks {
        let patient = task
            .await
            .map_err(|e| SoakError::Setup(format!("a patient's task failed: {e}")))?;
        actions += patient.actions;
        grants.extend(patient.grants);
        surprises.extend(patient.surprises);
    }
    surprises.truncate(50);
    let expected = Expected {
        mails: seed::sent_message_ids(config).await?,
        grants,
        all_dispatched: true,
        now: shared::store::now_unix(),
    };
    let items = seed::snapshot(config).await?;
    let invariants = invariants::check(&items, &expected);
    Ok(Outcome {
        stats,
        surprises,
        invariants,
        actions,
    })
}
