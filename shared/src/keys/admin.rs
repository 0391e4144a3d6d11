//! The operator's key document ([`AdminKeys`]): every key with its life cycle, rotation, and the
//! per-function documents made from it. Only `portal-admin` reads and writes it (deployed: a secret
//! no function role can read); locally it is `.data/keys/admin.json`.
//!
//! # Life cycle: publish, then activate
//!
//! Each family — token signing keys (RS256), id_token signing keys (ES256, for clients that
//! register `id_token_signed_response_alg=ES256`), video signing keys (ES256), sealing roots — has one
//! *active* key, one *next* key and zero or more *retired* ones. A rotation activates the key that
//! the previous rotation published as next, retires the active one, and publishes a new next key.
//! So a key is known to every verifier (in the JWKS, in API Gateway's cache, in every function's
//! document) for at least [`PUBLICATION_DELAY_SECS`] before anything signs or seals with it; a
//! rotation sooner than that is refused unless forced. A retired private signing key is deleted at
//! once; its public half stays published for [`SIGNING_RETENTION_SECS`]. A retired sealing root
//! stays until every purpose's retention has passed, so no value sealed with it dies early.
//!
//! Sealing keys are derived per purpose from the generation's root with HKDF-SHA256 (RFC 5869,
//! `info` = the purpose's label): a function's document carries only the derived keys of its own
//! purposes, never a root.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::hkdf;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::document::{KeyDocument, PrivateSigningKey, SealingKey, SealingRing, FORMAT};
use super::purpose::Purpose;
use super::role::Role;
use super::signing::{self, SigningAlg};
use super::timing::{PUBLICATION_DELAY_SECS, SIGNING_RETENTION_SECS};
use super::KeyError;
use crate::crypto;

/// HKDF salt of sealing-key derivation (fixed: the roots are uniformly random already).
const SEALING_SALT: &[u8] = b"mypatientportal sealing key v1";

/// Where a key is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Published (known to verifiers and openers), not used yet.
    Next,
    /// Signs or seals new values.
    Active,
    /// Only verifies or opens what it made, until dropped.
    Retired,
}

/// When a key was published, activated and retired (unix seconds).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Life {
    /// When it was made and published.
    pub published_at: i64,
    /// When it became active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<i64>,
    /// When it stopped being active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
}

impl Life {
    fn new(now: i64) -> Self {
        Self {
            published_at: now,
            activated_at: None,
            retired_at: None,
        }
    }

    /// Its state.
    pub fn state(&self) -> KeyState {
        match (self.activated_at, self.retired_at) {
            (_, Some(_)) => KeyState::Retired,
            (Some(_), None) => KeyState::Active,
            (None, None) => KeyState::Next,
        }
    }

    /// Whether it is retired for longer than `retention` at `now`.
    fn expired(&self, now: i64, retention: i64) -> bool {
        self.retired_at
            .is_some_and(|retired| now.saturating_sub(retired) > retention)
    }
}

/// A signing key as the operator's document stores it.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// Its algorithm.
    pub alg: SigningAlg,
    /// The public JWK (with `kid`, `use`, `alg`), as published.
    pub jwk: Value,
    /// The private key (PKCS#8 DER, standard base64); deleted when the key retires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs8_der_b64: Option<String>,
    /// Its life cycle.
    #[serde(flatten)]
    pub life: Life,
}

impl StoredSigningKey {
    fn generate(alg: SigningAlg, now: i64) -> Result<Self, KeyError> {
        let (pkcs8, jwk) = signing::generate(alg)?;
        Ok(Self {
            alg,
            jwk,
            pkcs8_der_b64: Some(pkcs8),
            life: Life::new(now),
        })
    }

    /// Its `kid`.
    pub fn kid(&self) -> &str {
        signing::kid_of(&self.jwk).unwrap_or_default()
    }
}

/// A sealing root: one generation's secret, from which each purpose's key is derived.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredSealingRoot {
    /// The generation id (base62), prefix of every value sealed under it.
    pub id: String,
    /// 32 random bytes, standard base64.
    pub root_b64: String,
    /// Its life cycle.
    #[serde(flatten)]
    pub life: Life,
}

impl StoredSealingRoot {
    fn generate(now: i64) -> Self {
        let mut root = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut root);
        Self {
            id: crypto::random_id(8),
            root_b64: STANDARD.encode(root),
            life: Life::new(now),
        }
    }

    fn root(&self) -> Result<[u8; 32], KeyError> {
        STANDARD
            .decode(self.root_b64.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| {
                KeyError::Invalid(format!("sealing root `{}` is not 32 base64 bytes", self.id))
            })
    }

    /// The key of `purpose` in this generation: HKDF-SHA256(salt, root, info = purpose label).
    pub fn derive(&self, purpose: Purpose) -> Result<[u8; 32], KeyError> {
        derive(&self.root()?, purpose)
    }
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn derive(root: &[u8; 32], purpose: Purpose) -> Result<[u8; 32], KeyError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SEALING_SALT).extract(root);
    let info = [purpose.label().as_bytes()];
    let mut out = [0u8; 32];
    prk.expand(&info, Len32)
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| KeyError::Generate("HKDF expansion failed"))?;
    Ok(out)
}

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The token `kid` that signs from now on (published by the previous rotation).
    pub activated_kid: String,
    /// The token `kid` that stopped signing (still published for a while).
    pub retired_kid: String,
    /// The token `kid` published now, to be activated by the next rotation.
    pub next_kid: String,
    /// The ES256 id_token `kid` that signs from now on.
    pub activated_id_token_kid: String,
    /// The video join-link `kid` that signs from now on.
    pub activated_video_kid: String,
    /// The sealing generation that seals from now on.
    pub activated_sealing_id: String,
    /// Keys dropped because nothing they made can be presented any more (kids and sealing ids).
    pub removed: Vec<String>,
}

/// Every key, with its life cycle: the operator's document.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminKeys {
    /// [`FORMAT`].
    pub format: u32,
    /// Access token and id_token keys (RS256).
    pub token_signing: Vec<StoredSigningKey>,
    /// id_token keys of clients registered with `id_token_signed_response_alg=ES256`, published
    /// beside the RS256 keys in the token JWKS. Documents written before ES256 id_tokens existed
    /// have none: [`AdminKeys::upgrade`] adds them.
    #[serde(default)]
    pub id_token_signing: Vec<StoredSigningKey>,
    /// Video join-link keys (ES256), published in their own JWKS.
    pub video_signing: Vec<StoredSigningKey>,
    /// Sealing roots.
    pub sealing: Vec<StoredSealingRoot>,
}

trait HasLife {
    fn life(&self) -> &Life;
    fn life_mut(&mut self) -> &mut Life;
    fn id(&self) -> &str;
    fn on_retire(&mut self) {}
}

impl HasLife for StoredSigningKey {
    fn life(&self) -> &Life {
        &self.life
    }
    fn life_mut(&mut self) -> &mut Life {
        &mut self.life
    }
    fn id(&self) -> &str {
        self.kid()
    }
    fn on_retire(&mut self) {
        // Nothing may sign with a retired key again: its private half is gone from storage.
        self.pkcs8_der_b64 = None;
    }
}

impl HasLife for StoredSealingRoot {
    fn life(&self) -> &Life {
        &self.life
    }
    fn life_mut(&mut self) -> &mut Life {
        &mut self.life
    }
    fn id(&self) -> &str {
        &self.id
    }
}

fn one_in<T: HasLife>(keys: &[T], state: KeyState) -> Option<&T> {
    keys.iter().find(|k| k.life().state() == state)
}

/// Activates the next key, retires the active one, adds `new` as next. Returns (activated,
/// retired) ids.
fn rotate_family<T: HasLife>(
    keys: &mut Vec<T>,
    new: T,
    now: i64,
) -> Result<(String, String), KeyError> {
    let next = keys
        .iter()
        .position(|k| k.life().state() == KeyState::Next)
        .ok_or_else(|| KeyError::Invalid("no next key to activate".into()))?;
    let mut retired = String::new();
    for key in keys.iter_mut() {
        if key.life().state() == KeyState::Active {
            key.life_mut().retired_at = Some(now);
            key.on_retire();
            retired = key.id().to_owned();
        }
    }
    keys[next].life_mut().activated_at = Some(now);
    let activated = keys[next].id().to_owned();
    keys.push(new);
    Ok((activated, retired))
}

impl AdminKeys {
    /// Fresh keys at `now`: in each family an active key and a next one (so the first rotation
    /// has a published key to activate).
    pub fn generate(now: i64) -> Result<Self, KeyError> {
        let mut keys = Self {
            format: FORMAT,
            token_signing: vec![StoredSigningKey::generate(SigningAlg::RS256, now)?],
            id_token_signing: Vec::new(),
            video_signing: vec![StoredSigningKey::generate(SigningAlg::ES256, now)?],
            sealing: vec![StoredSealingRoot::generate(now)],
        };
        keys.upgrade(now)?;
        keys.token_signing[0].life.activated_at = Some(now);
        keys.video_signing[0].life.activated_at = Some(now);
        keys.sealing[0].life.activated_at = Some(now);
        keys.token_signing
            .push(StoredSigningKey::generate(SigningAlg::RS256, now)?);
        keys.video_signing
            .push(StoredSigningKey::generate(SigningAlg::ES256, now)?);
        keys.sealing.push(StoredSealingRoot::generate(now));
        Ok(keys)
    }

    /// Adds what a document written by an earlier version lacks: the ES256 id_token family (an
    /// active and a next key). Its active key signs at once, without the publication delay, which
    /// is safe because no client could ask for ES256 id_tokens before the family existed, so no
    /// verifier depends on it yet. Returns whether anything was added (the caller saves the
    /// document and the function documents made from it).
    pub fn upgrade(&mut self, now: i64) -> Result<bool, KeyError> {
        if !self.id_token_signing.is_empty() {
            return Ok(false);
        }
        let mut active = StoredSigningKey::generate(SigningAlg::ES256, now)?;
        active.life.activated_at = Some(now);
        let next = StoredSigningKey::generate(SigningAlg::ES256, now)?;
        self.id_token_signing = vec![active, next];
        Ok(true)
    }

    /// The earliest time a rotation may activate the next keys: [`PUBLICATION_DELAY_SECS`] after
    /// they were published.
    pub fn earliest_rotation(&self) -> i64 {
        let next_published = |keys: Vec<&Life>| {
            keys.into_iter()
                .filter(|life| life.state() == KeyState::Next)
                .map(|life| life.published_at)
                .max()
                .unwrap_or(i64::MIN)
        };
        let latest = next_published(
            self.token_signing
                .iter()
                .map(|k| &k.life)
                .chain(self.id_token_signing.iter().map(|k| &k.life))
                .chain(self.video_signing.iter().map(|k| &k.life))
                .chain(self.sealing.iter().map(|k| &k.life))
                .collect(),
        );
        latest.saturating_add(PUBLICATION_DELAY_SECS)
    }

    /// Publish-then-activate (see the module documentation): activates the next keys of every
    /// family, publishes new next keys and drops keys nothing needs any more. Refused with
    /// [`KeyError::TooSoon`] before [`AdminKeys::earliest_rotation`] unless `force` (for a
    /// compromised key: tokens signed with a key verifiers have not fetched yet are refused by
    /// them until their caches refresh).
    pub fn rotate(&mut self, now: i64, force: bool) -> Result<Rotation, KeyError> {
        self.check()?;
        let earliest = self.earliest_rotation();
        if now < earliest && !force {
            return Err(KeyError::TooSoon { now, earliest });
        }
        let new_token = StoredSigningKey::generate(SigningAlg::RS256, now)?;
        let new_id_token = StoredSigningKey::generate(SigningAlg::ES256, now)?;
        let new_video = StoredSigningKey::generate(SigningAlg::ES256, now)?;
        let next_kid = new_token.kid().to_owned();
        let (activated_kid, retired_kid) = rotate_family(&mut self.token_signing, new_token, now)?;
        let (activated_id_token_kid, _) =
            rotate_family(&mut self.id_token_signing, new_id_token, now)?;
        let (activated_video_kid, _) = rotate_family(&mut self.video_signing, new_video, now)?;
        let (activated_sealing_id, _) =
            rotate_family(&mut self.sealing, StoredSealingRoot::generate(now), now)?;
        let removed = self.prune(now);
        self.check()?;
        Ok(Rotation {
            activated_kid,
            retired_kid,
            next_kid,
            activated_id_token_kid,
            activated_video_kid,
            activated_sealing_id,
            removed,
        })
    }

    /// Drops retired keys whose retention has passed at `now`; returns their ids.
    pub fn prune(&mut self, now: i64) -> Vec<String> {
        let longest_sealing = Purpose::ALL
            .iter()
            .map(|p| p.retention_secs())
            .max()
            .unwrap_or(0);
        let mut removed = Vec::new();
        let mut keep = |id: &str, life: &Life, retention: i64| {
            let expired = life.expired(now, retention);
            if expired {
                removed.push(id.to_owned());
            }
            !expired
        };
        self.token_signing
            .retain(|k| keep(k.kid(), &k.life, SIGNING_RETENTION_SECS));
        self.id_token_signing
            .retain(|k| keep(k.kid(), &k.life, SIGNING_RETENTION_SECS));
        self.video_signing
            .retain(|k| keep(k.kid(), &k.life, SIGNING_RETENTION_SECS));
        self.sealing
            .retain(|k| keep(&k.id, &k.life, longest_sealing));
        removed
    }

    /// Checks the document: the format, one active and one next key per family, unique ids, the
    /// right algorithms, private keys present where they must be.
    pub fn check(&self) -> Result<(), KeyError> {
        let bad = |what: String| Err(KeyError::Invalid(what));
        if self.format != FORMAT {
            return bad(format!(
                "operator key document format {} (this build reads format {FORMAT})",
                self.format
            ));
        }
        fn family<T: HasLife>(name: &str, keys: &[T]) -> Result<(), KeyError> {
            for state in [KeyState::Active, KeyState::Next] {
                let count = keys.iter().filter(|k| k.life().state() == state).count();
                if count != 1 {
                    return Err(KeyError::Invalid(format!(
                        "{name}: {count} keys are {state:?}; exactly one must be"
                    )));
                }
            }
            let mut ids: Vec<&str> = keys.iter().map(HasLife::id).collect();
            ids.sort_unstable();
            if ids.windows(2).any(|w| w[0] == w[1]) {
                return Err(KeyError::Invalid(format!("{name}: a key id appears twice")));
            }
            Ok(())
        }
        family("token signing keys", &self.token_signing)?;
        family("id_token signing keys", &self.id_token_signing)?;
        family("video signing keys", &self.video_signing)?;
        family("sealing roots", &self.sealing)?;
        for (name, keys, alg) in [
            ("token signing keys", &self.token_signing, SigningAlg::RS256),
            (
                "id_token signing keys",
                &self.id_token_signing,
                SigningAlg::ES256,
            ),
            ("video signing keys", &self.video_signing, SigningAlg::ES256),
        ] {
            for key in keys {
                if key.alg != alg || !signing::is_kid(key.kid()) {
                    return bad(format!(
                        "{name}: `{}` must be a {} key",
                        key.kid(),
                        alg.name()
                    ));
                }
                if key.life.state() != KeyState::Retired && key.pkcs8_der_b64.is_none() {
                    return bad(format!("{name}: `{}` has no private key", key.kid()));
                }
            }
        }
        for root in &self.sealing {
            if !super::sealer::is_key_id(&root.id) {
                return bad(format!("sealing root id `{}` is not base62", root.id));
            }
            root.root()?;
        }
        Ok(())
    }

    /// The key document of `role` at `now`: the published token keys, the private keys it signs
    /// with (`token`: the active token key; `booking`: the active video key), the video JWKS where
    /// it is served or used, and the derived keys of its sealing purposes (current, next, and
    /// retired ones within each purpose's retention).
    pub fn document(&self, role: Role, now: i64) -> Result<KeyDocument, KeyError> {
        self.check()?;
        let published = |keys: &[&[StoredSigningKey]]| {
            json!({ "keys": keys
                .iter()
                .flat_map(|family| family.iter())
                .filter(|k| !k.life.expired(now, SIGNING_RETENTION_SECS))
                .map(|k| k.jwk.clone())
                .collect::<Vec<_>>() })
        };
        let active_private = |keys: &[StoredSigningKey]| {
            one_in(keys, KeyState::Active).and_then(|k| {
                Some(PrivateSigningKey {
                    alg: k.alg,
                    kid: k.kid().to_owned(),
                    pkcs8_der_b64: k.pkcs8_der_b64.clone()?,
                })
            })
        };
        let mut sealing = BTreeMap::new();
        for &purpose in role.purposes() {
            let current = one_in(&self.sealing, KeyState::Active)
                .map(|root| root.id.clone())
                .unwrap_or_default();
            let mut keys = Vec::new();
            for root in &self.sealing {
                if root.life.expired(now, purpose.retention_secs()) {
                    continue;
                }
                keys.push(SealingKey {
                    id: root.id.clone(),
                    key_b64: STANDARD.encode(root.derive(purpose)?),
                });
            }
            sealing.insert(purpose, SealingRing { current, keys });
        }
        Ok(KeyDocument {
            format: FORMAT,
            role,
            // id_tokens of either algorithm verify against the one token JWKS (discovery's
            // `jwks_uri`); access tokens stay RS256, which every verifier of ours pins.
            token_keys: published(&[&self.token_signing, &self.id_token_signing]),
            token_signing: role
                .signs_tokens()
                .then(|| active_private(&self.token_signing))
                .flatten(),
            id_token_signing: role
                .signs_tokens()
                .then(|| active_private(&self.id_token_signing))
                .flatten(),
            video_keys: role
                .knows_video_keys()
                .then(|| published(&[&self.video_signing])),
            video_signing: role
                .signs_video_links()
                .then(|| active_private(&self.video_signing))
                .flatten(),
            sealing,
        })
    }

    /// Parses the stored document, [upgrades](AdminKeys::upgrade) it at `now` and checks it.
    /// Returns it and whether the upgrade added keys (then it must be saved).
    pub fn from_json(text: &str, now: i64) -> Result<(Self, bool), KeyError> {
        let mut keys: AdminKeys = serde_json::from_str(text)
            .map_err(|e| KeyError::Invalid(format!("not an operator key document: {e}")))?;
        let upgraded = keys.upgrade(now)?;
        keys.check()?;
        Ok((keys, upgraded))
    }

    /// The stored form (pretty JSON).
    pub fn to_json(&self) -> Result<String, KeyError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| KeyError::Invalid(format!("cannot serialise: {e}")))
    }

    /// The token `kid`s in each state, for reports.
    pub fn token_kids(&self, state: KeyState) -> Vec<&str> {
        self.token_signing
            .iter()
            .filter(|k| k.life.state() == state)
            .map(StoredSigningKey::kid)
            .collect()
    }
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid())
            .field("alg", &self.alg)
            .field("life", &self.life)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for StoredSealingRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSealingRoot")
            .field("id", &self.id)
            .field("life", &self.life)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminKeys")
            .field("token_signing", &self.token_signing)
            .field("id_token_signing", &self.id_token_signing)
            .field("video_signing", &self.video_signing)
            .field("sealing", &self.sealing)
            .finish()
    }
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
