//! Small cryptographic building blocks: random tokens and ids, hashing, constant-time comparison,
//! HMAC, and the [`Sealer`] that turns server state into opaque, tamper-proof, encrypted tokens.
//!
//! Randomness comes from `rand::rng()`, a ChaCha-based CSPRNG seeded (and periodically reseeded) from
//! the operating system; it is the generator `rand` documents for secrets. Hashing, HMAC and AEAD are
//! aws-lc-rs.

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{digest, hmac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::distr::Alphanumeric;
use rand::{Rng as _, RngCore as _};
use serde::de::DeserializeOwned;
use serde::Serialize;
use subtle::ConstantTimeEq as _;

/// Length of an AES-256-GCM authentication tag.
const TAG_LEN: usize = 16;

/// Longest sealed text [`Sealer::open`] looks at. Sealed tokens here are well under 2 KiB; refusing
/// larger input early keeps a hostile request from making us decode and decrypt megabytes.
pub const MAX_SEALED_LEN: usize = 8 * 1024;

/// Why sealing or opening failed. Opening failures are deliberately coarse: a caller (and so an
/// attacker) learns that a token is not valid, never which byte was wrong.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key ring given to [`Sealer::new`] is unusable (empty, bad id, current id missing).
    #[error("invalid sealing key ring: {0}")]
    KeyRing(String),
    /// The sealed text names a key id this ring does not hold (never issued here, or pruned).
    #[error("sealed token uses an unknown key")]
    UnknownKey,
    /// The sealed text is not of the form `<keyid>.<base64url>` or is too short or too long.
    #[error("sealed token is malformed")]
    Malformed,
    /// Authentication failed: the token was altered, sealed for another purpose, or forged.
    #[error("sealed token is not authentic")]
    NotAuthentic,
    /// The AEAD primitive refused to encrypt (only possible for absurdly large input).
    #[error("sealing failed")]
    SealFailed,
    /// The value could not be turned into JSON, or the opened plaintext is not the expected JSON.
    #[error("sealed payload JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// `n_bytes` random bytes from the CSPRNG, base64url without padding (32 bytes → 43 characters).
pub fn random_token(n_bytes: usize) -> String {
    let mut bytes = vec![0u8; n_bytes];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `len` random characters from `[A-Za-z0-9]` (uniform; about 5.95 bits each, so 22 characters carry
/// more than 128 bits). Safe in URLs, DynamoDB keys and file names.
pub fn random_id(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-256 of `data`, base64url without padding (43 characters): the form stored for hashed secrets
/// and used in storage keys.
pub fn sha256_b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(sha256(data))
}

/// Whether `a == b`, taking time that depends only on the lengths (never on where they differ).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// AES-256-GCM with a key ring: seals under the current key, opens under any key still in the ring,
/// so tokens sealed before a key rotation stay valid for as long as the old key is kept.
///
/// Sealed form: `<keyid>.<base64url(nonce || ciphertext || tag)>` with a fresh random 96-bit nonce
/// per message. The `purpose` string is the associated data, so a value sealed for one purpose
/// (say an authorization code) never opens as another (a refresh token), even with the same key.
/// Random nonces keep AES-GCM safe for about 2^32 messages per key; rotation keeps every key far
/// below that.
pub struct Sealer {
    keys: HashMap<String, LessSafeKey>,
    current: String,
}

impl Sealer {
    /// Builds the ring from `(id, 32-byte key)` pairs and the id to seal with. Ids must be non-empty
    /// base62 (`[A-Za-z0-9]`, at most 64 characters), unique, and `current` must be among them.
    pub fn new(keys: Vec<(String, [u8; 32])>, current: String) -> Result<Self, CryptoError> {
        let mut ring = HashMap::with_capacity(keys.len());
        for (id, key) in keys {
            if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(CryptoError::KeyRing(format!(
                    "key id `{id}` must be 1 to 64 characters of [A-Za-z0-9]"
                )));
            }
            let unbound = UnboundKey::new(&AES_256_GCM, &key)
                .map_err(|_| CryptoError::KeyRing(format!("key `{id}` was rejected")))?;
            if ring.insert(id.clone(), LessSafeKey::new(unbound)).is_some() {
                return Err(CryptoError::KeyRing(format!("key id `{id}` appears twice")));
            }
        }
        if !ring.contains_key(&current) {
            return Err(CryptoError::KeyRing(format!(
                "current key id `{current}` is not in the ring"
            )));
        }
        Ok(Self {
            keys: ring,
            current,
        })
    }

    /// The id new tokens are sealed under.
    pub fn current_id(&self) -> &str {
        &self.current
    }

    /// Encrypts and authenticates `plaintext` for `purpose` under the current key.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| CryptoError::KeyRing("current key missing".into()))?;
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce_bytes);
        let mut buffer = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(&nonce_bytes);
        let mut in_out = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(purpose.as_bytes()),
            &mut in_out,
        )
        .map_err(|_| CryptoError::SealFailed)?;
        buffer.extend_from_slice(&in_out);
        Ok(format!(
            "{}.{}",
            self.current,
            URL_SAFE_NO_PAD.encode(buffer)
        ))
    }

    /// Decrypts a token sealed for `purpose` by any key in the ring. Never panics on hostile input.
    pub fn open(&self, purpose: &str, text: &str) -> Result<Vec<u8>, CryptoError> {
        if text.len() > MAX_SEALED_LEN {
            return Err(CryptoError::Malformed);
        }
        let (id, payload) = text.split_once('.').ok_or(CryptoError::Malformed)?;
        let key = self.keys.get(id).ok_or(CryptoError::UnknownKey)?;
        let mut bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let mut nonce_bytes = [0u8; NONCE_LEN];
        nonce_bytes.copy_from_slice(&bytes[..NONCE_LEN]);
        let plaintext = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut bytes[NONCE_LEN..],
            )
            .map_err(|_| CryptoError::NotAuthentic)?;
        Ok(plaintext.to_vec())
    }

    /// [`Sealer::seal`] of `value` as JSON.
    pub fn seal_json<T: Serialize + ?Sized>(
        &self,
        purpose: &str,
        value: &T,
    ) -> Result<String, CryptoError> {
        self.seal(purpose, &serde_json::to_vec(value)?)
    }

    /// [`Sealer::open`], then the plaintext parsed as JSON into `T`.
    pub fn open_json<T: DeserializeOwned>(
        &self,
        purpose: &str,
        text: &str,
    ) -> Result<T, CryptoError> {
        Ok(serde_json::from_slice(&self.open(purpose, text)?)?)
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Sealer")
            .field("key_ids", &ids)
            .field("current", &self.current)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ids: &[(&str, u8)], current: &str) -> Sealer {
        Sealer::new(
            ids.iter()
                .map(|(id, b)| ((*id).to_owned(), [*b; 32]))
                .collect(),
            current.to_owned(),
        )
        .unwrap()
    }

    #[test]
    fn a_sealed_value_opens_to_the_same_bytes() {
        let sealer = ring(&[("k1", 1)], "k1");
        let sealed = sealer.seal("code", b"hello world").unwrap();
        assert!(sealed.starts_with("k1."));
        assert!(!sealed.contains("hello"));
        assert_eq!(sealer.open("code", &sealed).unwrap(), b"hello world");
        let empty = sealer.seal("code", b"").unwrap();
        assert_eq!(sealer.open("code", &empty).unwrap(), b"");
    }

    #[test]
    fn sealing_twice_gives_different_tokens() {
        let sealer = ring(&[("k1", 1)], "k1");
        assert_ne!(
            sealer.seal("code", b"same").unwrap(),
            sealer.seal("code", b"same").unwrap()
        );
    }

    #[test]
    fn a_tampered_byte_fails_to_open() {
        let sealer = ring(&[("k1", 1)], "k1");
        let sealed = sealer.seal("refresh", b"{\"generation\":3}").unwrap();
        let (id, payload) = sealed.split_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        for index in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[index] ^= 0x01;
            let forged = format!("{id}.{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert!(matches!(
                sealer.open("refresh", &forged),
                Err(CryptoError::NotAuthentic)
            ));
            bytes[index] ^= 0x01;
        }
    }

    #[test]
    fn a_token_sealed_for_one_purpose_does_not_open_for_another() {
        let sealer = ring(&[("k1", 1)], "k1");
        let code = sealer.seal("code", b"grant").unwrap();
        assert!(matches!(
            sealer.open("refresh", &code),
            Err(CryptoError::NotAuthentic)
        ));
    }

    #[test]
    fn a_token_sealed_by_an_old_key_opens_after_a_new_current_key_is_added() {
        let old = ring(&[("old", 1)], "old");
        let sealed = old.seal("refresh", b"still good").unwrap();
        let rotated = ring(&[("old", 1), ("new", 2)], "new");
        assert_eq!(rotated.open("refresh", &sealed).unwrap(), b"still good");
        assert!(rotated.seal("refresh", b"x").unwrap().starts_with("new."));
        let pruned = ring(&[("new", 2)], "new");
        assert!(matches!(
            pruned.open("refresh", &sealed),
            Err(CryptoError::UnknownKey)
        ));
    }

    #[test]
    fn a_key_id_pointing_at_another_key_fails_to_open() {
        let rotated = ring(&[("a", 1), ("b", 2)], "a");
        let sealed = rotated.seal("code", b"x").unwrap();
        let swapped = sealed.replacen("a.", "b.", 1);
        assert!(matches!(
            rotated.open("code", &swapped),
            Err(CryptoError::NotAuthentic)
        ));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let sealer = ring(&[("k1", 1)], "k1");
        for text in [
            "",
            ".",
            "k1",
            "k1.",
            "k1.!!!",
            "k1.AAAA",
            "nope.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(sealer.open("code", text).is_err(), "{text:?}");
        }
        let huge = format!("k1.{}", "A".repeat(MAX_SEALED_LEN));
        assert!(matches!(
            sealer.open("code", &huge),
            Err(CryptoError::Malformed)
        ));
    }

    #[test]
    fn a_bad_key_ring_is_refused() {
        assert!(Sealer::new(vec![("a".into(), [0; 32])], "b".into()).is_err());
        assert!(Sealer::new(vec![], "a".into()).is_err());
        assert!(Sealer::new(vec![("a.b".into(), [0; 32])], "a.b".into()).is_err());
        assert!(Sealer::new(
            vec![("a".into(), [0; 32]), ("a".into(), [1; 32])],
            "a".into()
        )
        .is_err());
    }

    #[test]
    fn json_values_round_trip_and_wrong_shapes_are_errors() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Code {
            grant_id: String,
            exp: i64,
        }
        let sealer = ring(&[("k1", 1)], "k1");
        let value = Code {
            grant_id: "g".into(),
            exp: 5,
        };
        let sealed = sealer.seal_json("code", &value).unwrap();
        assert_eq!(sealer.open_json::<Code>("code", &sealed).unwrap(), value);
        let other = sealer.seal_json("code", &1).unwrap();
        assert!(matches!(
            sealer.open_json::<Code>("code", &other),
            Err(CryptoError::Json(_))
        ));
    }

    #[test]
    fn debug_output_names_key_ids_only() {
        let sealer = ring(&[("k1", 0xAB)], "k1");
        let text = format!("{sealer:?}");
        assert!(text.contains("k1"));
        // 0xAB = 171: neither the decimal bytes nor a hex dump may appear.
        assert!(!text.contains("171"), "{text}");
        assert!(!text.to_lowercase().contains("abab"), "{text}");
    }

    #[test]
    fn random_values_have_the_requested_shape_and_differ() {
        let token = random_token(32);
        assert_eq!(token.len(), 43);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(random_token(32), token);
        let id = random_id(22);
        assert_eq!(id.len(), 22);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_id(22), id);
    }

    #[test]
    fn hashes_and_macs_match_published_test_vectors() {
        // FIPS 180-2 "abc".
        assert_eq!(sha256(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf], "sha256(abc)");
        assert_eq!(
            sha256_b64url(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(mac[..4], [0x5b, 0xdc, 0xc1, 0x46]);
        assert_eq!(mac[28..], [0x64, 0xec, 0x38, 0x43]);
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
