//! Signing keys: RS256 for access tokens and id_tokens (API Gateway's JWT authorizer accepts RSA
//! only), ES256 for the id_tokens of clients that register `id_token_signed_response_alg=ES256`
//! and for video join links. Made here, stored as PKCS#8, published as JWKs, parsed once
//! into a [`Signer`] (the private half) or a [`VerificationKey`] (the public half).

use std::fmt;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::KeyError;
use crate::crypto;

#[cfg(test)]
thread_local! {
    /// Private-key parses on this thread, so a test can prove signing does not parse.
    pub(super) static PRIVATE_KEY_PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A JWS algorithm this server signs with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys (the default id_token algorithm, OIDC
    /// Core §3.1.3.7).
    #[default]
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl SigningAlg {
    /// The JWS `alg` name.
    pub const fn name(self) -> &'static str {
        match self {
            SigningAlg::RS256 => "RS256",
            SigningAlg::ES256 => "ES256",
        }
    }

    /// The algorithm named `name` (its JWS `alg`, exactly).
    pub fn parse(name: &str) -> Option<SigningAlg> {
        [SigningAlg::RS256, SigningAlg::ES256]
            .into_iter()
            .find(|alg| alg.name() == name)
    }

    /// Whether it is RS256 (serde: sealed values leave the default out).
    pub fn is_rs256(&self) -> bool {
        *self == SigningAlg::RS256
    }

    pub(crate) fn jsonwebtoken(self) -> Algorithm {
        match self {
            SigningAlg::RS256 => Algorithm::RS256,
            SigningAlg::ES256 => Algorithm::ES256,
        }
    }
}

/// A new key pair: its PKCS#8 document (standard base64) and its public JWK (with `kid`, the RFC
/// 7638 thumbprint, `use: sig` and `alg`).
pub(super) fn generate(alg: SigningAlg) -> Result<(String, Value), KeyError> {
    match alg {
        SigningAlg::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| KeyError::Generate("RSA-2048 key generation failed"))?;
            let der: Pkcs8V1Der<'static> = pair
                .as_der()
                .map_err(|_| KeyError::Generate("PKCS#8 export failed"))?;
            Ok((STANDARD.encode(der.as_ref()), rsa_jwk(&pair)))
        }
        SigningAlg::ES256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| KeyError::Generate("P-256 key generation failed"))?;
            let der = pair
                .to_pkcs8v1()
                .map_err(|_| KeyError::Generate("PKCS#8 export failed"))?;
            let jwk = ec_jwk(&pair)?;
            Ok((STANDARD.encode(der.as_ref()), jwk))
        }
    }
}

/// The `kid` of a public JWK (its RFC 7638 thumbprint, which is also how it was made).
pub(super) fn kid_of(jwk: &Value) -> Option<&str> {
    jwk.get("kid").and_then(Value::as_str)
}

fn rsa_jwk(pair: &RsaKeyPair) -> Value {
    let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let n = URL_SAFE_NO_PAD.encode(strip_zeros(components.n));
    let e = URL_SAFE_NO_PAD.encode(strip_zeros(components.e));
    // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
    let kid = crypto::sha256_b64url(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes());
    json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e })
}

fn ec_jwk(pair: &EcdsaKeyPair) -> Result<Value, KeyError> {
    // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
    let point = pair.public_key().as_ref();
    if point.len() != 65 || point[0] != 4 {
        return Err(KeyError::Generate("unexpected P-256 public key encoding"));
    }
    let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
    let y = URL_SAFE_NO_PAD.encode(&point[33..]);
    let kid = crypto::sha256_b64url(
        format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#).as_bytes(),
    );
    Ok(
        json!({ "kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": kid, "x": x, "y": y }),
    )
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let leading = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..leading.min(bytes.len().saturating_sub(1)));
    bytes
}

enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key parsed once, signing compact JWS with its `kid` in the header.
pub struct Signer {
    kid: String,
    alg: SigningAlg,
    key: PrivateKey,
    rng: SystemRandom,
}

impl Signer {
    /// Parses a PKCS#8 document (standard base64) as a key for `alg` whose public JWK is `jwk`
    /// (which must be the key pair's own: a document pairing one key's `kid` with another private
    /// key is refused).
    pub fn parse(alg: SigningAlg, pkcs8_b64: &str, jwk: &Value) -> Result<Self, KeyError> {
        #[cfg(test)]
        PRIVATE_KEY_PARSES.with(|count| count.set(count.get() + 1));
        let kid = kid_of(jwk).unwrap_or_default().to_owned();
        let invalid = |what: &str| KeyError::Invalid(format!("signing key `{kid}`: {what}"));
        let der = STANDARD
            .decode(pkcs8_b64.trim())
            .map_err(|_| invalid("the private key is not base64"))?;
        let (key, own_jwk) = match alg {
            SigningAlg::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(&der)
                    .map_err(|e| invalid(&format!("not an acceptable RSA PKCS#8 key ({e})")))?;
                if pair.public_modulus_len() < 256 {
                    return Err(invalid("RSA keys must be at least 2048 bits"));
                }
                let jwk = rsa_jwk(&pair);
                (PrivateKey::Rsa(pair), jwk)
            }
            SigningAlg::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|e| invalid(&format!("not a P-256 PKCS#8 key ({e})")))?;
                let jwk = ec_jwk(&pair)?;
                (PrivateKey::Ec(pair), jwk)
            }
        };
        if kid_of(&own_jwk) != Some(kid.as_str()) {
            return Err(invalid("the private key does not match its kid"));
        }
        Ok(Self {
            kid,
            alg,
            key,
            rng: SystemRandom::new(),
        })
    }

    /// The `kid` it signs with.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its algorithm.
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// A compact JWS of `claims` with header `{"alg", "typ": typ, "kid"}`.
    pub fn sign<C: Serialize + ?Sized>(&self, typ: &str, claims: &C) -> Result<String, KeyError> {
        let header = json!({ "alg": self.alg.name(), "typ": typ, "kid": self.kid });
        let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
        let signature = match &self.key {
            PrivateKey::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &self.rng,
                    token.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| KeyError::Sign)?;
                signature
            }
            PrivateKey::Ec(pair) => pair
                .sign(&self.rng, token.as_bytes())
                .map_err(|_| KeyError::Sign)?
                .as_ref()
                .to_vec(),
        };
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(&signature));
        Ok(token)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A published key, parsed once for verifying.
pub struct VerificationKey {
    /// The algorithm its tokens must name.
    pub alg: Algorithm,
    /// The key.
    pub key: DecodingKey,
}

impl VerificationKey {
    /// Parses a public JWK of ours (`kty` RSA with `n`/`e`, or EC P-256 with `x`/`y`).
    pub fn from_jwk(jwk: &Value) -> Result<(String, Self), KeyError> {
        let kid = kid_of(jwk)
            .filter(|kid| is_kid(kid))
            .ok_or_else(|| KeyError::Invalid(format!("a published key has no valid kid: {jwk}")))?
            .to_owned();
        let field = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| KeyError::Invalid(format!("published key `{kid}` has no `{name}`")))
        };
        let (alg, key) = match (field("kty")?, field("alg")?) {
            ("RSA", "RS256") => {
                let key = DecodingKey::from_rsa_components(field("n")?, field("e")?)
                    .map_err(|e| KeyError::Invalid(format!("published key `{kid}`: {e}")))?;
                (SigningAlg::RS256, key)
            }
            ("EC", "ES256") if field("crv")? == "P-256" => {
                let key = DecodingKey::from_ec_components(field("x")?, field("y")?)
                    .map_err(|e| KeyError::Invalid(format!("published key `{kid}`: {e}")))?;
                (SigningAlg::ES256, key)
            }
            (kty, alg) => {
                return Err(KeyError::Invalid(format!(
                    "published key `{kid}` is {kty}/{alg}; only RSA/RS256 and EC/ES256 are used"
                )))
            }
        };
        Ok((
            kid,
            Self {
                alg: alg.jsonwebtoken(),
                key,
            },
        ))
    }
}

/// A `kid`: 1 to 128 characters of `[A-Za-z0-9_-]` (thumbprints are 43).
pub(super) fn is_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 128
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_tokens_their_published_half_verifies() {
        for alg in [SigningAlg::RS256, SigningAlg::ES256] {
            let (pkcs8, jwk) = generate(alg).unwrap();
            let signer = Signer::parse(alg, &pkcs8, &jwk).unwrap();
            let token = signer.sign("JWT", &json!({ "sub": "x" })).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, alg.jsonwebtoken());
            assert_eq!(header.kid.as_deref(), Some(signer.kid()));
            let (kid, public) = VerificationKey::from_jwk(&jwk).unwrap();
            assert_eq!(kid, signer.kid());
            let mut validation = jsonwebtoken::Validation::new(public.alg);
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            validation.validate_aud = false;
            let data = jsonwebtoken::decode::<Value>(&token, &public.key, &validation).unwrap();
            assert_eq!(data.claims["sub"], "x");
            assert!(!jwk.to_string().contains(&pkcs8[..40]), "public parts only");
        }
    }

    #[test]
    fn kids_are_rfc_7638_thumbprints() {
        // RFC 7638 §3.1's example key and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        let canonical = format!(r#"{{"e":"AQAB","kty":"RSA","n":"{n}"}}"#);
        assert_eq!(crypto::sha256_b64url(canonical.as_bytes()), expected);
        let (_, jwk) = generate(SigningAlg::RS256).unwrap();
        let n = jwk["n"].as_str().unwrap();
        let e = jwk["e"].as_str().unwrap();
        assert_eq!(
            kid_of(&jwk).unwrap(),
            crypto::sha256_b64url(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#).as_bytes())
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(n).unwrap().len(), 256);
    }

    #[test]
    fn a_private_key_under_another_keys_kid_is_refused() {
        let (pkcs8, _) = generate(SigningAlg::RS256).unwrap();
        let (_, other) = generate(SigningAlg::RS256).unwrap();
        let err = Signer::parse(SigningAlg::RS256, &pkcs8, &other).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        let err = Signer::parse(SigningAlg::ES256, &pkcs8, &other).unwrap_err();
        assert!(err.to_string().contains("P-256"), "{err}");
        assert!(Signer::parse(SigningAlg::RS256, "not base64!", &other).is_err());
    }

    #[test]
    fn published_keys_of_other_kinds_are_refused() {
        for jwk in [
            json!({ "kty": "oct", "alg": "HS256", "kid": "k", "k": "AAAA" }),
            json!({ "kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQAB" }),
            json!({ "kty": "EC", "alg": "ES256", "crv": "P-384", "kid": "k", "x": "A", "y": "A" }),
        ] {
            assert!(VerificationKey::from_jwk(&jwk).is_err(), "{jwk}");
        }
    }
}
