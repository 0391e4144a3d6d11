//! Verifying the JWTs this server issues (signing is [`KeySet::sign_jwt`]).
//!
//! [`verify`] accepts only what we produce: RS256, a `kid` from our key set, the expected `typ`
//! (`at+jwt` for access tokens, RFC 9068 §2.1; `JWT` for id_tokens), `exp` (30 s leeway for clock
//! skew), and exactly our issuer and the expected audience. Anything else — `alg: none`, HMAC
//! algorithms keyed with our public key, forged signatures, an id_token presented as an access
//! token — is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::crypto;
use crate::keys::{KeySet, VerificationKey};

/// Clock-skew allowance on `exp` (and `nbf` when present).
pub const LEEWAY_SECS: u64 = 30;

/// Longest token [`verify`] parses; ours are well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// `typ` header of access tokens (RFC 9068 §2.1).
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";

/// `typ` header of id_tokens.
pub const TYP_ID_TOKEN: &str = "JWT";

/// Why a token was refused. The messages are safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not a well-formed JWS of ours (structure, encoding, header, algorithm, claims shape).
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// The `kid` is missing or names no key of ours (never issued here, or long retired).
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
    /// The `typ` header is not the one this use requires.
    #[error("the token is not of the expected type")]
    WrongType,
    /// `exp` is in the past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `iss` is missing or is not this server.
    #[error("the token was not issued by this server")]
    WrongIssuer,
    /// `aud` is missing or does not include the expected audience.
    #[error("the token is not intended for this audience")]
    WrongAudience,
}

/// Verifies `token` and returns its claims as `T`.
///
/// Checks, in order: size and shape, `alg` = RS256, `kid` known, `typ` = `expected_typ`
/// (case-insensitive, `application/` prefix optional per RFC 7515 §4.1.9), then the signature and
/// `exp` (required, [`LEEWAY_SECS`] leeway), `nbf` if present, `iss` = `issuer`, `aud` ∋ `audience`
/// (all required) with `jsonwebtoken::decode` pinned to RS256.
pub fn verify<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    expected_typ: &str,
    issuer: &str,
    audience: &str,
) -> Result<T, JwtError> {
    verify_with(
        |kid| keys.verification_key(kid),
        &[Algorithm::RS256],
        token,
        expected_typ,
        issuer,
        audience,
    )
}

/// Like [`verify`], for video join links: ES256, checked against the published video keys only
/// (never the token keys), so a join link cannot pass as a token nor a token as a join link.
pub fn verify_video<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    expected_typ: &str,
    issuer: &str,
    audience: &str,
) -> Result<T, JwtError> {
    verify_with(
        |kid| keys.video_verification_key(kid),
        &[Algorithm::ES256],
        token,
        expected_typ,
        issuer,
        audience,
    )
}

/// Like [`verify`], for id_tokens we issued (an `id_token_hint`): RS256, or ES256 for clients
/// registered with `id_token_signed_response_alg=ES256`, each only with a published key of its
/// own algorithm. Never use it for access tokens, which are RS256 only.
pub fn verify_id_token<T: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<T, JwtError> {
    verify_with(
        |kid| keys.verification_key(kid),
        &[Algorithm::RS256, Algorithm::ES256],
        token,
        TYP_ID_TOKEN,
        issuer,
        audience,
    )
}

fn verify_with<'k, T: DeserializeOwned>(
    key_of: impl Fn(&str) -> Option<&'k VerificationKey>,
    algs: &[Algorithm],
    token: &str,
    expected_typ: &str,
    issuer: &str,
    audience: &str,
) -> Result<T, JwtError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwtError::Malformed("the token is too long".into()));
    }
    if token.split('.').count() != 3 {
        return Err(JwtError::Malformed(
            "a JWT has three dot-separated parts".into(),
        ));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| JwtError::Malformed("the header is not a valid JOSE header".into()))?;
    if !algs.contains(&header.alg) {
        let names: Vec<String> = algs.iter().map(|alg| format!("{alg:?}")).collect();
        return Err(JwtError::Malformed(format!(
            "only {} tokens are accepted",
            names.join(" or ")
        )));
    }
    let kid = header.kid.as_deref().ok_or(JwtError::UnknownKey)?;
    let key = key_of(kid).ok_or(JwtError::UnknownKey)?;
    if key.alg != header.alg {
        return Err(JwtError::Malformed(
            "the token's algorithm is not its key's".into(),
        ));
    }
    match header.typ.as_deref() {
        Some(typ) if media_type_eq(typ, expected_typ) => {}
        _ => return Err(JwtError::WrongType),
    }

    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);

    jsonwebtoken::decode::<T>(token, &key.key, &validation)
        .map(|data| data.claims)
        .map_err(|error| map_error(error.into_kind()))
}

fn map_error(kind: ErrorKind) -> JwtError {
    match kind {
        ErrorKind::InvalidSignature | ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            JwtError::BadSignature
        }
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "iss" => JwtError::WrongIssuer,
            "aud" => JwtError::WrongAudience,
            other => JwtError::Malformed(format!("the `{other}` claim is required")),
        },
        ErrorKind::InvalidClaimFormat(claim) => {
            JwtError::Malformed(format!("the `{claim}` claim has the wrong type"))
        }
        ErrorKind::ImmatureSignature => JwtError::Malformed("the token is not valid yet".into()),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            JwtError::Malformed("only RS256 tokens are accepted".into())
        }
        ErrorKind::Json(_) => JwtError::Malformed("the claims are not the expected JSON".into()),
        _ => JwtError::Malformed("the token cannot be decoded".into()),
    }
}

/// Media-type comparison for `typ`: case-insensitive, `application/` optional (RFC 7515 §4.1.9).
fn media_type_eq(presented: &str, expected: &str) -> bool {
    fn normalise(value: &str) -> String {
        let lower = value.trim().to_ascii_lowercase();
        match lower.strip_prefix("application/") {
            Some(rest) if !rest.contains('/') => rest.to_owned(),
            _ => lower,
        }
    }
    normalise(presented) == normalise(expected)
}

/// The id_token `at_hash` of an access token: base64url of the left-most 128 bits of its SHA-256
/// (OIDC Core §3.1.3.6, for RS256).
pub fn at_hash(access_token: &str) -> String {
    let digest = crypto::sha256(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The `aud` claim: one audience (serialised as a string) or several (an array), as RFC 7519 §4.1.3
/// allows both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audience(pub Vec<String>);

impl Audience {
    /// A single audience.
    pub fn one(audience: impl Into<String>) -> Self {
        Audience(vec![audience.into()])
    }

    /// Whether `audience` is among them.
    pub fn contains(&self, audience: &str) -> bool {
        self.0.iter().any(|a| a == audience)
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => Audience(vec![one]),
            OneOrMany::Many(many) => Audience(many),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::keys::test_support::{admin, keyset};
    use crate::keys::{AdminKeys, Role};

    const ISS: &str = "https://portal.example";
    const AUD: &str = "https://portal.example/api/portal/v1";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims(exp_in: i64) -> Value {
        json!({ "iss": ISS, "sub": "patient-1", "aud": AUD, "exp": now() + exp_in,
                "iat": now(), "scope": "openid profile_read", "jti": "j1" })
    }

    fn check(keys: &KeySet, token: &str) -> Result<Value, JwtError> {
        verify::<Value>(keys, token, TYP_ACCESS_TOKEN, ISS, AUD)
    }

    /// A token with an arbitrary header and claims and the given raw signature bytes.
    fn forge(header: &Value, claims: &Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    #[test]
    fn a_signed_token_verifies_and_returns_its_claims() {
        let keys = keyset();
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &claims(300)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), keys.active_kid());
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let out = check(&keys, &token).unwrap();
        assert_eq!(out["sub"], "patient-1");
        assert_eq!(out["scope"], "openid profile_read");
    }

    #[test]
    fn the_type_comparison_ignores_case_and_the_application_prefix() {
        let keys = keyset();
        for typ in [
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            let token = keys.sign_jwt(typ, &claims(300)).unwrap();
            assert!(check(&keys, &token).is_ok(), "{typ}");
        }
        let id_token = keys.sign_jwt("JWT", &claims(300)).unwrap();
        assert!(verify::<Value>(&keys, &id_token, "jwt", ISS, AUD).is_ok());
    }

    #[test]
    fn a_token_signed_by_a_rotated_out_but_retained_key_verifies() {
        use crate::keys::timing::{PUBLICATION_DELAY_SECS, SIGNING_RETENTION_SECS};
        let mut keys: AdminKeys = admin();
        let at = |keys: &AdminKeys, t: i64| {
            KeySet::from_documents(&[keys.document(Role::Token, t).unwrap()]).unwrap()
        };
        let t0 = now();
        let before = at(&keys, t0);
        let token = before.sign_jwt(TYP_ACCESS_TOKEN, &claims(300)).unwrap();
        let t1 = t0 + PUBLICATION_DELAY_SECS;
        keys.rotate(t1, false).unwrap();
        let after = at(&keys, t1);
        assert_ne!(after.active_kid(), before.active_kid());
        assert!(check(&after, &token).is_ok());
        // Once its retention has passed, the old key's tokens are refused.
        keys.prune(t1 + SIGNING_RETENTION_SECS + 1);
        let pruned = at(&keys, t1 + SIGNING_RETENTION_SECS + 1);
        assert_eq!(check(&pruned, &token), Err(JwtError::UnknownKey));
    }

    #[test]
    fn an_alg_none_token_is_rejected() {
        let keys = keyset();
        for alg in ["none", "None", "NONE"] {
            let token = forge(
                &json!({"alg": alg, "typ": "at+jwt", "kid": keys.active_kid().unwrap()}),
                &claims(300),
                b"",
            );
            assert!(matches!(check(&keys, &token), Err(JwtError::Malformed(_))));
        }
    }

    #[test]
    fn an_hs256_token_keyed_with_the_public_modulus_is_rejected() {
        let keys = keyset();
        let jwks = keys.jwks();
        let n_text = jwks["keys"][0]["n"].as_str().unwrap().to_owned();
        let n_bytes = URL_SAFE_NO_PAD.decode(&n_text).unwrap();
        for secret in [n_text.as_bytes(), n_bytes.as_slice()] {
            let header =
                json!({"alg": "HS256", "typ": "at+jwt", "kid": keys.active_kid().unwrap()});
            let body = claims(300);
            let signing_input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(body.to_string())
            );
            let mac = crypto::hmac_sha256(secret, signing_input.as_bytes());
            let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac));
            assert!(matches!(check(&keys, &token), Err(JwtError::Malformed(_))));
        }
    }

    #[test]
    fn a_flipped_signature_byte_is_rejected() {
        let keys = keyset();
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &claims(300)).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[100] ^= 0x01;
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(check(&keys, &forged), Err(JwtError::BadSignature));
    }

    #[test]
    fn changed_claims_under_the_original_signature_are_rejected() {
        let keys = keyset();
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &claims(300)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut changed = claims(300);
        changed["scope"] = json!("openid profile_read appointment_write");
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(changed.to_string()),
            parts[2]
        );
        assert_eq!(check(&keys, &forged), Err(JwtError::BadSignature));
    }

    #[test]
    fn an_id_token_is_not_accepted_as_an_access_token() {
        let keys = keyset();
        let id_token = keys.sign_jwt(TYP_ID_TOKEN, &claims(300)).unwrap();
        assert_eq!(check(&keys, &id_token), Err(JwtError::WrongType));
        let untyped = forge(
            &json!({"alg": "RS256", "kid": keys.active_kid().unwrap()}),
            &claims(300),
            &[0; 256],
        );
        assert_eq!(check(&keys, &untyped), Err(JwtError::WrongType));
    }

    #[test]
    fn a_wrong_audience_or_issuer_is_rejected() {
        let keys = keyset();
        let mut body = claims(300);
        body["aud"] = json!("client-123");
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &body).unwrap();
        assert_eq!(check(&keys, &token), Err(JwtError::WrongAudience));

        body["aud"] = json!(["other", AUD]);
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &body).unwrap();
        assert!(check(&keys, &token).is_ok());

        let mut body = claims(300);
        body.as_object_mut().unwrap().remove("aud");
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &body).unwrap();
        assert_eq!(check(&keys, &token), Err(JwtError::WrongAudience));

        let mut body = claims(300);
        body["iss"] = json!("https://evil.example");
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &body).unwrap();
        assert_eq!(check(&keys, &token), Err(JwtError::WrongIssuer));

        body.as_object_mut().unwrap().remove("iss");
        let token = keys.sign_jwt(TYP_ACCESS_TOKEN, &body).unwrap();
        assert_eq!(check(&keys, &token), Err(JwtError::WrongIssuer));
    }

    #[test]
    fn an_expired_token_is_rejected_after_the_leeway() {
        let keys = keyset();
        let expired = keys.sign_jwt(TYP_ACCESS_TOKEN, &claims(-31 - 5)).unwrap();
        assert_eq!(check(&keys, &expired), Err(JwtError::Expired));
        let within_leeway = keys.sign_jwt(TYP_ACCESS_TOKEN, &claims(-10)).unwrap();
        assert!(check(&keys, &within_leeway).is_ok());
        let mut body = claims(300);
        body.as_object_mut().unwrap().remove("exp");
        let no_exp = keys.sign_jwt(TYP_ACCESS_TOKEN, &body).unwrap();
        assert!(matches!(check(&keys, &no_exp), Err(JwtError::Malformed(_))));
    }

    #[test]
    fn unknown_kids_and_garbage_are_rejected() {
        let keys = keyset();
        let other = crate::keys::test_support::foreign_keyset();
        let token = other.sign_jwt(TYP_ACCESS_TOKEN, &claims(300)).unwrap();
        assert_eq!(check(&keys, &token), Err(JwtError::UnknownKey));
        let no_kid = forge(
            &json!({"alg": "RS256", "typ": "at+jwt"}),
            &claims(300),
            &[0; 256],
        );
        assert_eq!(check(&keys, &no_kid), Err(JwtError::UnknownKey));
        for garbage in ["", "a", "a.b", "a.b.c", "...", "a.b.c.d"] {
            assert!(
                matches!(check(&keys, garbage), Err(JwtError::Malformed(_))),
                "{garbage}"
            );
        }
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(check(&keys, &long), Err(JwtError::Malformed(_))));
    }

    #[test]
    fn at_hash_matches_the_openid_connect_example() {
        // OpenID Connect Core 1.0, Appendix A.4.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn an_audience_is_a_string_or_an_array() {
        let one: Audience = serde_json::from_str(r#""a""#).unwrap();
        assert_eq!(one, Audience::one("a"));
        assert_eq!(serde_json::to_string(&one).unwrap(), r#""a""#);
        let many: Audience = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert!(many.contains("b") && !many.contains("c"));
        assert_eq!(serde_json::to_string(&many).unwrap(), r#"["a","b"]"#);
        assert!(serde_json::from_str::<Audience>("1").is_err());
    }
}
