//! The keys of one function instance, parsed once from its key document(s): the token signers
//! (RS256, and ES256 for id_tokens; `token` only), the published token keys for verifying, the video signer (`booking` only) and
//! JWKS, and one [`Sealer`] per purpose (empty for purposes it does not hold).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::document::{KeyDocument, PrivateSigningKey};
use super::purpose::Purpose;
use super::role::Role;
use super::sealer::Sealer;
use super::signing::{self, Signer, SigningAlg, VerificationKey};
use super::KeyError;

/// Every key one function instance holds, parsed once. Cheap to share behind an `Arc`; never
/// prints key material.
pub struct KeySet {
    roles: Vec<Role>,
    token_signer: Option<Signer>,
    id_token_signer: Option<Signer>,
    verifying: HashMap<String, VerificationKey>,
    jwks: Value,
    video_signer: Option<Signer>,
    video_jwks: Option<Value>,
    video_verifying: HashMap<String, VerificationKey>,
    sealers: BTreeMap<Purpose, Sealer>,
}

impl KeySet {
    /// Parses the documents of the roles a process plays (one, except `booking` with inline ASAP
    /// dispatch, which also sends the ASAP emails locally). Their published keys must agree.
    pub fn from_documents(documents: &[KeyDocument]) -> Result<KeySet, KeyError> {
        let first = documents
            .first()
            .ok_or_else(|| KeyError::Invalid("no key document".into()))?;
        let mut verifying = HashMap::new();
        let jwks = first.token_keys.clone();
        for jwk in jwk_list(&jwks, "token_keys")? {
            let (kid, key) = VerificationKey::from_jwk(jwk)?;
            if verifying.insert(kid.clone(), key).is_some() {
                return Err(KeyError::Invalid(format!(
                    "token key `{kid}` appears twice"
                )));
            }
        }
        let mut token_signer = None;
        let mut id_token_signer = None;
        let mut video_signer = None;
        let mut video_jwks = None;
        let mut sealers = BTreeMap::new();
        let mut roles = Vec::new();
        for document in documents {
            if document.token_keys != jwks {
                return Err(KeyError::Invalid(format!(
                    "the {} key document publishes other token keys than the {} one (run `portal-admin keys sync`)",
                    document.role, first.role
                )));
            }
            roles.push(document.role);
            if let Some(private) = &document.token_signing {
                token_signer = Some(parse_signer(private, &jwks, "token_keys")?);
            }
            if let Some(private) = &document.id_token_signing {
                id_token_signer = Some(parse_signer(private, &jwks, "token_keys")?);
            }
            if let Some(keys) = &document.video_keys {
                video_jwks = Some(keys.clone());
            }
            if let Some(private) = &document.video_signing {
                let published = document.video_keys.as_ref().ok_or_else(|| {
                    KeyError::Invalid("a video signing key without published video keys".into())
                })?;
                video_signer = Some(parse_signer(private, published, "video_keys")?);
            }
            for (purpose, ring) in &document.sealing {
                let mut keys = Vec::with_capacity(ring.keys.len());
                for key in &ring.keys {
                    let bytes: [u8; 32] = STANDARD
                        .decode(key.key_b64.trim())
                        .ok()
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| {
                            KeyError::Invalid(format!(
                                "{purpose} key `{}` must be 32 base64 bytes",
                                key.id
                            ))
                        })?;
                    keys.push((key.id.clone(), bytes));
                }
                sealers.insert(*purpose, Sealer::new(*purpose, keys, ring.current.clone())?);
            }
        }
        for purpose in Purpose::ALL {
            sealers
                .entry(purpose)
                .or_insert_with(|| Sealer::not_held(purpose));
        }
        let mut video_verifying = HashMap::new();
        if let Some(keys) = &video_jwks {
            for jwk in jwk_list(keys, "video_keys")? {
                let (kid, key) = VerificationKey::from_jwk(jwk)?;
                video_verifying.insert(kid, key);
            }
        }
        Ok(KeySet {
            roles,
            token_signer,
            id_token_signer,
            verifying,
            jwks,
            video_signer,
            video_jwks,
            video_verifying,
            sealers,
        })
    }

    /// The roles whose documents it was built from.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The `kid` new tokens are signed with; `None` in every function but `token`.
    pub fn active_kid(&self) -> Option<&str> {
        self.token_signer.as_ref().map(Signer::kid)
    }

    /// Every published token `kid`.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        jwk_list(&self.jwks, "token_keys")
            .unwrap_or_default()
            .into_iter()
            .filter_map(signing::kid_of)
    }

    /// A compact RS256 JWS of `claims` (header `{"alg":"RS256","typ":header_typ,"kid":active}`),
    /// signed with the active token key parsed at init. Only the `token` function holds it: in any
    /// other this is [`KeyError::NotHeld`].
    pub fn sign_jwt<C: Serialize + ?Sized>(
        &self,
        header_typ: &str,
        claims: &C,
    ) -> Result<String, KeyError> {
        self.token_signer
            .as_ref()
            .ok_or(KeyError::NotHeld("token signing key"))?
            .sign(header_typ, claims)
    }

    /// A compact id_token JWS (header `typ` = `header_typ`) with the active token key of `alg`:
    /// RS256 as [`KeySet::sign_jwt`], ES256 with the id_token key (`token` only; a client
    /// registered with `id_token_signed_response_alg=ES256` gets these).
    pub fn sign_id_token<C: Serialize + ?Sized>(
        &self,
        alg: SigningAlg,
        header_typ: &str,
        claims: &C,
    ) -> Result<String, KeyError> {
        let signer = match alg {
            SigningAlg::RS256 => &self.token_signer,
            SigningAlg::ES256 => &self.id_token_signer,
        };
        signer
            .as_ref()
            .ok_or(KeyError::NotHeld("id_token signing key"))?
            .sign(header_typ, claims)
    }

    /// A compact ES256 JWS with the active video join-link key (`booking` only).
    pub fn sign_video<C: Serialize + ?Sized>(
        &self,
        typ: &str,
        claims: &C,
    ) -> Result<String, KeyError> {
        self.video_signer
            .as_ref()
            .ok_or(KeyError::NotHeld("video signing key"))?
            .sign(typ, claims)
    }

    /// The verification key of a published token `kid`, with the algorithm its tokens must name.
    pub fn verification_key(&self, kid: &str) -> Option<&VerificationKey> {
        self.verifying.get(kid)
    }

    /// The verification key of a published video join-link `kid` (`booking`, which checks the
    /// links it signed for the video service, and `userinfo`).
    pub fn video_verification_key(&self, kid: &str) -> Option<&VerificationKey> {
        self.video_verifying.get(kid)
    }

    /// Whether `kid` is a published token key.
    pub fn knows_kid(&self, kid: &str) -> bool {
        self.verifying.contains_key(kid)
    }

    /// The public JWKS of token keys: `{"keys":[{kty,use,alg,kid,n,e}, ...]}`.
    pub fn jwks(&self) -> Value {
        self.jwks.clone()
    }

    /// The public JWKS of video join-link keys (`userinfo` serves it), if this function has it.
    pub fn video_jwks(&self) -> Option<Value> {
        self.video_jwks.clone()
    }

    /// The sealer of `purpose`. For a purpose this function does not hold, one that refuses to
    /// seal and opens nothing.
    pub fn sealer(&self, purpose: Purpose) -> &Sealer {
        &self.sealers[&purpose]
    }

    /// Opens a sealed value that carries its own expiry, as a mailed link's token does: `None`
    /// when the text is empty or longer than `max_len` (refused before any decryption), forged,
    /// sealed for another purpose, or expired at `now` (unix seconds).
    pub fn open_expiring<T: DeserializeOwned>(
        &self,
        purpose: Purpose,
        text: &str,
        max_len: usize,
        now: i64,
        expires_at: impl FnOnce(&T) -> i64,
    ) -> Option<T> {
        if text.is_empty() || text.len() > max_len {
            return None;
        }
        let value: T = self.sealer(purpose).open_json(text).ok()?;
        (now < expires_at(&value)).then_some(value)
    }

    /// The purposes whose keys it holds.
    pub fn purposes(&self) -> BTreeSet<Purpose> {
        self.sealers
            .iter()
            .filter(|(_, s)| s.is_held())
            .map(|(p, _)| *p)
            .collect()
    }
}

fn jwk_list<'a>(jwks: &'a Value, field: &str) -> Result<Vec<&'a Value>, KeyError> {
    jwks.get("keys")
        .and_then(Value::as_array)
        .map(|keys| keys.iter().collect())
        .ok_or_else(|| KeyError::Invalid(format!("`{field}` is not a JWKS (no `keys` array)")))
}

/// A document's private key, checked against the public key published under its `kid`.
fn parse_signer(
    private: &PrivateSigningKey,
    published: &Value,
    field: &str,
) -> Result<Signer, KeyError> {
    let jwk = jwk_list(published, field)?
        .into_iter()
        .find(|jwk| signing::kid_of(jwk) == Some(private.kid.as_str()))
        .ok_or_else(|| {
            KeyError::Invalid(format!(
                "signing key `{}` is not among the published `{field}`",
                private.kid
            ))
        })?;
    Signer::parse(private.alg, &private.pkcs8_der_b64, jwk)
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("roles", &self.roles)
            .field("kids", &self.kids().collect::<Vec<_>>())
            .field("token_signer", &self.token_signer)
            .field("id_token_signer", &self.id_token_signer)
            .field("video_signer", &self.video_signer)
            .field("sealers", &self.sealers.values().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
#[path = "keyset_tests.rs"]
mod tests;
