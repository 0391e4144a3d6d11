//! The [`Sealer`]: server state turned into opaque, tamper-proof, encrypted tokens, one key ring per
//! [`Purpose`], AES-256-GCM-SIV (see [`super::purpose`] for why).

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM_SIV, NONCE_LEN};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::purpose::Purpose;

/// Length of an AES-GCM-SIV authentication tag.
const TAG_LEN: usize = 16;

/// Longest sealed text [`Sealer::open`] looks at. Sealed tokens here are well under 2 KiB; refusing
/// larger input early keeps a hostile request from making us decode and decrypt megabytes.
pub const MAX_SEALED_LEN: usize = 8 * 1024;

/// Why sealing or opening failed. Opening failures are deliberately coarse: a caller (and so an
/// attacker) learns that a token is not valid, never which byte was wrong.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key ring given to [`Sealer::new`] is unusable (bad id, current id missing).
    #[error("invalid sealing key ring for {purpose}: {reason}")]
    KeyRing {
        /// The ring's purpose.
        purpose: Purpose,
        /// What is wrong.
        reason: String,
    },
    /// This function holds no key for the purpose: it must not seal such values.
    #[error("this function holds no {0} sealing key")]
    NotHeld(Purpose),
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

/// AES-256-GCM-SIV with a key ring for one [`Purpose`]: seals under the current key, opens under
/// any key still in the ring, so tokens sealed before a key rotation stay valid for as long as the
/// old key is kept.
///
/// Sealed form: `<keyid>.<base64url(nonce || ciphertext || tag)>` with a fresh random 96-bit nonce
/// per message. The purpose's label is the associated data as well as the key's HKDF `info`, so
/// a value sealed for one purpose (say an authorization code) never opens as another (a refresh
/// token), not even if a key were shared by mistake.
pub struct Sealer {
    purpose: Purpose,
    keys: HashMap<String, LessSafeKey>,
    current: Option<String>,
}

impl Sealer {
    /// Builds the ring from `(id, 32-byte key)` pairs and the id to seal with. Ids must be non-empty
    /// base62 (`[A-Za-z0-9]`, at most 64 characters), unique, and `current` must be among them.
    pub fn new(
        purpose: Purpose,
        keys: Vec<(String, [u8; 32])>,
        current: String,
    ) -> Result<Self, SealError> {
        let bad = |reason: String| SealError::KeyRing { purpose, reason };
        let mut ring = HashMap::with_capacity(keys.len());
        for (id, key) in keys {
            if !is_key_id(&id) {
                return Err(bad(format!(
                    "key id `{id}` must be 1 to 64 characters of [A-Za-z0-9]"
                )));
            }
            let unbound = UnboundKey::new(&AES_256_GCM_SIV, &key)
                .map_err(|_| bad(format!("key `{id}` was rejected")))?;
            if ring.insert(id.clone(), LessSafeKey::new(unbound)).is_some() {
                return Err(bad(format!("key id `{id}` appears twice")));
            }
        }
        if !ring.contains_key(&current) {
            return Err(bad(format!(
                "current key id `{current}` is not in the ring"
            )));
        }
        Ok(Self {
            purpose,
            keys: ring,
            current: Some(current),
        })
    }

    /// The sealer of a purpose this function holds no key for: sealing fails with
    /// [`SealError::NotHeld`], opening with [`SealError::UnknownKey`].
    pub fn not_held(purpose: Purpose) -> Self {
        Self {
            purpose,
            keys: HashMap::new(),
            current: None,
        }
    }

    /// The purpose this ring seals for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// Whether this function holds the purpose's key.
    pub fn is_held(&self) -> bool {
        self.current.is_some()
    }

    /// The id new tokens are sealed under (`None` when the key is not held).
    pub fn current_id(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Whether `text` names a key of this ring, or is no sealed text at all (so reloading keys
    /// could not help it): false only for a well-formed key id this ring does not have.
    pub fn knows_key_of(&self, text: &str) -> bool {
        match text.split_once('.') {
            Some((id, _)) if is_key_id(id) => self.keys.contains_key(id),
            _ => true,
        }
    }

    /// Encrypts and authenticates `plaintext` under the current key.
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        self.seal_with_nonce(nonce, plaintext)
    }

    fn seal_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
    ) -> Result<String, SealError> {
        let current = self
            .current
            .as_deref()
            .ok_or(SealError::NotHeld(self.purpose))?;
        let key = self
            .keys
            .get(current)
            .ok_or(SealError::NotHeld(self.purpose))?;
        let mut buffer = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(&nonce);
        let mut in_out = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(self.purpose.label().as_bytes()),
            &mut in_out,
        )
        .map_err(|_| SealError::SealFailed)?;
        buffer.extend_from_slice(&in_out);
        Ok(format!("{current}.{}", URL_SAFE_NO_PAD.encode(buffer)))
    }

    /// Decrypts a token sealed for this purpose by any key in the ring. Never panics on hostile
    /// input.
    pub fn open(&self, text: &str) -> Result<Vec<u8>, SealError> {
        if text.len() > MAX_SEALED_LEN {
            return Err(SealError::Malformed);
        }
        let (id, payload) = text.split_once('.').ok_or(SealError::Malformed)?;
        let key = self.keys.get(id).ok_or(SealError::UnknownKey)?;
        let mut bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&bytes[..NONCE_LEN]);
        let plaintext = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.purpose.label().as_bytes()),
                &mut bytes[NONCE_LEN..],
            )
            .map_err(|_| SealError::NotAuthentic)?;
        Ok(plaintext.to_vec())
    }

    /// [`Sealer::seal`] of `value` as JSON.
    pub fn seal_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, SealError> {
        self.seal(&serde_json::to_vec(value)?)
    }

    /// [`Sealer::open`], then the plaintext parsed as JSON into `T`.
    pub fn open_json<T: DeserializeOwned>(&self, text: &str) -> Result<T, SealError> {
        Ok(serde_json::from_slice(&self.open(text)?)?)
    }
}

/// A sealing key id: 1 to 64 characters of `[A-Za-z0-9]`.
pub(super) fn is_key_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Sealer")
            .field("purpose", &self.purpose)
            .field("key_ids", &ids)
            .field("current", &self.current)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(purpose: Purpose, ids: &[(&str, u8)], current: &str) -> Sealer {
        Sealer::new(
            purpose,
            ids.iter()
                .map(|(id, b)| ((*id).to_owned(), [*b; 32]))
                .collect(),
            current.to_owned(),
        )
        .unwrap()
    }

    fn code(ids: &[(&str, u8)], current: &str) -> Sealer {
        ring(Purpose::AuthorizationCode, ids, current)
    }

    #[test]
    fn a_sealed_value_opens_to_the_same_bytes() {
        let sealer = code(&[("k1", 1)], "k1");
        let sealed = sealer.seal(b"hello world").unwrap();
        assert!(sealed.starts_with("k1."));
        assert!(!sealed.contains("hello"));
        assert_eq!(sealer.open(&sealed).unwrap(), b"hello world");
        let empty = sealer.seal(b"").unwrap();
        assert_eq!(sealer.open(&empty).unwrap(), b"");
    }

    #[test]
    fn sealing_twice_gives_different_tokens() {
        let sealer = code(&[("k1", 1)], "k1");
        assert_ne!(sealer.seal(b"same").unwrap(), sealer.seal(b"same").unwrap());
    }

    #[test]
    fn sealing_is_gcm_siv_so_a_repeated_nonce_reveals_nothing_but_equality() {
        // With AES-GCM, two values sealed under one nonce share a keystream: XOR-ing the
        // ciphertexts gives the XOR of the plaintexts (and the tags give away the GHASH key).
        // GCM-SIV derives the keystream from the tag, so the same nonce with different values
        // yields unrelated ciphertexts; only identical values come out identical.
        let sealer = code(&[("k1", 1)], "k1");
        let nonce = [7u8; NONCE_LEN];
        let body = |text: &str| {
            URL_SAFE_NO_PAD
                .decode(text.split_once('.').unwrap().1)
                .unwrap()
        };
        let a = body(&sealer.seal_with_nonce(nonce, b"AAAAAAAAAAAAAAAA").unwrap());
        let b = body(&sealer.seal_with_nonce(nonce, b"BBBBBBBBBBBBBBBB").unwrap());
        let xor: Vec<u8> = a[NONCE_LEN..NONCE_LEN + 16]
            .iter()
            .zip(&b[NONCE_LEN..NONCE_LEN + 16])
            .map(|(x, y)| x ^ y)
            .collect();
        assert_ne!(xor, vec![b'A' ^ b'B'; 16], "a GCM keystream was reused");
        let again = body(&sealer.seal_with_nonce(nonce, b"AAAAAAAAAAAAAAAA").unwrap());
        assert_eq!(a, again);
        // And it is the RFC 8452 algorithm, not a look-alike: its test vector (Appendix C.2,
        // AES-256-GCM-SIV, empty plaintext and AAD) checks the primitive itself.
        let key = UnboundKey::new(&AES_256_GCM_SIV, &{
            let mut k = [0u8; 32];
            k[0] = 1;
            k
        })
        .unwrap();
        let key = LessSafeKey::new(key);
        let mut nonce = [0u8; NONCE_LEN];
        nonce[0] = 3;
        let mut out = Vec::new();
        key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut out)
            .unwrap();
        assert_eq!(
            out,
            [
                0x07, 0xf5, 0xf4, 0x16, 0x9b, 0xbf, 0x55, 0xa8, 0x40, 0x0c, 0xd4, 0x7e, 0xa6, 0xfd,
                0x40, 0x0f
            ]
        );
    }

    #[test]
    fn a_tampered_byte_fails_to_open() {
        let sealer = ring(Purpose::RefreshToken, &[("k1", 1)], "k1");
        let sealed = sealer.seal(b"{\"generation\":3}").unwrap();
        let (id, payload) = sealed.split_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        for index in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[index] ^= 0x01;
            let forged = format!("{id}.{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert!(matches!(sealer.open(&forged), Err(SealError::NotAuthentic)));
            bytes[index] ^= 0x01;
        }
    }

    #[test]
    fn a_token_sealed_for_one_purpose_does_not_open_for_another_even_under_the_same_key() {
        let codes = code(&[("k1", 1)], "k1");
        let refresh = ring(Purpose::RefreshToken, &[("k1", 1)], "k1");
        let sealed = codes.seal(b"grant").unwrap();
        assert!(matches!(
            refresh.open(&sealed),
            Err(SealError::NotAuthentic)
        ));
    }

    #[test]
    fn a_token_sealed_by_an_old_key_opens_after_a_new_current_key_is_added() {
        let old = code(&[("old", 1)], "old");
        let sealed = old.seal(b"still good").unwrap();
        let rotated = code(&[("old", 1), ("new", 2)], "new");
        assert_eq!(rotated.open(&sealed).unwrap(), b"still good");
        assert!(rotated.seal(b"x").unwrap().starts_with("new."));
        let pruned = code(&[("new", 2)], "new");
        assert!(matches!(pruned.open(&sealed), Err(SealError::UnknownKey)));
        assert!(!pruned.knows_key_of(&sealed));
        assert!(rotated.knows_key_of(&sealed));
        // Garbage is not an unknown key: reloading keys could not help it.
        assert!(pruned.knows_key_of("no dot here"));
        assert!(pruned.knows_key_of("bad id!.AAAA"));
    }

    #[test]
    fn a_key_id_pointing_at_another_key_fails_to_open() {
        let rotated = code(&[("a", 1), ("b", 2)], "a");
        let sealed = rotated.seal(b"x").unwrap();
        let swapped = sealed.replacen("a.", "b.", 1);
        assert!(matches!(
            rotated.open(&swapped),
            Err(SealError::NotAuthentic)
        ));
    }

    #[test]
    fn a_purpose_that_is_not_held_can_neither_seal_nor_open() {
        let none = Sealer::not_held(Purpose::RefreshToken);
        assert!(!none.is_held());
        assert!(matches!(
            none.seal(b"x"),
            Err(SealError::NotHeld(Purpose::RefreshToken))
        ));
        let other = ring(Purpose::RefreshToken, &[("k1", 1)], "k1");
        let sealed = other.seal(b"x").unwrap();
        assert!(matches!(none.open(&sealed), Err(SealError::UnknownKey)));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let sealer = code(&[("k1", 1)], "k1");
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
            assert!(sealer.open(text).is_err(), "{text:?}");
        }
        let huge = format!("k1.{}", "A".repeat(MAX_SEALED_LEN));
        assert!(matches!(sealer.open(&huge), Err(SealError::Malformed)));
    }

    #[test]
    fn a_bad_key_ring_is_refused() {
        let p = Purpose::AuthorizationCode;
        assert!(Sealer::new(p, vec![("a".into(), [0; 32])], "b".into()).is_err());
        assert!(Sealer::new(p, vec![], "a".into()).is_err());
        assert!(Sealer::new(p, vec![("a.b".into(), [0; 32])], "a.b".into()).is_err());
        assert!(Sealer::new(
            p,
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
        let sealer = code(&[("k1", 1)], "k1");
        let value = Code {
            grant_id: "g".into(),
            exp: 5,
        };
        let sealed = sealer.seal_json(&value).unwrap();
        assert_eq!(sealer.open_json::<Code>(&sealed).unwrap(), value);
        let other = sealer.seal_json(&1).unwrap();
        assert!(matches!(
            sealer.open_json::<Code>(&other),
            Err(SealError::Json(_))
        ));
    }

    #[test]
    fn debug_output_names_key_ids_only() {
        let sealer = code(&[("k1", 0xAB)], "k1");
        let text = format!("{sealer:?}");
        assert!(text.contains("k1"));
        // 0xAB = 171: neither the decimal bytes nor a hex dump may appear.
        assert!(!text.contains("171"), "{text}");
        assert!(!text.to_lowercase().contains("abab"), "{text}");
    }
}
