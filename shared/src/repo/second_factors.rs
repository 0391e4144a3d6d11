//! A patient's second factor: the authenticator app (TOTP) secret ([`layout::totp`]), the last
//! accepted step ([`layout::totp_step`]) and the unused recovery codes ([`layout::recovery_code`]),
//! all in the patient's partition (so deleting the account deletes them).
//!
//! Every rule that must hold under concurrency is one conditional write:
//! - a step is accepted once: accepting raises `step` with a write guarded by "the stored step is
//!   below this one", so of two requests with the same code (or a replay) exactly one passes, and
//!   an older code is refused once a newer one was used;
//! - a recovery code is used once: using it deletes it, guarded by its existence;
//! - enrolment is one transaction: the secret (guarded by "no authenticator yet"), the first
//!   step, and the ten recovery codes — all or nothing.
//!
//! The secret is stored as it is: TOTP needs it to compute codes, so it cannot be hashed like the
//! recovery codes; it is protected by the table's encryption at rest and the function roles that
//! can read the partition.

use std::sync::Arc;

use super::{corrupt, RepoError};
use crate::domain::patient::PatientId;
use crate::domain::totp::{TotpSecret, STEP_SECS};
use crate::store::{layout, now_unix, Condition, Item, Key, Store, StoreError, Update, Write};

/// Most recovery codes a patient can hold (an enrolment hands out ten).
const MAX_RECOVERY_CODES: u32 = 20;

/// A confirmed authenticator app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpRecord {
    /// Its secret.
    pub secret: TotpSecret,
    /// When it was confirmed, unix seconds.
    pub created_at: i64,
}

/// Why an enrolment was not stored.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// The patient already has an authenticator app.
    #[error("an authenticator app is already set up")]
    AlreadyEnrolled,
    /// The code's step was already accepted (a replayed code).
    #[error("this code was already used")]
    StepUsed,
    /// Storage failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// Second factors, by patient.
#[derive(Clone)]
pub struct SecondFactorRepo {
    store: Arc<dyn Store>,
}

impl SecondFactorRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The patient's authenticator app, if any. One round trip.
    pub async fn totp(&self, patient_id: &PatientId) -> Result<Option<TotpRecord>, RepoError> {
        let Some(item) = self.store.get(&layout::totp(patient_id.as_str())).await? else {
            return Ok(None);
        };
        let secret = TotpSecret::from_base32(item.string("secret")?)
            .map_err(|error| corrupt(&item.key, error))?;
        Ok(Some(TotpRecord {
            secret,
            created_at: item.number("created_at")?,
        }))
    }

    /// Stores a confirmed authenticator app, the step its confirming code was for, and the
    /// hashes of its recovery codes. One transaction.
    pub async fn enrol(
        &self,
        patient_id: &PatientId,
        secret: &TotpSecret,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<(), EnrolError> {
        let now = now_unix();
        let id = patient_id.as_str();
        let mut writes = vec![
            Write::Put {
                item: Item::new(layout::totp(id))
                    .with("secret", secret.to_base32())
                    .with("created_at", now),
                condition: Condition::NotExists,
            },
            step_write(id, step),
        ];
        writes.extend(recovery_hashes.iter().map(|hash| Write::Put {
            item: Item::new(layout::recovery_code(id, hash)).with("created_at", now),
            condition: Condition::None,
        }));
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionFailed { index: 0, .. }) => Err(EnrolError::AlreadyEnrolled),
            Err(StoreError::TransactionFailed { index: 1, .. }) => Err(EnrolError::StepUsed),
            Err(other) => Err(RepoError::from(other).into()),
        }
    }

    /// Accepts TOTP step `step` for the patient if no step at or after it was accepted before:
    /// `false` for a replay. One round trip.
    pub async fn accept_step(&self, patient_id: &PatientId, step: i64) -> Result<bool, RepoError> {
        let (key, update, condition) = step_guard(patient_id.as_str(), step);
        match self.store.update(&key, update, condition).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Uses up the recovery code with hash `code_hash`: `false` if the patient has no such unused
    /// code. One round trip.
    pub async fn use_recovery_code(
        &self,
        patient_id: &PatientId,
        code_hash: &str,
    ) -> Result<bool, RepoError> {
        let key = layout::recovery_code(patient_id.as_str(), code_hash);
        match self.store.delete(&key, Condition::Exists).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// How many unused recovery codes the patient has. One round trip.
    pub async fn recovery_codes_left(&self, patient_id: &PatientId) -> Result<usize, RepoError> {
        let page = self
            .store
            .query(layout::recovery_codes(
                patient_id.as_str(),
                MAX_RECOVERY_CODES,
            ))
            .await?;
        Ok(page.items.len())
    }

    /// Removes the authenticator app and every recovery code: `false` if there was none. Two
    /// round trips (the codes' query, then one transaction).
    pub async fn remove(&self, patient_id: &PatientId) -> Result<bool, RepoError> {
        let id = patient_id.as_str();
        let codes = self
            .store
            .query(layout::recovery_codes(id, MAX_RECOVERY_CODES))
            .await?;
        let mut writes = vec![Write::Delete {
            key: layout::totp(id),
            condition: Condition::Exists,
        }];
        writes.extend(codes.items.into_iter().map(|item| Write::Delete {
            key: item.key,
            condition: Condition::None,
        }));
        match self.store.transact(writes).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionFailed { index: 0, .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}

/// Raises the patient's last accepted step to `step`, if it is below it (or unset, or expired:
/// the record only needs to outlive the steps a code can still be accepted for).
fn step_guard(patient_id: &str, step: i64) -> (Key, Update, Condition) {
    (
        layout::totp_step(patient_id),
        Update::default()
            .set("step", step)
            .expire_at((step + 3) * STEP_SECS),
        Condition::Below("step".into(), step),
    )
}

fn step_write(patient_id: &str, step: i64) -> Write {
    let (key, update, condition) = step_guard(patient_id, step);
    Write::Update {
        key,
        update,
        condition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn repo() -> (tempfile::TempDir, SecondFactorRepo) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        (dir, SecondFactorRepo::new(store))
    }

    #[tokio::test]
    async fn an_enrolment_stores_the_secret_and_codes_and_cannot_happen_twice() {
        let (_dir, repo) = repo();
        let patient = PatientId::generate();
        let secret = TotpSecret::generate();
        let step = crate::domain::totp::step_of(now_unix());
        let hashes: Vec<String> = (0..10).map(|i| format!("h{i}")).collect();
        repo.enrol(&patient, &secret, step, &hashes).await.unwrap();
        assert_eq!(repo.totp(&patient).await.unwrap().unwrap().secret, secret);
        assert_eq!(repo.recovery_codes_left(&patient).await.unwrap(), 10);
        let again = repo.enrol(&patient, &secret, step + 1, &hashes).await;
        assert!(
            matches!(again, Err(EnrolError::AlreadyEnrolled)),
            "{again:?}"
        );
        assert!(
            !repo.accept_step(&patient, step).await.unwrap(),
            "the confirming step is used"
        );
        assert!(repo.accept_step(&patient, step + 1).await.unwrap());
        assert!(repo.remove(&patient).await.unwrap());
        assert!(repo.totp(&patient).await.unwrap().is_none());
        assert_eq!(repo.recovery_codes_left(&patient).await.unwrap(), 0);
        assert!(!repo.remove(&patient).await.unwrap());
    }
}
