//! The token endpoint (RFC 6749 §3.2): the token request and the `authorization_code` grant here,
//! the `refresh_token` grant in [`super::refresh`], revocation and introspection in
//! [`super::revoke`] and [`super::introspect`] — all methods of one [`TokenService`].
//!
//! Cost: a successful code exchange and a successful refresh are ONE storage round trip each. The
//! authorization code and the refresh token are sealed (AES-256-GCM) and carry everything the
//! exchange needs, so the checks on them (expiry, client binding, redirect URI, PKCE, scopes) run in
//! memory; the one transaction then authenticates the client on its record and creates (or rotates)
//! the grant under a condition that makes the code (or refresh token) single-use. Only exceptional
//! paths pay more: a replayed code or refresh token a second round trip to revoke the grant, and a
//! request refused before its transaction one read to authenticate the client.
//!
//! Client authentication comes first: whatever else is wrong with a request, a client that does
//! not authenticate (unknown, wrong secret, no secret for a confidential client, a secret for a
//! public one) gets `invalid_client` and learns nothing about the code or refresh token it sent.
//! A request the in-memory checks refuse ([`Refusal::Unchecked`]) therefore authenticates the
//! client with one read of its record before the refusal is told; one refused by or after the
//! transaction ([`Refusal::Checked`]) was authenticated by it already.

use super::access::{GrantSubject, TokenResponse};
use super::claims::IdentityClaims;
use super::client_auth::{self, ClientCredentials};
use super::code::AuthorizationCode;
use super::params::{param, require};
use super::refresh::RefreshToken;
use super::refusal::Refusal;
use super::service::TokenService;
use super::{OAuthError, OAuthErrorCode};
use crate::crypto;
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::http::request::Params;
use crate::keys::{REFRESH_TTL_SECS, SIGNED_TOKEN_TTL_SECS};
use crate::metrics::{self, Counter};
use crate::repo::{Grant, GrantError, GrantId};
use crate::scope::Scopes;
use crate::store::now_unix;

/// How long a grant without refresh tokens is kept: as long as its access tokens live, plus a
/// minute of margin. Introspection reports an access token inactive once its grant is gone, and
/// replay detection of the code needs the grant only while the code is redeemable (60 s).
pub const SHORT_GRANT_TTL_SECS: i64 = SIGNED_TOKEN_TTL_SECS + 60;

/// Description of every failure to open or use an authorization code, so the answer does not
/// reveal which check failed for codes the caller cannot read anyway.
const INVALID_CODE: &str = "the authorization code is invalid or expired";

/// The grant types this server supports (RFC 6749 §4.1.3 and §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    /// `authorization_code`
    AuthorizationCode,
    /// `refresh_token`
    RefreshToken,
}

impl GrantType {
    /// The `grant_type` parameter: missing is `invalid_request`, anything but the two supported
    /// types is `unsupported_grant_type` (including `client_credentials`, `password` and the
    /// implicit flow, which this server does not offer to any client).
    pub fn parse(value: Option<&str>) -> Result<GrantType, OAuthError> {
        match value {
            None => Err(OAuthError::invalid_request(
                "parameter `grant_type` is required",
            )),
            Some("authorization_code") => Ok(GrantType::AuthorizationCode),
            Some("refresh_token") => Ok(GrantType::RefreshToken),
            Some(_) => Err(OAuthError::new(
                OAuthErrorCode::UnsupportedGrantType,
                "supported grant types are authorization_code and refresh_token",
            )),
        }
    }
}

/// The parameters of an `authorization_code` token request (RFC 6749 §4.1.3, RFC 7636 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRequest<'a> {
    /// The sealed code.
    pub code: &'a str,
    /// Must equal the authorization request's `redirect_uri` exactly.
    pub redirect_uri: &'a str,
    /// The PKCE verifier, if the client sent one.
    pub code_verifier: Option<&'a str>,
}

impl TokenService {
    /// A token request: dispatches on `grant_type` and reads that grant's parameters from the form.
    ///
    /// Client authentication comes first (see the module documentation): a request refused before
    /// its transaction costs one read of the client's record, and a client that fails it gets
    /// `invalid_client` instead of the refusal.
    pub async fn token(
        &self,
        credentials: ClientCredentials,
        params: &Params,
    ) -> Result<TokenResponse, OAuthError> {
        match self.grant(&credentials, params).await {
            Ok(tokens) => Ok(tokens),
            Err(Refusal::Checked(error)) => Err(error),
            Err(Refusal::Unchecked(error)) => {
                client_auth::authenticate(&self.clients, &credentials).await?;
                Err(error)
            }
        }
    }

    async fn grant(
        &self,
        credentials: &ClientCredentials,
        params: &Params,
    ) -> Result<TokenResponse, Refusal> {
        match GrantType::parse(param(params, "grant_type")?)? {
            GrantType::AuthorizationCode => {
                let code = require(params, "code")?;
                // RFC 6749 §4.1.3: REQUIRED when the authorization request had one, which it
                // always does here (the authorization endpoint requires it).
                let redirect_uri = require(params, "redirect_uri")?;
                let code_verifier = param(params, "code_verifier")?;
                let request = CodeRequest {
                    code,
                    redirect_uri,
                    code_verifier,
                };
                let tokens = self.exchange_code(credentials, request).await?;
                metrics::count_with(Counter::TokensIssued, "authorization_code");
                Ok(tokens)
            }
            GrantType::RefreshToken => {
                let refresh_token = require(params, "refresh_token")?;
                let scope = param(params, "scope")?;
                let tokens = self.refresh(credentials, refresh_token, scope).await?;
                metrics::count_with(Counter::TokensIssued, "refresh_token");
                Ok(tokens)
            }
        }
    }

    /// The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §2.1.1). One
    /// storage round trip when it succeeds.
    ///
    /// Errors: a code that does not open, has expired, or belongs to another client, a different
    /// `redirect_uri`, a failed PKCE check, a verifier without a challenge (downgrade) or a missing
    /// verifier: `invalid_grant`; a malformed verifier: `invalid_request`; a code without PKCE
    /// presented by a public client: `unauthorized_client` (public clients must use PKCE); client
    /// authentication failing in the transaction: `invalid_client`; a code redeemed before: the
    /// grant is revoked (its refresh token stops working and its access tokens introspect inactive)
    /// and the answer is `invalid_grant`.
    pub(crate) async fn exchange_code(
        &self,
        credentials: &ClientCredentials,
        request: CodeRequest<'_>,
    ) -> Result<TokenResponse, Refusal> {
        if let Some(verifier) = request.code_verifier {
            check_verifier_syntax(verifier)?;
        }
        let code: AuthorizationCode = self
            .keys
            .for_sealed(AuthorizationCode::PURPOSE, request.code)
            .await
            .sealer(AuthorizationCode::PURPOSE)
            .open_json(request.code)
            .map_err(|_| OAuthError::invalid_grant(INVALID_CODE))?;
        let now = now_unix();
        if now >= code.expires_at {
            return Err(OAuthError::invalid_grant(INVALID_CODE).into());
        }
        if code.client_id != credentials.client_id.as_str() {
            return Err(OAuthError::invalid_grant(
                "the authorization code was issued to another client",
            )
            .into());
        }
        if code.redirect_uri != request.redirect_uri {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the one of the authorization request",
            )
            .into());
        }
        check_pkce(&code, request.code_verifier, credentials.is_public())?;

        let subject = subject_of(&code)?;
        let scopes = Scopes::parse(&code.scope).map_err(|e| corrupt_code("scope", e))?;
        let with_refresh = scopes.grants_refresh_token();
        let expires_at = now
            + if with_refresh {
                REFRESH_TTL_SECS
            } else {
                SHORT_GRANT_TTL_SECS
            };
        let grant = Grant::new(
            subject.grant_id.clone(),
            subject.client_id.clone(),
            subject.patient_id.clone(),
            scopes.clone(),
            subject.auth_time,
            expires_at,
        )
        // A consent withdrawn since the patient approved the client stops the exchange.
        .authorized_at(code.approved_at());
        match self
            .grants
            .create_with_client_check(&grant, credentials.check.clone())
            .await
        {
            Ok(()) => {}
            Err(GrantError::InvalidClient) => return Err(Refusal::Checked(client_auth::failed())),
            Err(GrantError::AlreadyRedeemed) => {
                self.revoke_after_replay(&grant.id, "authorization code replayed")
                    .await;
                return Err(Refusal::Checked(OAuthError::invalid_grant(
                    "authorization code was already used; tokens issued from it are revoked",
                )));
            }
            Err(GrantError::ConsentWithdrawn) => {
                return Err(Refusal::Checked(OAuthError::invalid_grant(
                    "the patient removed this app's access after the code was issued",
                )))
            }
            Err(other) => return Err(Refusal::Checked(other.into())),
        }

        let refresh_token = if with_refresh {
            let token = RefreshToken::first(&subject, &scopes, expires_at);
            Some(token.seal(&self.keys.current()).map_err(Refusal::Checked)?)
        } else {
            None
        };
        self.signer()
            .respond(&subject, &scopes, refresh_token, true, now)
            .map_err(Refusal::Checked)
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
fn check_verifier_syntax(verifier: &str) -> Result<(), OAuthError> {
    let ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(
            "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'",
        ))
    }
}

/// PKCE (RFC 7636 §4.6) and its downgrade protection (RFC 9700 §2.1.1).
fn check_pkce(
    code: &AuthorizationCode,
    verifier: Option<&str>,
    public_client: bool,
) -> Result<(), OAuthError> {
    match (code.code_challenge.as_deref(), verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = crypto::sha256_b64url(verifier.as_bytes());
            if crypto::constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "code_verifier is required: the authorization request had a code_challenge",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier was sent but the authorization request had no code_challenge",
        )),
        // The authorization endpoint never issues a PKCE-less code to a public client; if one
        // arrives anyway (say the client was re-registered as public), refuse it without
        // burning it: the client may not use this grant without PKCE (RFC 9700 §2.1.1).
        (None, None) if public_client => Err(OAuthError::new(
            OAuthErrorCode::UnauthorizedClient,
            "public clients must use PKCE: this authorization code was issued without a code_challenge",
        )),
        (None, None) => Ok(()),
    }
}

fn subject_of(code: &AuthorizationCode) -> Result<GrantSubject, OAuthError> {
    Ok(GrantSubject {
        grant_id: GrantId::parse(&code.grant_id).map_err(|e| corrupt_code("grant_id", e))?,
        client_id: ClientId::parse(&code.client_id).map_err(|e| corrupt_code("client_id", e))?,
        patient_id: PatientId::parse(&code.patient_id)
            .map_err(|e| corrupt_code("patient_id", e))?,
        auth_time: code.auth_time,
        sid: code.sid.clone(),
        amr: code.amr.clone(),
        nonce: code.nonce.clone(),
        claims: IdentityClaims::clone(&code.claims),
        id_token_alg: code.id_token_alg,
        approved_at: code.approved_at(),
    })
}

/// An authentic code whose content is unusable is our own bug: log it loudly, and answer as for
/// any unusable code (the client can only start over).
fn corrupt_code(field: &str, error: impl std::fmt::Display) -> OAuthError {
    tracing::error!(field, error = %error, "an authentic authorization code has an invalid field");
    OAuthError::invalid_grant(INVALID_CODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_are_parsed_strictly() {
        assert_eq!(
            GrantType::parse(Some("authorization_code")).unwrap(),
            GrantType::AuthorizationCode
        );
        assert_eq!(
            GrantType::parse(Some("refresh_token")).unwrap(),
            GrantType::RefreshToken
        );
        assert_eq!(
            GrantType::parse(None).unwrap_err().code,
            OAuthErrorCode::InvalidRequest
        );
        for other in [
            "password",
            "client_credentials",
            "implicit",
            "Refresh_Token",
        ] {
            assert_eq!(
                GrantType::parse(Some(other)).unwrap_err().code,
                OAuthErrorCode::UnsupportedGrantType,
                "{other}"
            );
        }
    }

    #[test]
    fn verifier_syntax_follows_rfc_7636() {
        assert!(check_verifier_syntax(&"a".repeat(43)).is_ok());
        assert!(check_verifier_syntax(&"-._~AZaz09".repeat(12)).is_ok());
        assert!(check_verifier_syntax(&"a".repeat(42)).is_err());
        assert!(check_verifier_syntax(&"a".repeat(129)).is_err());
        assert!(check_verifier_syntax(&format!("{}+", "a".repeat(43))).is_err());
    }

    fn code(challenge: Option<&str>) -> AuthorizationCode {
        AuthorizationCode {
            grant_id: "g".into(),
            client_id: "c".into(),
            redirect_uri: "https://app.example/cb".into(),
            code_challenge: challenge.map(str::to_owned),
            scope: "openid".into(),
            patient_id: "p".into(),
            nonce: None,
            auth_time: 0,
            sid: None,
            amr: Default::default(),
            expires_at: 0,
            approved_at_ms: None,
            claims: IdentityClaims::default(),
            id_token_alg: Default::default(),
        }
    }

    #[test]
    fn pkce_accepts_the_rfc_7636_example_and_refuses_downgrades() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_pkce(&code(Some(challenge)), Some(verifier), true).is_ok());
        let wrong = check_pkce(&code(Some(challenge)), Some(&"x".repeat(43)), false);
        assert_eq!(wrong.unwrap_err().code, OAuthErrorCode::InvalidGrant);
        let missing = check_pkce(&code(Some(challenge)), None, false);
        assert_eq!(missing.unwrap_err().code, OAuthErrorCode::InvalidGrant);
        let downgrade = check_pkce(&code(None), Some(verifier), false);
        assert_eq!(downgrade.unwrap_err().code, OAuthErrorCode::InvalidGrant);
        assert!(check_pkce(&code(None), None, false).is_ok());
        let public = check_pkce(&code(None), None, true);
        assert_eq!(public.unwrap_err().code, OAuthErrorCode::UnauthorizedClient);
    }
}
