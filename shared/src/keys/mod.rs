//! Key material: the RS256 signing keys (JWTs, JWKS) and the AES-256-GCM sealing keys
//! ([`Sealer`](crate::crypto::Sealer)).
//!
//! All of it lives in one JSON document, [`KeyMaterial`]: locally in `$PORTAL_DATA_DIR/keys.json`
//! (mode 0600, created on first use), deployed in an AWS Secrets Manager secret whose ARN is in
//! `PORTAL_KEYS_SECRET_ARN` (the secret string is the same JSON). Each function reads it once at init
//! and parses every key once into a [`KeySet`], so signing a token never re-parses a private key.
//!
//! Rotation ([`KeyMaterial::rotate`], run by `portal-admin keys rotate`) makes a new signing key and a
//! new sealing key active and keeps the previous ones for as long as something they produced can
//! still be presented: see [`RETENTION_SECS`] and [`SEALING_RETENTION_SECS`]. Running functions keep
//! the material they loaded at init until their instance is recycled.
//!
//! The parts: `material` (the stored document and rotation), `keyset` (keys parsed for signing,
//! verifying and sealing), `source` (where the document lives), `file` (the local file) and
//! `secret` (Secrets Manager).

mod file;
mod keyset;
mod material;
mod secret;
mod source;

pub use file::{load_or_create, save, LOCAL_FILE_NAME};
pub use keyset::KeySet;
pub use material::{
    KeyMaterial, StoredSealingKey, StoredSigningKey, JWKS_CACHE_SECS, REFRESH_TTL_SECS,
    RETENTION_SECS, SEALING_RETENTION_SECS, SIGNED_TOKEN_TTL_SECS,
};
pub use secret::{get_secret, put_secret};
pub use source::{load_keyset, KeySource};

/// The variable naming the key material's secret; read with the rest of the configuration.
pub use crate::config::KEYS_SECRET_ARN_VAR as SECRET_ARN_VAR;

use std::path::PathBuf;

use crate::crypto::CryptoError;

/// Why key material could not be loaded, stored, parsed or used. Messages are one line and never
/// contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Generating a key failed (the system's random source or aws-lc refused).
    #[error("cannot generate a key: {0}")]
    Generate(&'static str),
    /// The key material document is not valid (bad JSON, bad key, inconsistent ids).
    #[error("key material is not valid: {0}")]
    Invalid(String),
    /// Reading or writing the local key file failed.
    #[error("cannot {action} key material file `{path}`: {source}")]
    Io {
        /// What was being done (`read`, `write`, ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Reading or writing the Secrets Manager secret failed.
    #[error("cannot {action} key material secret `{arn}` at {place}: {reason}")]
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
    /// The claims of a token to sign could not be turned into JSON.
    #[error("token claims do not serialise: {0}")]
    Claims(#[from] serde_json::Error),
    /// The RSA signature could not be computed.
    #[error("signing failed")]
    Sign,
    /// The sealing key ring is unusable.
    #[error(transparent)]
    Sealing(#[from] CryptoError),
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::OnceLock;

    use super::*;

    /// One generated material for the whole test run.
    pub(crate) fn material() -> KeyMaterial {
        static MATERIAL: OnceLock<KeyMaterial> = OnceLock::new();
        MATERIAL
            .get_or_init(|| KeyMaterial::generate().unwrap())
            .clone()
    }

    /// A key set over [`material`].
    pub(crate) fn keyset() -> KeySet {
        KeySet::from_material(&material()).unwrap()
    }
}
