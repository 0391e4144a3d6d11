//! The key document of one function ([`KeyDocument`]): exactly the keys that function uses, made
//! from the operator's document by [`super::AdminKeys::document`]. It is what a function reads at
//! init (and again when it meets a key it does not know, or when its copy is old).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::purpose::Purpose;
use super::role::Role;
use super::signing::SigningAlg;
use super::KeyError;

/// Version of the stored documents; a document of another version is refused with its number.
pub const FORMAT: u32 = 2;

/// One function's keys.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyDocument {
    /// [`FORMAT`].
    pub format: u32,
    /// The function it was made for; a function refuses another's document.
    pub role: Role,
    /// The published token keys (JWKS: next, active and recently retired; public parts only):
    /// the RS256 keys and the ES256 id_token keys.
    pub token_keys: Value,
    /// The active token signing key (RS256): only in the `token` function's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_signing: Option<PrivateSigningKey>,
    /// The active ES256 id_token key: only in the `token` function's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_signing: Option<PrivateSigningKey>,
    /// The published video join-link keys (JWKS): `userinfo` serves them, `booking` signs with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_keys: Option<Value>,
    /// The active video signing key: only in the `booking` function's document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_signing: Option<PrivateSigningKey>,
    /// The sealing keys of the purposes this function uses (derived per purpose; never the roots).
    #[serde(default)]
    pub sealing: BTreeMap<Purpose, SealingRing>,
}

/// A private signing key in a function's document; its public half is the JWK of the same `kid`
/// in the document's published keys.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PrivateSigningKey {
    /// Its algorithm.
    pub alg: SigningAlg,
    /// Its `kid`.
    pub kid: String,
    /// PKCS#8 v1 DER, standard base64.
    pub pkcs8_der_b64: String,
}

/// The keys of one sealing purpose: the one to seal with and every one that may still open.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SealingRing {
    /// The id new values are sealed under.
    pub current: String,
    /// `current`, the next generation's key (known ahead, so values sealed by instances that
    /// already use it open here) and the retired ones still within the purpose's retention.
    pub keys: Vec<SealingKey>,
}

/// One derived sealing key.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SealingKey {
    /// The generation id (prefixes every value sealed with it).
    pub id: String,
    /// The 32-byte key, standard base64.
    pub key_b64: String,
}

impl KeyDocument {
    /// Parses a stored document, naming what is wrong.
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        let document: KeyDocument = serde_json::from_str(text)
            .map_err(|e| KeyError::Invalid(format!("not a function key document: {e}")))?;
        if document.format != FORMAT {
            return Err(KeyError::Invalid(format!(
                "key document format {} (this build reads format {FORMAT})",
                document.format
            )));
        }
        Ok(document)
    }

    /// The stored form (pretty JSON; deterministic for the same keys).
    pub fn to_json(&self) -> Result<String, KeyError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| KeyError::Invalid(format!("cannot serialise: {e}")))
    }

    /// Whether the document holds any private key or sealing key (userinfo's holds none).
    pub fn holds_secrets(&self) -> bool {
        self.token_signing.is_some()
            || self.id_token_signing.is_some()
            || self.video_signing.is_some()
            || !self.sealing.is_empty()
    }
}

impl fmt::Debug for KeyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDocument")
            .field("role", &self.role)
            .field("token_signing", &self.token_signing)
            .field("id_token_signing", &self.id_token_signing)
            .field("video_signing", &self.video_signing)
            .field("sealing", &self.sealing)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PrivateSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateSigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SealingRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingRing")
            .field("current", &self.current)
            .field(
                "ids",
                &self.keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}
