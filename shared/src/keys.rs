//! Key material: the RS256 signing keys (JWTs, JWKS) and the AES-256-GCM sealing keys ([`Sealer`]).
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

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use aws_sdk_secretsmanager::config::BehaviorVersion;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::DecodingKey;
use serde::{Deserialize, Serialize};

use crate::crypto::{self, CryptoError, Sealer};

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

/// Environment variable naming the Secrets Manager secret that holds the key material (deployed).
pub const SECRET_ARN_VAR: &str = "PORTAL_KEYS_SECRET_ARN";

/// File name of the local key material inside the data directory.
pub const LOCAL_FILE_NAME: &str = "keys.json";

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

fn now() -> i64 {
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
fn public_components(pair: &RsaKeyPair) -> (Vec<u8>, Vec<u8>) {
    let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    (strip_zeros(components.n), strip_zeros(components.e))
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let leading = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..leading.min(bytes.len().saturating_sub(1)));
    bytes
}

/// RFC 7638 JWK thumbprint of an RSA public key: SHA-256 of the canonical `{"e","kty","n"}` JSON.
fn jwk_thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(e),
        URL_SAFE_NO_PAD.encode(n)
    );
    crypto::sha256_b64url(canonical.as_bytes())
}

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

/// Where the key material lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A local JSON file, created on first use.
    LocalFile(PathBuf),
    /// An AWS Secrets Manager secret (ARN or name) whose string is the JSON document.
    SecretsManager {
        /// The secret's ARN.
        arn: String,
    },
}

impl KeySource {
    /// `PORTAL_KEYS_SECRET_ARN` when set (non-empty), else `data_dir/keys.json`.
    pub fn from_env(data_dir: &Path) -> KeySource {
        Self::from_lookup(data_dir, |name| std::env::var(name).ok())
    }

    /// [`KeySource::from_env`] with an explicit variable lookup (for tests).
    pub fn from_lookup(data_dir: &Path, lookup: impl Fn(&str) -> Option<String>) -> KeySource {
        match lookup(SECRET_ARN_VAR) {
            Some(arn) if !arn.trim().is_empty() => KeySource::SecretsManager {
                arn: arn.trim().to_owned(),
            },
            _ => KeySource::LocalFile(data_dir.join(LOCAL_FILE_NAME)),
        }
    }

    /// Reads the material: a local file is created (with fresh keys) if missing; a secret must exist
    /// and hold the document.
    pub async fn load_material(&self, aws_endpoint: Option<&str>) -> Result<KeyMaterial, KeyError> {
        match self {
            KeySource::LocalFile(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || load_or_create(&path))
                    .await
                    .map_err(|e| KeyError::Invalid(format!("loading task failed: {e}")))?
            }
            KeySource::SecretsManager { arn } => get_secret(arn, aws_endpoint).await,
        }
    }

    /// Writes the material back (used by `portal-admin keys rotate`).
    pub async fn save_material(
        &self,
        aws_endpoint: Option<&str>,
        material: &KeyMaterial,
    ) -> Result<(), KeyError> {
        match self {
            KeySource::LocalFile(path) => {
                let path = path.clone();
                let material = material.clone();
                tokio::task::spawn_blocking(move || save(&path, &material))
                    .await
                    .map_err(|e| KeyError::Invalid(format!("saving task failed: {e}")))?
            }
            KeySource::SecretsManager { arn } => put_secret(arn, aws_endpoint, material).await,
        }
    }
}

/// Loads the material from `source` and parses it into a [`KeySet`] (once per cold start).
pub async fn load_keyset(
    source: &KeySource,
    aws_endpoint: Option<&str>,
) -> Result<KeySet, KeyError> {
    let material = source.load_material(aws_endpoint).await?;
    KeySet::from_material(&material)
}

/// Reads the key file, or creates it with fresh keys if it does not exist.
///
/// Creation is atomic and exclusive: the document is written to a private (0600) temporary file in
/// the same directory, flushed, then hard-linked to `path`, which fails if the file appeared in the
/// meantime. The loser of a race between two processes discards its keys and reads the winner's, so
/// both use the same material and no reader ever sees a half-written file.
pub fn load_or_create(path: &Path) -> Result<KeyMaterial, KeyError> {
    if let Some(material) = read_file(path)? {
        return Ok(material);
    }
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|source| KeyError::Io {
        action: "create the directory of",
        path: path.to_owned(),
        source,
    })?;
    let material = KeyMaterial::generate()?;
    let temp = write_temp(path, &material)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(&dir);
            tracing::info!(path = %path.display(), kid = %material.active_kid, "created key material");
            Ok(material)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_file(path)?
            .ok_or_else(|| KeyError::Io {
                action: "read",
                path: path.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the file vanished right after another process created it",
                ),
            }),
        Err(source) => Err(KeyError::Io {
            action: "create",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Replaces the key file atomically (temporary 0600 file + rename). Concurrent savers do not corrupt
/// the file; the last one wins.
pub fn save(path: &Path, material: &KeyMaterial) -> Result<(), KeyError> {
    KeySet::from_material(material)?;
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|source| KeyError::Io {
        action: "create the directory of",
        path: path.to_owned(),
        source,
    })?;
    let temp = write_temp(path, material)?;
    if let Err(source) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(KeyError::Io {
            action: "replace",
            path: path.to_owned(),
            source,
        });
    }
    sync_dir(&dir);
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn read_file(path: &Path) -> Result<Option<KeyMaterial>, KeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })
        }
    };
    warn_if_readable_by_others(path);
    KeyMaterial::from_json(&text)
        .map(Some)
        .map_err(|e| KeyError::Invalid(format!("{} (in `{}`)", e, path.display())))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "key material file is accessible to other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes the document to a new private temporary file next to `path` and flushes it to disk.
fn write_temp(path: &Path, material: &KeyMaterial) -> Result<PathBuf, KeyError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| LOCAL_FILE_NAME.to_owned());
    let temp = parent_dir(path).join(format!(".{name}.{}.tmp", crypto::random_id(12)));
    let text = material.to_json()?;
    let io = |action: &'static str| {
        let temp = temp.clone();
        move |source| KeyError::Io {
            action,
            path: temp,
            source,
        }
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temp).map_err(io("create"))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        drop(file);
        let _ = std::fs::remove_file(&temp);
        return Err(io("write")(source));
    }
    Ok(temp)
}

/// Makes a rename or link durable; best effort (not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

async fn secrets_client(endpoint: Option<&str>) -> (aws_sdk_secretsmanager::Client, String, bool) {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let place = match (endpoint, config.region()) {
        (Some(url), _) => url.to_owned(),
        (None, Some(region)) => format!("region {region}"),
        (None, None) => "the default endpoint".to_owned(),
    };
    let has_region = config.region().is_some();
    (
        aws_sdk_secretsmanager::Client::new(&config),
        place,
        has_region,
    )
}

fn sdk_failure<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let text = match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            format!(
                "{} {}",
                err.code().unwrap_or("service error"),
                err.message().unwrap_or("")
            )
            .trim_end()
            .to_owned()
        }
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        other => error_chain(other),
    };
    text.replace(['\n', '\r'], " ")
}

/// The messages of an error and its sources on one line, without repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = error.to_string();
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    parts.join(": ")
}

/// Reads the key material from a Secrets Manager secret (GetSecretValue), with an optional endpoint
/// override (`PORTAL_AWS_ENDPOINT`, e.g. moto).
pub async fn get_secret(arn: &str, endpoint: Option<&str>) -> Result<KeyMaterial, KeyError> {
    let (client, place, has_region) = secrets_client(endpoint).await;
    let fail = |reason: String| KeyError::Secret {
        action: "read",
        arn: arn.to_owned(),
        place: place.clone(),
        reason,
    };
    if !has_region {
        return Err(fail("no AWS region configured (set AWS_REGION)".into()));
    }
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| fail(sdk_failure(&e)))?;
    let text = output.secret_string().ok_or_else(|| {
        fail("the secret has no string value; it must hold the key material JSON document".into())
    })?;
    KeyMaterial::from_json(text).map_err(|e| fail(e.to_string()))
}

/// Stores the key material as the secret's new current value (PutSecretValue).
pub async fn put_secret(
    arn: &str,
    endpoint: Option<&str>,
    material: &KeyMaterial,
) -> Result<(), KeyError> {
    KeySet::from_material(material)?;
    let text = material.to_json()?;
    let (client, place, has_region) = secrets_client(endpoint).await;
    let fail = |reason: String| KeyError::Secret {
        action: "write",
        arn: arn.to_owned(),
        place: place.clone(),
        reason,
    };
    if !has_region {
        return Err(fail("no AWS region configured (set AWS_REGION)".into()));
    }
    client
        .put_secret_value()
        .secret_id(arn)
        .secret_string(text)
        .send()
        .await
        .map_err(|e| fail(sdk_failure(&e)))?;
    Ok(())
}

/// Shared fixtures: RSA key generation is slow, so tests reuse one generated material.
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

#[cfg(test)]
mod tests {
    use super::test_support::{keyset, material};
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

    #[test]
    fn the_source_is_the_secret_when_its_arn_is_set_else_the_local_file() {
        let dir = Path::new("/data");
        assert_eq!(
            KeySource::from_lookup(dir, |_| None),
            KeySource::LocalFile(PathBuf::from("/data/keys.json"))
        );
        assert_eq!(
            KeySource::from_lookup(dir, |_| Some("  ".into())),
            KeySource::LocalFile(PathBuf::from("/data/keys.json"))
        );
        assert_eq!(
            KeySource::from_lookup(dir, |name| (name == SECRET_ARN_VAR)
                .then(|| "arn:aws:secretsmanager:eu-west-1:1:secret:k".into())),
            KeySource::SecretsManager {
                arn: "arn:aws:secretsmanager:eu-west-1:1:secret:k".into()
            }
        );
    }

    #[test]
    fn a_missing_key_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/data/keys.json");
        let first = load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = load_or_create(&path).unwrap();
        assert_eq!(first, second);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("keys.json")]);
    }

    #[test]
    fn processes_racing_to_create_the_key_file_end_up_with_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    load_or_create(&path).unwrap()
                })
            })
            .collect();
        let results: Vec<KeyMaterial> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for material in &results {
            assert_eq!(material, &results[0]);
        }
        assert_eq!(load_or_create(&path).unwrap(), results[0]);
    }

    #[test]
    fn save_replaces_the_file_and_a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let mut material = load_or_create(&path).unwrap();
        material.rotate(now()).unwrap();
        save(&path, &material).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), material);

        std::fs::write(&path, "{ not json").unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("keys.json"), "{err}");
    }

    #[tokio::test]
    async fn load_keyset_reads_a_local_source() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::from_lookup(dir.path(), |_| None);
        let keys = load_keyset(&source, None).await.unwrap();
        let again = load_keyset(&source, None).await.unwrap();
        assert_eq!(keys.active_kid(), again.active_kid());
    }
}
