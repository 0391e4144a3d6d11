//! The key material document: every RSA signing key and AES-256 sealing key as stored, which of
//! each is active, and rotation (which keys to keep, and for how long).

use std::fmt;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::KeyError;
use crate::crypto;

/// Lifetime of the longest-lived signed token (access token and id_token: 5 minutes).
pub const SIGNED_TOKEN_TTL_SECS: i64 = 5 * 60;

/// How long API Gateway's JWT authorizer may keep a JWKS it fetched (up to 2 hours, best effort).
pub const JWKS_CACHE_SECS: i64 = 2 * 60 * 60;

/// Lifetime of a refresh token (30 days): the longest-lived sealed token.
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 60 * 60;

/// How long a retired signing key stays in the JWKS: 2 h + 2 × the signed-token lifetime.
///
/// A token signed just before rotation stays valid for [`SIGNED_TOKEN_TTL_SECS`]; verifiers that
/// cached the JWKS (API Gateway, up to [`JWKS_CACHE_SECS`]) must keep finding its key, and instances
/// that loaded the key material before the rotation may sign with the old key for a while. Keeping
/// the public key one cache period plus twice the token lifetime covers all of that with margin;
/// keeping it longer would only publish keys nothing needs.
pub const RETENTION_SECS: i64 = JWKS_CACHE_SECS + 2 * SIGNED_TOKEN_TTL_SECS;

/// How long a retired sealing key is kept: a refresh token sealed just before rotation can be
/// presented for [`REFRESH_TTL_SECS`], so the key that opens it must stay (plus a little margin for
/// clock skew between machines). Authorization codes (60 s) are covered by the same rule.
pub const SEALING_RETENTION_SECS: i64 = REFRESH_TTL_SECS + SIGNED_TOKEN_TTL_SECS;

/// One RSA signing key as stored: PKCS#8 DER, standard base64.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Key id (`kid` header of JWTs): the RFC 7638 JWK thumbprint of the public key.
    pub kid: String,
    /// The private key, PKCS#8 v1 DER, standard base64 with padding.
    pub pkcs8_der_b64: String,
    /// When the key was made (unix seconds).
    pub created_at: i64,
    /// When it stopped being the active key (unix seconds); `None` for the active key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
}

/// One AES-256 sealing key as stored.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSealingKey {
    /// Key id, base62; prefixes every sealed token.
    pub id: String,
    /// The 32-byte key, standard base64 with padding.
    pub key_b64: String,
    /// When the key was made (unix seconds).
    #[serde(default)]
    pub created_at: i64,
    /// When it stopped being the active key (unix seconds); `None` for the active key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
}

/// The key material document: every signing and sealing key, and which of each is active.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyMaterial {
    /// Signing keys, oldest first; all are published in the JWKS.
    pub signing_keys: Vec<StoredSigningKey>,
    /// The `kid` new tokens are signed with.
    pub active_kid: String,
    /// Sealing keys, oldest first; all can open tokens.
    pub sealing_keys: Vec<StoredSealingKey>,
    /// The id new tokens are sealed with.
    pub active_sealing_id: String,
}

impl KeyMaterial {
    /// Fresh material: one RSA-2048 signing key and one 32-byte sealing key, both active.
    pub fn generate() -> Result<Self, KeyError> {
        let now = now();
        let signing = new_signing_key(now)?;
        let sealing = new_sealing_key(now);
        Ok(Self {
            active_kid: signing.kid.clone(),
            signing_keys: vec![signing],
            active_sealing_id: sealing.id.clone(),
            sealing_keys: vec![sealing],
        })
    }

    /// Makes a new signing key and a new sealing key active, marks the previous active ones retired
    /// at `now`, and drops keys retired longer ago than [`RETENTION_SECS`] (signing) or
    /// [`SEALING_RETENTION_SECS`] (sealing). The active keys are never dropped.
    pub fn rotate(&mut self, now: i64) -> Result<(), KeyError> {
        let signing = new_signing_key(now)?;
        let sealing = new_sealing_key(now);
        for key in &mut self.signing_keys {
            key.retired_at.get_or_insert(now);
        }
        for key in &mut self.sealing_keys {
            key.retired_at.get_or_insert(now);
        }
        self.active_kid = signing.kid.clone();
        self.signing_keys.push(signing);
        self.active_sealing_id = sealing.id.clone();
        self.sealing_keys.push(sealing);
        self.prune(now);
        Ok(())
    }

    /// Drops retired keys that nothing can need any more (see [`KeyMaterial::rotate`]).
    pub fn prune(&mut self, now: i64) {
        let active_kid = self.active_kid.clone();
        self.signing_keys.retain(|key| {
            key.kid == active_kid
                || key
                    .retired_at
                    .is_none_or(|retired| now.saturating_sub(retired) <= RETENTION_SECS)
        });
        let active_sealing = self.active_sealing_id.clone();
        self.sealing_keys.retain(|key| {
            key.id == active_sealing
                || key
                    .retired_at
                    .is_none_or(|retired| now.saturating_sub(retired) <= SEALING_RETENTION_SECS)
        });
    }

    /// Parses the JSON document (as stored in the file or the secret).
    pub fn from_json(text: &str) -> Result<Self, KeyError> {
        serde_json::from_str(text).map_err(|e| KeyError::Invalid(format!("bad JSON document: {e}")))
    }

    /// The JSON document, pretty-printed.
    pub fn to_json(&self) -> Result<String, KeyError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| KeyError::Invalid(format!("cannot serialise: {e}")))
    }
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for StoredSealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSealingKey")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("signing_keys", &self.signing_keys)
            .field("active_kid", &self.active_kid)
            .field("sealing_keys", &self.sealing_keys)
            .field("active_sealing_id", &self.active_sealing_id)
            .finish()
    }
}

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_signing_key(now: i64) -> Result<StoredSigningKey, KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| KeyError::Generate("RSA-2048 key generation failed"))?;
    let der: Pkcs8V1Der<'static> = pair
        .as_der()
        .map_err(|_| KeyError::Generate("PKCS#8 export failed"))?;
    let (n, e) = public_components(&pair);
    Ok(StoredSigningKey {
        kid: jwk_thumbprint(&n, &e),
        pkcs8_der_b64: STANDARD.encode(der.as_ref()),
        created_at: now,
        retired_at: None,
    })
}

fn new_sealing_key(now: i64) -> StoredSealingKey {
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    StoredSealingKey {
        id: crypto::random_id(8),
        key_b64: STANDARD.encode(key),
        created_at: now,
        retired_at: None,
    }
}

/// Modulus and exponent, big-endian without leading zeros (as JWK `n`/`e` require).
pub(super) fn public_components(pair: &RsaKeyPair) -> (Vec<u8>, Vec<u8>) {
    let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    (strip_zeros(components.n), strip_zeros(components.e))
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let leading = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..leading.min(bytes.len().saturating_sub(1)));
    bytes
}

/// RFC 7638 JWK thumbprint of an RSA public key: SHA-256 of the canonical `{"e","kty","n"}` JSON.
pub(super) fn jwk_thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(e),
        URL_SAFE_NO_PAD.encode(n)
    );
    crypto::sha256_b64url(canonical.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::material;
    use super::*;
    use crate::keys::KeySet;

    #[test]
    fn the_json_document_round_trips() {
        let material = material();
        let text = material.to_json().unwrap();
        assert_eq!(KeyMaterial::from_json(&text).unwrap(), material);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for field in [
            "signing_keys",
            "active_kid",
            "sealing_keys",
            "active_sealing_id",
        ] {
            assert!(value.get(field).is_some(), "{field}");
        }
        assert!(value["signing_keys"][0]["pkcs8_der_b64"].is_string());
        assert!(value["sealing_keys"][0]["key_b64"].is_string());
    }

    #[test]
    fn rotation_activates_new_keys_and_keeps_the_old_ones_until_their_retention_ends() {
        let mut material = material();
        let old_kid = material.active_kid.clone();
        let old_sealing = material.active_sealing_id.clone();
        let t0 = 1_000_000;
        material.rotate(t0).unwrap();
        assert_ne!(material.active_kid, old_kid);
        assert_ne!(material.active_sealing_id, old_sealing);
        assert_eq!(material.signing_keys.len(), 2);
        assert_eq!(material.signing_keys[0].retired_at, Some(t0));
        assert_eq!(material.signing_keys[1].retired_at, None);
        assert_eq!(material.sealing_keys[0].retired_at, Some(t0));

        // Within the signing retention both keys stay published.
        let keys = KeySet::from_material(&material).unwrap();
        assert_eq!(keys.jwks()["keys"].as_array().unwrap().len(), 2);
        assert!(keys.decoding_key(&old_kid).is_some());

        // Rotating again after the signing retention drops the first signing key, but the first
        // sealing key stays until refresh tokens sealed with it have expired.
        let t1 = t0 + RETENTION_SECS + 1;
        material.rotate(t1).unwrap();
        assert_eq!(material.signing_keys.len(), 2);
        assert!(material.signing_keys.iter().all(|k| k.kid != old_kid));
        assert_eq!(material.sealing_keys.len(), 3);
        assert!(material.sealing_keys.iter().any(|k| k.id == old_sealing));

        let t2 = t0 + SEALING_RETENTION_SECS + 1;
        material.prune(t2);
        assert!(material.sealing_keys.iter().all(|k| k.id != old_sealing));
        // The active keys survive any amount of time.
        material.prune(i64::MAX);
        assert_eq!(material.signing_keys.len(), 1);
        assert_eq!(material.sealing_keys.len(), 1);
        assert!(KeySet::from_material(&material).is_ok());
    }

    #[test]
    fn debug_output_never_contains_key_material() {
        let material = material();
        let keys = KeySet::from_material(&material).unwrap();
        let secret_prefix = &material.signing_keys[0].pkcs8_der_b64[..40];
        let sealing = &material.sealing_keys[0].key_b64;
        for text in [format!("{keys:?}"), format!("{material:?}")] {
            assert!(text.contains(&material.active_kid), "{text}");
            assert!(!text.contains(secret_prefix), "{text}");
            assert!(!text.contains(sealing.as_str()), "{text}");
        }
    }
}
