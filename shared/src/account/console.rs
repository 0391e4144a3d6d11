//! The account console's state and the rules every one of its actions shares (what the page
//! shows is [`super::overview`]).
//!
//! - Who: the patient the session cookie names, with a session started at most
//!   [`FRESH_SESSION_SECS`] ago. The page shows health-adjacent personal data and every form on
//!   it changes the account, so a session an app's sign-in left in the browser hours ago is not
//!   enough: the patient signs in again (and lands back on `/account`).
//! - The weightiest actions (password change, deleting the account) also ask for the current
//!   password; those checks count against the login throttle like a sign-in does, so a stolen
//!   session cannot be used to guess the password.
//! - Every query is keyed by the session's patient: nothing another patient owns can be reached.

use crate::audit::AuditLog;
use crate::booking::video::VideoLinks;
use crate::booking::{BookingRepo, BookingService};
use crate::boot::Context;
use crate::domain::password::{verify_dummy, verify_password};
use crate::domain::patient::Patient;
use crate::metrics::{self, Counter};
use crate::oauth::flow_error::PageError;
use crate::repo::{
    Attempt, ClientRepo, ConsentRepo, Credentials, GrantRepo, PasskeyRepo, PatientRepo,
    SecondFactorRepo, Session, SessionRepo, ThrottleRepo,
};
use crate::store::now_unix;

/// How long after entering the password a session may use the account page.
pub const FRESH_SESSION_SECS: i64 = 30 * 60;

/// Why a form was not acted on: the form field at fault and the catalog message telling the
/// patient what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The field (`given_name`, `current_password`, ...).
    pub field: &'static str,
    /// Catalog message id.
    pub message: &'static str,
}

impl Rejected {
    /// The refusal of `field` with catalog message `message`.
    pub const fn new(field: &'static str, message: &'static str) -> Self {
        Self { field, message }
    }
}

/// The outcome of a form: done, or refused with a reason for the patient.
pub type FormResult<T> = Result<Result<T, Rejected>, PageError>;

/// The account page's flows over a function's init state.
pub struct AccountConsole {
    pub(super) patients: PatientRepo,
    pub(super) sessions: SessionRepo,
    pub(super) consents: ConsentRepo,
    pub(super) grants: GrantRepo,
    pub(super) clients: ClientRepo,
    pub(super) throttle: ThrottleRepo,
    pub(super) audit: AuditLog,
    pub(super) booking: BookingService,
    pub(super) second_factors: SecondFactorRepo,
    pub(super) passkeys: PasskeyRepo,
}

impl AccountConsole {
    /// The flows over `context`.
    pub fn new(context: &Context) -> Self {
        let store = context.store.clone();
        Self {
            patients: PatientRepo::new(store.clone()),
            sessions: SessionRepo::new(store.clone()),
            consents: ConsentRepo::new(store.clone()),
            grants: GrantRepo::new(store.clone()),
            clients: ClientRepo::new(store.clone()),
            second_factors: SecondFactorRepo::new(store.clone()),
            passkeys: PasskeyRepo::new(store.clone()),
            throttle: ThrottleRepo::new(store.clone()),
            audit: context.audit_log(),
            booking: BookingService::new(
                BookingRepo::new(store),
                context.keys.clone(),
                context.config.issuer_str(),
                VideoLinks::new(context.config.video_base_url.clone()),
            ),
        }
    }

    /// The session a cookie names if it may use the account page (live, and fresh: see the
    /// module documentation); `None` sends the patient to sign in. One read.
    pub async fn session(&self, cookie: Option<&str>) -> Result<Option<Session>, PageError> {
        let Some(raw) = cookie else {
            return Ok(None);
        };
        let session = self.sessions.get(raw).await?;
        Ok(session.filter(|session| is_fresh(session, now_unix())))
    }

    /// The patient of a session; `None` once the account is gone (its other sessions may
    /// outlive it by a moment). One read.
    pub async fn patient(&self, session: &Session) -> Result<Option<Patient>, PageError> {
        Ok(self.patients.get(&session.patient_id).await?)
    }

    /// Checks the session's patient's current password, throttled like a sign-in from `ip`.
    /// `Ok(Ok((patient, credentials)))` when it is right; a wrong or throttled password is
    /// refused as `field`.
    pub async fn confirm_password(
        &self,
        session: &Session,
        password: &str,
        ip: &str,
        field: &'static str,
    ) -> FormResult<(Patient, Credentials)> {
        if password.is_empty() {
            return Ok(Err(Rejected::new(field, "console-password-missing")));
        }
        let Some(patient) = self.patient(session).await? else {
            return Err(PageError::RequestExpired);
        };
        let account = patient.email.lookup_key();
        let reservation = match self.throttle.reserve(&account, ip).await? {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { .. } => {
                metrics::count(Counter::SignInThrottled);
                return Ok(Err(Rejected::new(field, "login-too-many-attempts")));
            }
        };
        let credentials = self
            .patients
            .credentials_by_email(&patient.email)
            .await?
            .filter(|credentials| credentials.patient_id == patient.id);
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || match credentials {
            Some(credentials) => {
                verify_password(&credentials.password_hash, &password).then_some(credentials)
            }
            None => {
                verify_dummy(&password);
                None
            }
        })
        .await
        .map_err(|error| {
            tracing::error!(cause = %error, "password verification task failed");
            PageError::Internal
        })?;
        let Some(credentials) = verified else {
            tracing::info!("wrong current password on the account page");
            metrics::count(Counter::SignInFailed);
            return Ok(Err(Rejected::new(field, "console-password-wrong")));
        };
        self.throttle.succeeded(&reservation).await?;
        Ok(Ok((patient, credentials)))
    }
}

/// Whether a session may use the account page at `now` (see [`FRESH_SESSION_SECS`]).
pub fn is_fresh(session: &Session, now: i64) -> bool {
    now.saturating_sub(session.auth_time) <= FRESH_SESSION_SECS && session.expires_at > now
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patient::PatientId;

    fn session(auth_time: i64) -> Session {
        Session {
            sid: "s".into(),
            patient_id: PatientId::generate(),
            auth_time,
            amr: Default::default(),
            expires_at: auth_time + 12 * 3600,
        }
    }

    #[test]
    fn a_session_is_fresh_for_half_an_hour_after_the_password() {
        assert!(is_fresh(&session(1_000), 1_000));
        assert!(is_fresh(&session(1_000), 1_000 + FRESH_SESSION_SECS));
        assert!(!is_fresh(&session(1_000), 1_001 + FRESH_SESSION_SECS));
        let mut ended = session(1_000);
        ended.expires_at = 1_010;
        assert!(!is_fresh(&ended, 1_010));
    }
}
