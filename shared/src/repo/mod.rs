//! Repositories: the domain's records on top of the storage port.
//!
//! Together with the booking and ASAP records ([`crate::booking::repo`],
//! [`crate::booking::subscriptions`], [`crate::booking::outbox`], [`crate::asap::notifier`]), these
//! are the only modules that read or write items. Each holds an `Arc<dyn Store>` and offers the few
//! operations the functions need, each sized to one storage round trip unless its documentation
//! says otherwise. Their keys (clients, patient profiles, the email index, sessions, consents, login
//! throttling, account action limits, second factors, grants, revoked access tokens) come from [`crate::store::layout`], the data model in
//! one page.

pub mod clients;
pub mod consents;
pub mod grants;
pub mod limits;
pub mod passkeys;
pub mod patients;
pub mod reads;
pub mod second_factors;
pub mod sessions;
pub mod throttle;

pub use clients::ClientRepo;
pub use consents::{ConsentRecord, ConsentRepo};
pub use grants::{
    ApprovedAt, ClientCheck, Grant, GrantError, GrantId, GrantRepo, InvalidGrantId,
    RevokedTokenRepo,
};
pub use limits::{LimitRepo, Subject};
pub use passkeys::{Ceremony, CeremonyKind, PasskeyRecord, PasskeyRepo, PasskeyUse};
pub use patients::{Credentials, EmailChange, PatientRepo, Verification};
pub use reads::{read_pair, Fetched, Read};
pub use second_factors::{EnrolError, SecondFactorRepo, TotpRecord};
pub use sessions::{Session, SessionRepo};
pub use throttle::{Attempt, Reservation, ThrottleRepo};

use crate::store::StoreError;

/// What a repository operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The record does not exist (for operations that require it to).
    #[error("not found")]
    NotFound,
    /// A record with the same identity (id, email) already exists.
    #[error("already exists")]
    AlreadyExists,
    /// The store failed (unreachable, throttling, conflict, invalid request).
    #[error(transparent)]
    Store(StoreError),
    /// A stored record does not have the shape this code expects.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl From<StoreError> for RepoError {
    /// Keeps corrupt data distinguishable from an unavailable store: the first is a bug or a bad
    /// migration, the second is worth retrying.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt(message) => RepoError::Corrupt(message),
            other => RepoError::Store(other),
        }
    }
}

/// A `Corrupt` error naming the record and what is wrong with it.
pub(crate) fn corrupt(record: impl std::fmt::Display, what: impl std::fmt::Display) -> RepoError {
    RepoError::Corrupt(format!("{record}: {what}"))
}
