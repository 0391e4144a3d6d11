//! Hashing a new password (registration, reset, change) with argon2id on the blocking pool: it
//! takes a core for a while, which the async threads must not wait for.

use crate::domain::password;
use crate::oauth::flow_error::PageError;

/// The PHC string of `password`, hashed off the async threads.
pub(super) async fn hash_off_thread(password: String) -> Result<String, PageError> {
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(|error| {
            tracing::error!(cause = %error, "password hashing task failed");
            PageError::Internal
        })?
        .map_err(|error| {
            tracing::error!(cause = %error, "password hashing failed");
            PageError::Internal
        })
}
