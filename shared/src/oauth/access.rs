//! Issuing the signed tokens of a successful token request: the access token (RFC 9068 JWT) and,
//! when `openid` was granted, the id_token (OIDC Core §2), plus the response body that carries them
//! (RFC 6749 §5.1).
//!
//! Both JWTs live [`SIGNED_TOKEN_TTL_SECS`] (5 minutes): resource servers check access tokens in
//! memory with no storage read, so a short lifetime is what bounds how long a revoked grant's access
//! tokens keep working there. Refresh tokens (see [`super::refresh`]) carry long-lived access.

use std::fmt;

use serde::Serialize;

use super::claims::IdentityClaims;
use super::OAuthError;
use crate::bearer::AccessClaims;
use crate::crypto;
use crate::domain::assurance::Amr;
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::jwt::{self, Audience};
use crate::keys::{KeySet, SigningAlg, SIGNED_TOKEN_TTL_SECS};
use crate::repo::{ApprovedAt, GrantId};
use crate::scope::{Scope, Scopes};
use std::sync::Arc;

/// `token_type` of every access token we issue (RFC 6750).
pub const TOKEN_TYPE_BEARER: &str = "Bearer";

/// Bytes of randomness in an access token's `jti` (base64url, 22 characters).
const JTI_BYTES: usize = 16;

/// What a token response is about: one grant, its patient and what the patient authorised.
/// Built from an opened authorization code or refresh token, never from request parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantSubject {
    /// The grant (refresh-token family) the tokens descend from (`gid`).
    pub grant_id: GrantId,
    /// The client the tokens are issued to.
    pub client_id: ClientId,
    /// The patient (`sub`).
    pub patient_id: PatientId,
    /// When the patient authenticated (unix seconds).
    pub auth_time: i64,
    /// The sign-in session the grant was made in (the id_token's `sid`).
    pub sid: Option<String>,
    /// How the patient authenticated (`amr`; `acr` follows from it).
    pub amr: Amr,
    /// OIDC nonce of the authorization request (echoed only in the code exchange's id_token).
    pub nonce: Option<String>,
    /// Identity claims released at consent, filtered again by the scopes of each id_token.
    pub claims: IdentityClaims,
    /// How the client's id_tokens are signed (its `id_token_signed_response_alg`).
    pub id_token_alg: SigningAlg,
    /// When the patient approved the client (from the code): refreshes are refused once the
    /// consent is withdrawn after it.
    pub approved_at: ApprovedAt,
}

/// The claims of an id_token (OIDC Core §2 and §3.1.3.6), plus the identity claims the granted
/// `profile`, `email` and `phone` scopes release (§5.4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IdTokenClaims {
    /// Issuer: this server.
    pub iss: String,
    /// Subject: the patient id.
    pub sub: String,
    /// Audience: the client id.
    pub aud: String,
    /// Expiry (unix seconds).
    pub exp: i64,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// When the patient authenticated (unix seconds).
    pub auth_time: i64,
    /// The authorization request's nonce (code exchange only; OIDC Core §12.2 omits it on refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The sign-in session at the authorization server; RP-initiated logout with this id_token as
    /// `id_token_hint` ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Authentication methods (RFC 8176).
    pub amr: Vec<String>,
    /// Level of assurance of the sign-in (`urn:mypatientportal:loa:1` or `…:2`).
    pub acr: String,
    /// Left half of the access token's SHA-256, base64url (binds the id_token to it).
    pub at_hash: String,
    /// Authorized party: the client id.
    pub azp: String,
    /// Profile, email and phone claims, as the granted scopes allow.
    #[serde(flatten)]
    pub identity: IdentityClaims,
}

/// The successful token response body (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The RFC 9068 access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// A new refresh token, when `offline_access` or a portal scope was granted (it replaces the
    /// one presented).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The scopes of the access token, space-separated.
    pub scope: String,
    /// The id_token, when the access token's scopes include `openid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    // Tokens are bearer credentials: keep them out of any log line that formats a response.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Keys and names needed to sign tokens: the key set and this server's issuer and API audience.
#[derive(Clone, Debug)]
pub struct Signer<'a> {
    /// The `token` function's keys (the only ones that hold the token signing key).
    pub keys: Arc<KeySet>,
    /// `iss` of every token.
    pub issuer: &'a str,
    /// `aud` of access tokens.
    pub audience: &'a str,
}

impl Signer<'_> {
    /// The access token claims for `subject` with `scopes`, issued at `now`.
    pub fn access_claims(&self, subject: &GrantSubject, scopes: &Scopes, now: i64) -> AccessClaims {
        AccessClaims {
            iss: self.issuer.to_owned(),
            sub: subject.patient_id.as_str().to_owned(),
            aud: Audience::one(self.audience),
            client_id: subject.client_id.as_str().to_owned(),
            scope: scopes.to_string(),
            exp: now + SIGNED_TOKEN_TTL_SECS,
            iat: now,
            jti: crypto::random_token(JTI_BYTES),
            gid: subject.grant_id.as_str().to_owned(),
            auth_time: subject.auth_time,
            acr: Some(subject.amr.acr().urn().to_owned()),
        }
    }

    /// The id_token claims for `subject`, bound to `access_token`; `with_nonce` is false on refresh.
    pub fn id_token_claims(
        &self,
        subject: &GrantSubject,
        scopes: &Scopes,
        access_token: &str,
        with_nonce: bool,
        now: i64,
    ) -> IdTokenClaims {
        IdTokenClaims {
            iss: self.issuer.to_owned(),
            sub: subject.patient_id.as_str().to_owned(),
            aud: subject.client_id.as_str().to_owned(),
            exp: now + SIGNED_TOKEN_TTL_SECS,
            iat: now,
            auth_time: subject.auth_time,
            nonce: if with_nonce {
                subject.nonce.clone()
            } else {
                None
            },
            sid: subject.sid.clone(),
            amr: subject.amr.values().into_iter().map(String::from).collect(),
            acr: subject.amr.acr().urn().to_owned(),
            at_hash: jwt::at_hash(access_token),
            azp: subject.client_id.as_str().to_owned(),
            identity: released_claims(&subject.claims, scopes),
        }
    }

    /// Signs the access token and, when `scopes` include `openid`, the id_token, and assembles the
    /// response with `refresh_token` (already sealed by the caller, if the grant has one).
    ///
    /// `with_nonce`: the code exchange echoes the authorization request's nonce; a refresh does not
    /// (OIDC Core §12.2).
    pub fn respond(
        &self,
        subject: &GrantSubject,
        scopes: &Scopes,
        refresh_token: Option<String>,
        with_nonce: bool,
        now: i64,
    ) -> Result<TokenResponse, OAuthError> {
        let claims = self.access_claims(subject, scopes, now);
        let access_token = self
            .keys
            .sign_jwt(jwt::TYP_ACCESS_TOKEN, &claims)
            .map_err(OAuthError::server_error)?;
        let id_token = if scopes.contains(Scope::OpenId) {
            let id_claims = self.id_token_claims(subject, scopes, &access_token, with_nonce, now);
            Some(
                self.keys
                    .sign_id_token(subject.id_token_alg, jwt::TYP_ID_TOKEN, &id_claims)
                    .map_err(OAuthError::server_error)?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: TOKEN_TYPE_BEARER,
            expires_in: SIGNED_TOKEN_TTL_SECS,
            refresh_token,
            scope: scopes.to_string(),
            id_token,
        })
    }
}

/// The identity claims `scopes` release (OIDC Core §5.4): `profile` → names, birth date, locale,
/// `email` → email and its verification, `phone` → phone number. Applied on every issue so a
/// refresh with a narrower scope also narrows the id_token.
pub fn released_claims(claims: &IdentityClaims, scopes: &Scopes) -> IdentityClaims {
    let profile = scopes.contains(Scope::Profile);
    let email = scopes.contains(Scope::Email);
    let phone = scopes.contains(Scope::Phone);
    IdentityClaims {
        name: claims.name.clone().filter(|_| profile),
        given_name: claims.given_name.clone().filter(|_| profile),
        family_name: claims.family_name.clone().filter(|_| profile),
        birthdate: claims.birthdate.clone().filter(|_| profile),
        locale: claims.locale.clone().filter(|_| profile),
        email: claims.email.clone().filter(|_| email),
        email_verified: claims.email_verified.filter(|_| email),
        phone_number: claims.phone_number.clone().filter(|_| phone),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_support::keyset_of;
    use crate::keys::Role;

    const ISS: &str = "https://portal.example";
    const AUD: &str = "https://portal.example/api/portal/v1";

    fn subject() -> GrantSubject {
        GrantSubject {
            grant_id: GrantId::generate(),
            client_id: ClientId::generate(),
            patient_id: PatientId::generate(),
            auth_time: 1_700_000_000,
            sid: Some("session-1".into()),
            amr: Amr::password_and_code(),
            nonce: Some("n-0S6_WzA2Mj".into()),
            claims: IdentityClaims {
                name: Some("Ada Lovelace".into()),
                given_name: Some("Ada".into()),
                family_name: Some("Lovelace".into()),
                birthdate: Some("1815-12-10".into()),
                locale: Some("de".into()),
                email: Some("ada@example.com".into()),
                email_verified: Some(true),
                phone_number: Some("+44 20 7946 0000".into()),
            },
            approved_at: ApprovedAt::Millis(1_700_000_000_000),
            id_token_alg: SigningAlg::RS256,
        }
    }

    #[test]
    fn an_es256_client_gets_an_es256_id_token_and_still_an_rs256_access_token() {
        let keys = Arc::new(keyset_of(&[Role::Token]));
        let signer = Signer {
            keys: keys.clone(),
            issuer: ISS,
            audience: AUD,
        };
        let subject = GrantSubject {
            id_token_alg: SigningAlg::ES256,
            ..subject()
        };
        let scopes = Scopes::parse("openid profile_read").unwrap();
        let now = chrono::Utc::now().timestamp();
        let response = signer.respond(&subject, &scopes, None, true, now).unwrap();
        let id_token = response.id_token.as_deref().unwrap();
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
        assert_eq!(header.typ.as_deref(), Some(jwt::TYP_ID_TOKEN));
        let access = jsonwebtoken::decode_header(&response.access_token).unwrap();
        assert_eq!(access.alg, jsonwebtoken::Algorithm::RS256);
        let id: IdTokenClaims =
            jwt::verify_id_token(&keys, id_token, ISS, subject.client_id.as_str()).unwrap();
        assert_eq!(id.at_hash, jwt::at_hash(&response.access_token));
        // Only id_tokens may be ES256: the access-token verifier refuses one.
        assert!(jwt::verify::<IdTokenClaims>(
            &keys,
            id_token,
            jwt::TYP_ID_TOKEN,
            ISS,
            subject.client_id.as_str()
        )
        .is_err());
        // The ES256 key is published in the token JWKS, under the header's kid.
        let kid = header.kid.unwrap();
        assert!(keys.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str() && k["alg"] == "ES256" && k["crv"] == "P-256"));
    }

    #[test]
    fn the_access_token_verifies_as_bearer_access_claims() {
        let keys = Arc::new(keyset_of(&[Role::Token]));
        let signer = Signer {
            keys: keys.clone(),
            issuer: ISS,
            audience: AUD,
        };
        let subject = subject();
        let scopes = Scopes::parse("openid profile_read").unwrap();
        let now = chrono::Utc::now().timestamp();
        let response = signer.respond(&subject, &scopes, None, true, now).unwrap();
        let claims: AccessClaims = jwt::verify(
            &keys,
            &response.access_token,
            jwt::TYP_ACCESS_TOKEN,
            ISS,
            AUD,
        )
        .unwrap();
        assert_eq!(claims.sub, subject.patient_id.as_str());
        assert_eq!(claims.client_id, subject.client_id.as_str());
        assert_eq!(claims.gid, subject.grant_id.as_str());
        assert_eq!(claims.exp - claims.iat, 300);
        assert_eq!(claims.scope, "openid profile_read");
        assert_eq!(response.expires_in, 300);
        assert_eq!(response.token_type, "Bearer");
        let id: IdTokenClaims = jwt::verify(
            &keys,
            response.id_token.as_deref().unwrap(),
            jwt::TYP_ID_TOKEN,
            ISS,
            subject.client_id.as_str(),
        )
        .unwrap();
        assert_eq!(id.at_hash, jwt::at_hash(&response.access_token));
        assert_eq!(id.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
        assert_eq!(id.sid.as_deref(), Some("session-1"));
        assert_eq!(id.identity, IdentityClaims::default(), "no profile scope");
    }

    #[test]
    fn no_id_token_without_openid_and_no_nonce_on_refresh() {
        let keys = Arc::new(keyset_of(&[Role::Token]));
        let signer = Signer {
            keys: keys.clone(),
            issuer: ISS,
            audience: AUD,
        };
        let now = chrono::Utc::now().timestamp();
        let plain = signer
            .respond(
                &subject(),
                &Scopes::parse("profile_read").unwrap(),
                None,
                true,
                now,
            )
            .unwrap();
        assert!(plain.id_token.is_none());
        let claims = signer.id_token_claims(
            &subject(),
            &Scopes::parse("openid").unwrap(),
            "at",
            false,
            now,
        );
        assert!(claims.nonce.is_none());
    }

    #[test]
    fn identity_claims_follow_the_scopes() {
        let all = subject().claims;
        let email_only = released_claims(&all, &Scopes::parse("openid email").unwrap());
        assert_eq!(email_only.email.as_deref(), Some("ada@example.com"));
        assert_eq!(email_only.email_verified, Some(true));
        assert!(email_only.name.is_none() && email_only.phone_number.is_none());
        assert!(email_only.locale.is_none());
        let profile = released_claims(&all, &Scopes::parse("openid profile").unwrap());
        assert_eq!(profile.birthdate.as_deref(), Some("1815-12-10"));
        assert_eq!(profile.locale.as_deref(), Some("de"));
        assert!(profile.email.is_none());
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let response = TokenResponse {
            access_token: "secret-at".into(),
            token_type: TOKEN_TYPE_BEARER,
            expires_in: 300,
            refresh_token: Some("secret-rt".into()),
            scope: "openid".into(),
            id_token: Some("secret-id".into()),
        };
        let text = format!("{response:?}");
        assert!(!text.contains("secret"), "{text}");
    }
}
