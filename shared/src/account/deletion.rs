//! Deleting an account (GDPR Art. 17), confirmed with the password.
//!
//! Order, so that every step before the point of no return can simply be repeated and nothing
//! after it needs the patient:
//! 1. the password (throttled like a sign-in);
//! 2. every upcoming booked appointment is cancelled through the booking service, each in its own
//!    transaction that frees the slot and, for types with an ASAP list, writes the outbox record
//!    (deployed, the table's stream hands it to the `asap` function as for any cancellation);
//! 3. every consent is withdrawn, with a tombstone that outlives any code or refresh token issued
//!    under it ([`DELETED_ACCOUNT_TOMBSTONE_SECS`]), and every grant is deleted: apps lose access
//!    at once, and introspection reports their tokens inactive;
//! 4. the profile and the email index go in ONE transaction, only if the credentials are still
//!    the ones the password was checked against: from here nobody signs in with them, and the
//!    address can register again;
//! 5. every session ends and the rest of the patient's partition (past and cancelled
//!    appointments, session list, booking limits) is deleted.
//!
//! What stays: the audit log of apps' access (its own partition, keyed by the random patient id,
//! never holding a name or an address) until its retention ends, because access to health data
//! must stay traceable; and the deletion's own log line, which names the random id and counts,
//! nothing personal.

use super::console::{AccountConsole, FormResult};
use crate::booking::AppointmentStatus;
use crate::domain::patient::PatientId;
use crate::oauth::flow_error::PageError;
use crate::repo::consents::DELETED_ACCOUNT_TOMBSTONE_SECS;
use crate::repo::{RepoError, Session};
use crate::store::now_unix;

/// Appointments (or partition items) read per page while deleting.
const PAGE: u32 = 100;

/// What deleting an account did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Upcoming appointments cancelled (their slots freed).
    pub appointments_cancelled: usize,
    /// Apps whose consent was withdrawn.
    pub consents_withdrawn: usize,
    /// Grants (refresh-token families) deleted.
    pub grants_deleted: usize,
    /// Sign-in sessions ended.
    pub sessions_ended: usize,
}

impl AccountConsole {
    /// Deletes the session's patient's account once `password` is confirmed (see the module
    /// documentation for the steps).
    pub async fn delete_account(
        &self,
        session: &Session,
        password: &str,
        ip: &str,
    ) -> FormResult<Deleted> {
        let (patient, credentials) = match self
            .confirm_password(session, password, ip, "delete_password")
            .await?
        {
            Ok(confirmed) => confirmed,
            Err(rejected) => return Ok(Err(rejected)),
        };
        let id = &patient.id;
        let now = now_unix();
        let appointments_cancelled = self.cancel_upcoming(id, now).await?;
        let consents = self.consents.of_patient(id).await?;
        let tombstone = now + DELETED_ACCOUNT_TOMBSTONE_SECS;
        for consent in &consents {
            self.consents
                .withdraw(id, &consent.client_id, Some(tombstone))
                .await?;
        }
        let grants_deleted = self.grants.delete_all(id).await?;
        match self.patients.delete(&credentials).await {
            Ok(()) => {}
            // The password changed since it was checked: nothing personal is gone yet.
            Err(RepoError::NotFound) => return Err(PageError::RequestExpired),
            Err(other) => return Err(other.into()),
        }
        let sessions_ended = self.sessions.end_all(id, None).await?;
        self.delete_partition(id).await?;
        let deleted = Deleted {
            appointments_cancelled,
            consents_withdrawn: consents.len(),
            grants_deleted,
            sessions_ended,
        };
        tracing::info!(
            patient_id = %id,
            appointments_cancelled,
            consents_withdrawn = deleted.consents_withdrawn,
            grants_deleted,
            sessions_ended,
            "account deleted"
        );
        Ok(Ok(deleted))
    }

    /// Cancels every upcoming booked appointment of the patient; returns how many.
    async fn cancel_upcoming(&self, id: &PatientId, now: i64) -> Result<usize, PageError> {
        let mut cancelled = 0;
        let mut cursor: Option<String> = None;
        loop {
            let (appointments, next) = self
                .booking
                .repo()
                .list(id, PAGE, cursor.as_deref())
                .await
                .map_err(booking_failure)?;
            for appointment in appointments
                .iter()
                .filter(|a| a.status == AppointmentStatus::Booked && a.starts_at > now)
            {
                self.booking
                    .cancel_for_deletion(appointment, now)
                    .await
                    .map_err(booking_failure)?;
                cancelled += 1;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(cancelled),
            }
        }
    }

    /// Deletes what is left in the patient's partition, a page at a time.
    async fn delete_partition(&self, id: &PatientId) -> Result<(), PageError> {
        loop {
            let keys = self.patients.partition_keys(id, PAGE).await?;
            if keys.is_empty() {
                return Ok(());
            }
            self.patients.delete_keys(keys).await?;
        }
    }
}

fn booking_failure(error: crate::booking::BookingError) -> PageError {
    tracing::error!(cause = %error, "cancelling appointments for an account deletion failed");
    PageError::Unavailable
}
