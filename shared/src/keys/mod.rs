//! Keys: no function holds more than it needs, and rotation never breaks a running instance.
//!
//! - **Token signing** (RS256, access tokens and id_tokens): only the `token` function holds the
//!   private key; every function holds the published public keys (the JWKS) to verify.
//! - **Video join links** (ES256): only `booking` holds the private key; the public keys are a
//!   separate JWKS (`/.well-known/video-jwks.json`), so a leaked video key can sign nothing a
//!   verifier of access tokens or id_tokens accepts.
//! - **Sealing** (AES-256-GCM-SIV, [`Sealer`]): one key per [`Purpose`], derived with HKDF from the
//!   generation's root; each function holds the keys of its own purposes ([`Role::purposes`]).
//!
//! The operator's document ([`AdminKeys`]) holds every key and its life cycle; each function reads
//! only its own [`KeyDocument`], made from it: deployed one Secrets Manager secret per function
//! (`PORTAL_KEYS_SECRET_ARN`, readable by that function's role alone), locally
//! `$PORTAL_DATA_DIR/keys/<function>.json`. [`KeyStore`] writes them (`portal-admin keys
//! init | rotate | sync`); [`KeySource`] reads a function's; [`Keys`] keeps it current in a warm
//! instance. Rotation is publish-then-activate ([`admin`]); the timings are in [`timing`].

pub mod admin;
mod document;
mod error;
mod file;
mod keyset;
mod live;
pub mod purpose;
mod role;
mod sealer;
mod secret;
mod signing;
mod source;
mod store;
pub mod timing;

pub use admin::{AdminKeys, KeyState, Rotation};
pub use document::{KeyDocument, PrivateSigningKey, SealingKey, SealingRing};
pub use error::KeyError;
pub use file::{
    document_path, ensure_local, keys_dir, read_admin, read_document, write_admin, write_document,
    ADMIN_FILE,
};
pub use keyset::KeySet;
pub use live::Keys;
pub use purpose::Purpose;
pub use role::Role;
pub use sealer::{SealError, Sealer, MAX_SEALED_LEN};
pub use secret::SecretStore;
pub use signing::{Signer, SigningAlg, VerificationKey};
pub use source::KeySource;
pub use store::KeyStore;
pub use timing::{JWKS_CACHE_SECS, REFRESH_TTL_SECS, SIGNED_TOKEN_TTL_SECS};

/// The variable naming a function's own key secret; read with the rest of the configuration.
pub use crate::config::KEYS_SECRET_ARN_VAR as SECRET_ARN_VAR;

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::OnceLock;

    use super::*;

    /// One generated operator document for the whole test run.
    pub(crate) fn admin() -> AdminKeys {
        static KEYS: OnceLock<AdminKeys> = OnceLock::new();
        KEYS.get_or_init(|| AdminKeys::generate(chrono::Utc::now().timestamp()).unwrap())
            .clone()
    }

    /// The key set of the given roles over [`admin`].
    pub(crate) fn keyset_of(roles: &[Role]) -> KeySet {
        let now = chrono::Utc::now().timestamp();
        let documents: Vec<KeyDocument> = roles
            .iter()
            .map(|&role| admin().document(role, now).unwrap())
            .collect();
        KeySet::from_documents(&documents).unwrap()
    }

    /// A key set holding every function's keys (signs tokens and opens everything).
    pub(crate) fn keyset() -> KeySet {
        keyset_of(&Role::ALL)
    }

    /// Every key of another portal (fresh keys, never published here).
    pub(crate) fn foreign_keyset() -> KeySet {
        let now = chrono::Utc::now().timestamp();
        let other = AdminKeys::generate(now).unwrap();
        let documents: Vec<KeyDocument> = Role::ALL
            .iter()
            .map(|&role| other.document(role, now).unwrap())
            .collect();
        KeySet::from_documents(&documents).unwrap()
    }
}
