//! Why keys could not be loaded, stored, parsed, rotated or used.

use std::path::PathBuf;

use super::sealer::SealError;

/// Why key material could not be loaded, stored, parsed, rotated or used. Messages are one line and
/// never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Generating a key failed (the system's random source or aws-lc refused).
    #[error("cannot generate a key: {0}")]
    Generate(&'static str),
    /// A key document is not valid (bad JSON, bad key, inconsistent ids, another function's).
    #[error("key material is not valid: {0}")]
    Invalid(String),
    /// Reading or writing a local key file failed.
    #[error("cannot {action} key file `{path}`: {source}")]
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Reading or writing a Secrets Manager secret failed.
    #[error("cannot {action} key secret `{arn}` at {place}: {reason}")]
    Secret {
        /// `read` or `write`.
        action: &'static str,
        /// The secret's ARN (or name).
        arn: String,
        /// The endpoint or region used.
        place: String,
        /// What went wrong, on one line.
        reason: String,
    },
    /// The keys have not been created yet where they are looked for.
    #[error("no keys yet in {0}: run `portal-admin keys init` first")]
    Missing(String),
    /// The keys already exist where `keys init` would create them.
    #[error(
        "keys already exist in {0}; use `portal-admin keys rotate` to replace the active keys"
    )]
    Exists(String),
    /// A rotation before the keys it would activate have been published long enough.
    #[error(
        "too soon to rotate: the keys this rotation would activate were published less than \
         2 h 20 min ago, and verifiers (API Gateway caches the JWKS for up to 2 h) may not know \
         them yet; rotate again from {} (in {} min), or pass --force if a key is compromised \
         (tokens signed with the new key may then be refused until caches refresh)",
        format_time(*.earliest),
        (.earliest - .now + 59) / 60
    )]
    TooSoon {
        /// The time of the attempt (unix seconds).
        now: i64,
        /// The earliest time a rotation is allowed (unix seconds).
        earliest: i64,
    },
    /// The function asked for a key its document does not hold.
    #[error("this function holds no {0}")]
    NotHeld(&'static str),
    /// The claims of a token to sign could not be turned into JSON.
    #[error("token claims do not serialise: {0}")]
    Claims(#[from] serde_json::Error),
    /// The signature could not be computed.
    #[error("signing failed")]
    Sign,
    /// A sealing key ring is unusable.
    #[error(transparent)]
    Sealing(#[from] SealError),
}

fn format_time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| unix.to_string())
}
