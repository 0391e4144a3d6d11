//! The key set: every key parsed once at init, signing with the active RSA key pair, verifying
//! with any published one, the JWKS document, and the sealer.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::DecodingKey;
use serde::Serialize;

use super::material::{public_components, KeyMaterial, StoredSigningKey};
use super::KeyError;
use crate::crypto::Sealer;

#[cfg(test)]
thread_local! {
    /// Private-key parses on this thread, so a test can prove signing does not parse.
    static PRIVATE_KEY_PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One signing key, parsed once.
struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    decoding: DecodingKey,
    n_b64: String,
    e_b64: String,
}

impl SigningKey {
    fn parse(stored: &StoredSigningKey) -> Result<Self, KeyError> {
        #[cfg(test)]
        PRIVATE_KEY_PARSES.with(|count| count.set(count.get() + 1));
        let invalid =
            |what: &str| KeyError::Invalid(format!("signing key `{}`: {what}", stored.kid));
        let der = STANDARD
            .decode(stored.pkcs8_der_b64.trim())
            .map_err(|_| invalid("pkcs8_der_b64 is not base64"))?;
        let pair = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| invalid(&format!("not an acceptable RSA PKCS#8 key ({e})")))?;
        if pair.public_modulus_len() < 256 {
            return Err(invalid("RSA keys must be at least 2048 bits"));
        }
        let (n, e) = public_components(&pair);
        Ok(Self {
            kid: stored.kid.clone(),
            decoding: DecodingKey::from_rsa_raw_components(&n, &e),
            n_b64: URL_SAFE_NO_PAD.encode(&n),
            e_b64: URL_SAFE_NO_PAD.encode(&e),
            pair,
        })
    }
}

/// Every key, parsed once at init: RSA key pairs for signing, decoding keys for verifying, the
/// JWKS document, and the [`Sealer`]. Cheap to share behind an `Arc`; never prints key material.
pub struct KeySet {
    signing: Vec<SigningKey>,
    active: usize,
    sealer: Sealer,
    jwks: serde_json::Value,
    rng: SystemRandom,
}

impl KeySet {
    /// Parses and checks the material: kids unique and non-empty, the active ids present, every
    /// key valid (RSA ≥ 2048 bits; sealing keys exactly 32 bytes).
    pub fn from_material(material: &KeyMaterial) -> Result<KeySet, KeyError> {
        let mut signing: Vec<SigningKey> = Vec::with_capacity(material.signing_keys.len());
        for stored in &material.signing_keys {
            if stored.kid.is_empty()
                || stored.kid.len() > 128
                || !stored
                    .kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(KeyError::Invalid(format!(
                    "signing key id `{}` must be 1 to 128 characters of [A-Za-z0-9_-]",
                    stored.kid
                )));
            }
            if signing.iter().any(|k| k.kid == stored.kid) {
                return Err(KeyError::Invalid(format!(
                    "signing key id `{}` appears twice",
                    stored.kid
                )));
            }
            signing.push(SigningKey::parse(stored)?);
        }
        let active = signing
            .iter()
            .position(|k| k.kid == material.active_kid)
            .ok_or_else(|| {
                KeyError::Invalid(format!(
                    "active_kid `{}` is not among the signing keys",
                    material.active_kid
                ))
            })?;
        let mut ring = Vec::with_capacity(material.sealing_keys.len());
        for stored in &material.sealing_keys {
            let bytes = STANDARD.decode(stored.key_b64.trim()).map_err(|_| {
                KeyError::Invalid(format!(
                    "sealing key `{}`: key_b64 is not base64",
                    stored.id
                ))
            })?;
            let key: [u8; 32] = bytes.try_into().map_err(|_| {
                KeyError::Invalid(format!("sealing key `{}` must be 32 bytes", stored.id))
            })?;
            ring.push((stored.id.clone(), key));
        }
        let sealer = Sealer::new(ring, material.active_sealing_id.clone())?;
        let jwks = serde_json::json!({
            "keys": signing
                .iter()
                .map(|k| serde_json::json!({
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": k.kid,
                    "n": k.n_b64,
                    "e": k.e_b64,
                }))
                .collect::<Vec<_>>()
        });
        Ok(KeySet {
            signing,
            active,
            sealer,
            jwks,
            rng: SystemRandom::new(),
        })
    }

    /// The `kid` new tokens are signed with.
    pub fn active_kid(&self) -> &str {
        &self.signing[self.active].kid
    }

    /// Every published `kid`, in material order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.signing.iter().map(|k| k.kid.as_str())
    }

    /// A compact RS256 JWS of `claims` with header `{"alg":"RS256","typ":header_typ,"kid":active}`,
    /// signed with the active key pair parsed at init.
    pub fn sign_jwt<C: Serialize + ?Sized>(
        &self,
        header_typ: &str,
        claims: &C,
    ) -> Result<String, KeyError> {
        let key = &self.signing[self.active];
        let header = serde_json::json!({ "alg": "RS256", "typ": header_typ, "kid": key.kid });
        let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
        let mut signature = vec![0u8; key.pair.public_modulus_len()];
        key.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &self.rng,
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError::Sign)?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(&signature));
        Ok(token)
    }

    /// The verification key for `kid`, if it is in the set.
    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.signing
            .iter()
            .find(|k| k.kid == kid)
            .map(|k| &k.decoding)
    }

    /// The public JWKS document: `{"keys":[{kty,use,alg,kid,n,e}, ...]}` for every key in the set.
    pub fn jwks(&self) -> serde_json::Value {
        self.jwks.clone()
    }

    /// The sealer over every sealing key, sealing with the active one.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids().collect::<Vec<_>>())
            .field("active_kid", &self.active_kid())
            .field("sealer", &self.sealer)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::material::{jwk_thumbprint, now};
    use super::super::test_support::{keyset, material};
    use super::*;

    #[test]
    fn generated_material_has_one_active_rsa_2048_key_and_one_sealing_key() {
        let material = material();
        assert_eq!(material.signing_keys.len(), 1);
        assert_eq!(material.sealing_keys.len(), 1);
        assert_eq!(material.active_kid, material.signing_keys[0].kid);
        assert_eq!(material.active_sealing_id, material.sealing_keys[0].id);
        let keys = KeySet::from_material(&material).unwrap();
        assert_eq!(keys.signing[0].pair.public_modulus_len(), 256);
        let jwks = keys.jwks();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kid"], material.active_kid);
        // The kid is the RFC 7638 thumbprint of exactly these n and e.
        let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256);
        assert_eq!(jwk_thumbprint(&n, &[1, 0, 1]), material.active_kid);
        assert!(jwks.to_string().len() < 1000, "public parts only");
    }

    #[test]
    fn a_refresh_token_sealed_before_rotation_still_opens_after_it() {
        let mut material = material();
        let before = KeySet::from_material(&material).unwrap();
        let sealed = before.sealer().seal("refresh", b"grant").unwrap();
        material.rotate(now()).unwrap();
        let after = KeySet::from_material(&material).unwrap();
        assert_eq!(after.sealer().open("refresh", &sealed).unwrap(), b"grant");
        assert_ne!(after.sealer().current_id(), before.sealer().current_id());
    }

    #[test]
    fn signing_uses_the_key_pair_parsed_at_init() {
        // Structural: the active key is held as a parsed aws-lc-rs key pair, not as DER.
        let keys = keyset();
        let _pair: &aws_lc_rs::rsa::KeyPair = &keys.signing[keys.active].pair;
        // Behavioural: building the set parses each key once, signing parses none.
        let material = material();
        let before = PRIVATE_KEY_PARSES.with(std::cell::Cell::get);
        let keys = KeySet::from_material(&material).unwrap();
        let after_init = PRIVATE_KEY_PARSES.with(std::cell::Cell::get);
        assert_eq!(after_init - before, material.signing_keys.len());
        drop(material);
        for i in 0..5 {
            keys.sign_jwt("JWT", &serde_json::json!({ "i": i }))
                .unwrap();
        }
        assert_eq!(PRIVATE_KEY_PARSES.with(std::cell::Cell::get), after_init);
    }

    #[test]
    fn a_key_set_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<KeySet>();
        shareable::<Sealer>();
        let keys = std::sync::Arc::new(keyset());
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let keys = keys.clone();
                std::thread::spawn(move || keys.sign_jwt("JWT", &serde_json::json!({ "i": i })))
            })
            .collect();
        for handle in handles {
            assert!(handle.join().unwrap().is_ok());
        }
    }

    #[test]
    fn inconsistent_material_is_refused_with_a_clear_message() {
        let good = material();

        let mut missing_active = good.clone();
        missing_active.active_kid = "nope".into();
        let err = KeySet::from_material(&missing_active).unwrap_err();
        assert!(err.to_string().contains("active_kid"), "{err}");

        let mut duplicate = good.clone();
        duplicate.signing_keys.push(good.signing_keys[0].clone());
        assert!(KeySet::from_material(&duplicate)
            .unwrap_err()
            .to_string()
            .contains("twice"));

        let mut bad_der = good.clone();
        bad_der.signing_keys[0].pkcs8_der_b64 = STANDARD.encode(b"not a key");
        assert!(matches!(
            KeySet::from_material(&bad_der),
            Err(KeyError::Invalid(_))
        ));

        let mut short_sealing = good.clone();
        short_sealing.sealing_keys[0].key_b64 = STANDARD.encode([0u8; 16]);
        assert!(KeySet::from_material(&short_sealing)
            .unwrap_err()
            .to_string()
            .contains("32 bytes"));

        let mut no_sealing = good;
        no_sealing.active_sealing_id = "zzz".into();
        assert!(matches!(
            KeySet::from_material(&no_sealing),
            Err(KeyError::Sealing(_))
        ));

        assert!(KeyMaterial::from_json("{").is_err());
    }
}
