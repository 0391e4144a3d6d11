//! The second factor of a sign-in, and setting one up: no HTTP here; the `authorize` function maps
//! the outcomes to pages.
//!
//! Sign-in: a patient with an authenticator app who entered the right password gets no session
//! yet. The proof that the password was right travels sealed ([`PendingSignIn`], five minutes) to
//! the code page, and only a right code (TOTP or recovery code) starts the session, with
//! `amr = pwd otp mfa` (`acr` loa:2). A session made with the password alone (the patient set up
//! the app later, or has none) reaches loa:2 on the same page ("step-up"): the code upgrades it
//! in place.
//!
//! Codes are throttled like passwords, through the same counters (the address, and the account
//! under its own name `second-factor:{patient_id}`): a wrong code is a failed attempt, a right one
//! gives its attempt back. A TOTP step is accepted once (the store's conditional write, see
//! [`SecondFactorRepo`]); a recovery code once (its deletion).
//!
//! Enrolment: the page offers a fresh secret sealed into the form ([`Purpose::TotpEnrolment`],
//! 15 minutes), so nothing is stored until a code from the app confirms it; then the secret and
//! ten recovery codes are stored in one transaction and the codes are shown once. Removal needs a
//! current code, or the password and a recovery code.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::flow_error::PageError;
use crate::boot::Context;
use crate::crypto;
use crate::domain::assurance::Amr;
use crate::domain::password::verify_password;
use crate::domain::patient::{Email, PatientId};
use crate::domain::recovery_codes;
use crate::domain::totp::{qr_svg, TotpSecret};
use crate::keys::{Keys, Purpose};
use crate::metrics::{self, Counter};
use crate::repo::sessions::SESSION_TTL;
use crate::repo::{
    Attempt, Credentials, EnrolError, PatientRepo, RepoError, SecondFactorRepo, Session,
    SessionRepo, ThrottleRepo,
};
use crate::store::{layout, now_unix};

/// A sign-in whose password was right, waiting for the second factor (sealed into the code page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// Who signed in.
    pub patient_id: PatientId,
    /// Their address (the credentials are read again by it when the code is right).
    pub email: String,
    /// SHA-256 of the password hash the password was checked against: a password reset between
    /// the password and the code voids the sign-in.
    pub credentials: String,
    /// When the password was entered (the session's `auth_time`).
    pub auth_time: i64,
    /// When this stops being accepted.
    pub expires_at: i64,
}

/// An authenticator-app secret on offer, until a code confirms it (sealed into the form).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct OfferedSecret {
    patient_id: PatientId,
    secret: String,
    expires_at: i64,
}

/// Recovery codes just handed out, sealed into the language switch of the page that shows them
/// (so the page can be shown again in another language without storing them readable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ShownCodes {
    patient_id: PatientId,
    codes: Vec<String>,
    expires_at: i64,
}

/// The result of a code typed on the code page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the second factor is done.
    Accepted,
    /// Not a right TOTP or unused recovery code.
    Wrong,
    /// A right TOTP code whose step was already used (a replay, or a second sign-in within 30 s).
    Replayed,
    /// Too many failures: try again after this many seconds.
    Locked {
        /// Seconds until the lock lifts.
        retry_after: u64,
    },
    /// The patient has no authenticator app (removed meanwhile, or never set up).
    NotEnrolled,
}

/// What the enrolment page shows.
#[derive(Clone, Debug)]
pub struct Offer {
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// The secret in base32, for typing into an app by hand.
    pub secret: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
    /// The sealed offer for the hidden field.
    pub sealed: String,
}

/// The result of confirming an enrolment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrolment {
    /// Stored: the recovery codes, to show once.
    Enrolled(Vec<String>),
    /// The code does not match the offered secret.
    WrongCode,
    /// The patient already has an authenticator app.
    AlreadyEnrolled,
    /// The offer is altered, someone else's, or expired.
    Expired,
    /// Too many failures.
    Locked {
        /// Seconds until the lock lifts.
        retry_after: u64,
    },
}

/// The result of asking to remove the authenticator app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Removed, with every recovery code.
    Removed,
    /// Neither a current code nor the password with a recovery code was right.
    Refused,
    /// There was nothing to remove.
    NotEnrolled,
    /// Too many failures.
    Locked {
        /// Seconds until the lock lifts.
        retry_after: u64,
    },
}

/// The second-factor flows over a function's context.
#[derive(Clone)]
pub struct SecondFactors {
    keys: Arc<Keys>,
    factors: SecondFactorRepo,
    patients: PatientRepo,
    sessions: SessionRepo,
    throttle: ThrottleRepo,
}

impl SecondFactors {
    /// The flows over a function's init state.
    pub fn new(context: &Context) -> Self {
        Self {
            keys: context.keys.clone(),
            factors: SecondFactorRepo::new(context.store.clone()),
            patients: PatientRepo::new(context.store.clone()),
            sessions: SessionRepo::new(context.store.clone()),
            throttle: ThrottleRepo::new(context.store.clone()),
        }
    }

    /// Whether the patient has an authenticator app. One round trip.
    pub async fn enrolled(&self, patient_id: &PatientId) -> Result<bool, PageError> {
        Ok(self.factors.totp(patient_id).await?.is_some())
    }

    /// How many unused recovery codes the patient has. One round trip.
    pub async fn recovery_codes_left(&self, patient_id: &PatientId) -> Result<usize, PageError> {
        Ok(self.factors.recovery_codes_left(patient_id).await?)
    }

    /// Seals the proof that `credentials`' password was right at `auth_time`.
    pub fn seal_pending(
        &self,
        credentials: &Credentials,
        auth_time: i64,
    ) -> Result<String, PageError> {
        let pending = PendingSignIn {
            patient_id: credentials.patient_id.clone(),
            email: credentials.email.as_str().to_owned(),
            credentials: crypto::sha256_b64url(credentials.password_hash.as_bytes()),
            auth_time,
            expires_at: now_unix() + Purpose::SecondFactor.max_lifetime_secs(),
        };
        self.keys
            .current()
            .sealer(Purpose::SecondFactor)
            .seal_json(&pending)
            .map_err(|error| {
                tracing::error!(cause = %error, "sealing a pending sign-in failed");
                PageError::Internal
            })
    }

    /// Opens a sealed pending sign-in; altered or expired ones are [`PageError::RequestExpired`].
    pub async fn open_pending(&self, sealed: &str) -> Result<PendingSignIn, PageError> {
        let pending: PendingSignIn = self
            .keys
            .for_sealed(Purpose::SecondFactor, sealed)
            .await
            .sealer(Purpose::SecondFactor)
            .open_json(sealed)
            .map_err(|_| PageError::RequestExpired)?;
        if now_unix() >= pending.expires_at {
            return Err(PageError::RequestExpired);
        }
        Ok(pending)
    }

    /// Checks a code (TOTP or recovery code) of the patient, typed from address `ip`. Round
    /// trips: the throttle, the secret, the step or recovery code, and giving the attempt back.
    pub async fn check_code(
        &self,
        patient_id: &PatientId,
        code: &str,
        ip: &str,
    ) -> Result<CodeCheck, PageError> {
        let reservation = match self
            .throttle
            .reserve(&throttle_account(patient_id), ip)
            .await?
        {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { retry_after } => {
                metrics::count(Counter::SignInThrottled);
                return Ok(CodeCheck::Locked { retry_after });
            }
        };
        let Some(totp) = self.factors.totp(patient_id).await? else {
            return Ok(CodeCheck::NotEnrolled);
        };
        let outcome = if let Some(step) = totp.secret.matching_step(code, now_unix()) {
            if self.factors.accept_step(patient_id, step).await? {
                CodeCheck::Accepted
            } else {
                CodeCheck::Replayed
            }
        } else {
            match recovery_codes::hash(code) {
                Some(hash) if self.factors.use_recovery_code(patient_id, &hash).await? => {
                    tracing::info!("a recovery code was used");
                    CodeCheck::Accepted
                }
                _ => CodeCheck::Wrong,
            }
        };
        if outcome == CodeCheck::Accepted {
            self.throttle.succeeded(&reservation).await?;
        } else {
            tracing::info!("failed second factor");
            metrics::count(Counter::SignInFailed);
        }
        Ok(outcome)
    }

    /// Starts the session of a pending sign-in whose code was right (ending the browser's
    /// previous session, if any): the raw id for the cookie and the session. A password reset
    /// since the password was entered voids it ([`PageError::RequestExpired`]).
    pub async fn complete(
        &self,
        pending: &PendingSignIn,
        previous_sid: Option<&str>,
    ) -> Result<(String, Session), PageError> {
        let email = Email::parse(&pending.email).map_err(|_| PageError::RequestExpired)?;
        let credentials = self
            .patients
            .credentials_by_email(&email)
            .await?
            .filter(|c| {
                c.patient_id == pending.patient_id
                    && crypto::constant_time_eq(
                        crypto::sha256_b64url(c.password_hash.as_bytes()).as_bytes(),
                        pending.credentials.as_bytes(),
                    )
            })
            .ok_or(PageError::RequestExpired)?;
        if let Some(previous) = previous_sid {
            if let Err(error) = self.sessions.delete(previous).await {
                tracing::warn!(cause = %error, "could not end the previous session");
            }
        }
        let amr = Amr::password_and_code();
        let sid = match self
            .sessions
            .create_with(&credentials, pending.auth_time, &amr, SESSION_TTL)
            .await
        {
            Ok(sid) => sid,
            Err(RepoError::NotFound) => return Err(PageError::RequestExpired),
            Err(other) => return Err(other.into()),
        };
        metrics::count(Counter::SignInOk);
        let session = Session {
            sid: layout::session_public_id(&sid),
            patient_id: credentials.patient_id,
            auth_time: pending.auth_time,
            amr,
            expires_at: now_unix().saturating_add(SESSION_TTL.as_secs() as i64),
        };
        Ok((sid, session))
    }

    /// Raises a password session (raw id `raw_sid`) to two factors after a right code.
    pub async fn upgrade(&self, raw_sid: &str, session: &Session) -> Result<Session, PageError> {
        let amr = Amr::password_and_code();
        match self.sessions.upgrade(raw_sid, &amr).await {
            Ok(()) => Ok(Session {
                amr,
                ..session.clone()
            }),
            Err(RepoError::NotFound) => Err(PageError::RequestExpired),
            Err(other) => Err(other.into()),
        }
    }

    /// A fresh secret on offer to the patient (address `email`, the account name in the app).
    pub fn offer(&self, patient_id: &PatientId, email: &str) -> Result<Offer, PageError> {
        let secret = TotpSecret::generate();
        let offered = OfferedSecret {
            patient_id: patient_id.clone(),
            secret: secret.to_base32(),
            expires_at: now_unix() + Purpose::TotpEnrolment.max_lifetime_secs(),
        };
        let sealed = self.seal(Purpose::TotpEnrolment, &offered)?;
        Self::offer_of(&secret, email, sealed)
    }

    /// The same offer again (a wrong code, or the page in another language): `None` when `sealed`
    /// is not a live offer to this patient.
    pub async fn reoffer(
        &self,
        patient_id: &PatientId,
        sealed: &str,
        email: &str,
    ) -> Result<Option<Offer>, PageError> {
        let Some(offered) = self.open_offer(patient_id, sealed).await else {
            return Ok(None);
        };
        let secret = TotpSecret::from_base32(&offered.secret).map_err(|_| PageError::Internal)?;
        Self::offer_of(&secret, email, sealed.to_owned()).map(Some)
    }

    /// Seals recovery codes just shown, for the language switch of their page.
    pub fn seal_codes(
        &self,
        patient_id: &PatientId,
        codes: &[String],
    ) -> Result<String, PageError> {
        let shown = ShownCodes {
            patient_id: patient_id.clone(),
            codes: codes.to_vec(),
            expires_at: now_unix() + Purpose::TotpEnrolment.max_lifetime_secs(),
        };
        self.seal(Purpose::TotpEnrolment, &shown)
    }

    /// The codes [`SecondFactors::seal_codes`] sealed, if still live and this patient's.
    pub async fn open_codes(&self, patient_id: &PatientId, sealed: &str) -> Option<Vec<String>> {
        let shown: ShownCodes = self
            .keys
            .for_sealed(Purpose::TotpEnrolment, sealed)
            .await
            .sealer(Purpose::TotpEnrolment)
            .open_json(sealed)
            .ok()?;
        (shown.patient_id == *patient_id && now_unix() < shown.expires_at).then_some(shown.codes)
    }

    fn seal(&self, purpose: Purpose, value: &impl Serialize) -> Result<String, PageError> {
        self.keys
            .current()
            .sealer(purpose)
            .seal_json(value)
            .map_err(|error| {
                tracing::error!(cause = %error, %purpose, "sealing failed");
                PageError::Internal
            })
    }

    async fn open_offer(&self, patient_id: &PatientId, sealed: &str) -> Option<OfferedSecret> {
        let offered: OfferedSecret = self
            .keys
            .for_sealed(Purpose::TotpEnrolment, sealed)
            .await
            .sealer(Purpose::TotpEnrolment)
            .open_json(sealed)
            .ok()?;
        (offered.patient_id == *patient_id && now_unix() < offered.expires_at).then_some(offered)
    }

    fn offer_of(secret: &TotpSecret, email: &str, sealed: String) -> Result<Offer, PageError> {
        let uri = secret.uri(email);
        let qr_svg = qr_svg(&uri).ok_or(PageError::Internal)?;
        Ok(Offer {
            uri,
            secret: secret.to_base32(),
            qr_svg,
            sealed,
        })
    }

    /// Confirms the offer `sealed` with a code from the app: stores the secret and ten recovery
    /// codes (one transaction) and returns the codes. Wrong codes count towards the throttle.
    pub async fn enrol(
        &self,
        patient_id: &PatientId,
        sealed: &str,
        code: &str,
        ip: &str,
    ) -> Result<Enrolment, PageError> {
        let Some(offered) = self.open_offer(patient_id, sealed).await else {
            return Ok(Enrolment::Expired);
        };
        let secret = TotpSecret::from_base32(&offered.secret).map_err(|_| PageError::Internal)?;
        let reservation = match self
            .throttle
            .reserve(&throttle_account(patient_id), ip)
            .await?
        {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { retry_after } => return Ok(Enrolment::Locked { retry_after }),
        };
        let Some(step) = secret.matching_step(code, now_unix()) else {
            return Ok(Enrolment::WrongCode);
        };
        let codes = recovery_codes::generate();
        let hashes: Vec<String> = codes
            .iter()
            .filter_map(|c| recovery_codes::hash(c))
            .collect();
        match self.factors.enrol(patient_id, &secret, step, &hashes).await {
            Ok(()) => {}
            Err(EnrolError::AlreadyEnrolled) => return Ok(Enrolment::AlreadyEnrolled),
            Err(EnrolError::StepUsed) => return Ok(Enrolment::WrongCode),
            Err(EnrolError::Repo(error)) => return Err(error.into()),
        }
        self.throttle.succeeded(&reservation).await?;
        tracing::info!("authenticator app set up");
        Ok(Enrolment::Enrolled(codes))
    }

    /// Removes the patient's authenticator app (and recovery codes) if `code` is a current TOTP
    /// code, or `password` is theirs and `recovery_code` one of their unused recovery codes.
    pub async fn remove(
        &self,
        patient_id: &PatientId,
        code: &str,
        password: &str,
        recovery_code: &str,
        ip: &str,
    ) -> Result<Removal, PageError> {
        let reservation = match self
            .throttle
            .reserve(&throttle_account(patient_id), ip)
            .await?
        {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { retry_after } => return Ok(Removal::Locked { retry_after }),
        };
        let Some(totp) = self.factors.totp(patient_id).await? else {
            return Ok(Removal::NotEnrolled);
        };
        let proven = if !code.trim().is_empty() {
            match totp.secret.matching_step(code, now_unix()) {
                Some(step) => self.factors.accept_step(patient_id, step).await?,
                None => false,
            }
        } else if !password.is_empty()
            && password_is_right(&self.patients, patient_id, password).await?
        {
            match recovery_codes::hash(recovery_code) {
                Some(hash) => self.factors.use_recovery_code(patient_id, &hash).await?,
                None => false,
            }
        } else {
            false
        };
        if !proven {
            metrics::count(Counter::SignInFailed);
            return Ok(Removal::Refused);
        }
        self.throttle.succeeded(&reservation).await?;
        if self.factors.remove(patient_id).await? {
            tracing::info!("authenticator app removed");
            Ok(Removal::Removed)
        } else {
            Ok(Removal::NotEnrolled)
        }
    }
}

/// The throttle's account name for second-factor attempts of a patient.
fn throttle_account(patient_id: &PatientId) -> String {
    format!("second-factor:{}", patient_id.as_str())
}

/// Whether `password` is the patient's current password (re-authentication before removing a
/// factor). Round trips: the profile and the credentials.
pub(crate) async fn password_is_right(
    patients: &PatientRepo,
    patient_id: &PatientId,
    password: &str,
) -> Result<bool, PageError> {
    let Some(patient) = patients.get(patient_id).await? else {
        return Ok(false);
    };
    let Some(credentials) = patients.credentials_by_email(&patient.email).await? else {
        return Ok(false);
    };
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || verify_password(&credentials.password_hash, &password))
        .await
        .map_err(|error| {
            tracing::error!(cause = %error, "password verification task failed");
            PageError::Internal
        })
}
