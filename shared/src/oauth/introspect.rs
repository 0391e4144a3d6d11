//! Token introspection (RFC 7662), for resource servers and clients that want the authoritative
//! state of a token (the API itself checks access tokens in memory, see [`crate::bearer`]).
//!
//! The caller authenticates as a client WITH ITS SECRET (RFC 7662 §2.1 requires authorisation of
//! the caller, and §4 warns that introspection must not become a token-scanning oracle: a public
//! client's id is no credential, so public clients are refused with `invalid_client`), and only
//! learns about tokens issued to itself: another client's token is reported `{"active": false}`
//! exactly like an unknown one (RFC 7662 §4 lets the server limit what each caller may see).
//! Active means:
//! - access token: our signature, `typ` `at+jwt`, our issuer and API audience, not expired, its
//!   `jti` not revoked, and its grant still present and not revoked;
//! - refresh token: our seal, not expired, its grant present and not revoked, and its generation the
//!   grant's current one (an already-rotated token is inactive).
//!
//! Anything inactive is `{"active": false}` and nothing else (§2.2).

use serde::Serialize;

use super::access::TOKEN_TYPE_BEARER;
use super::client_auth::{self, ClientCredentials};
use super::revoke::{Presented, TokenTypeHint};
use super::service::TokenService;
use super::OAuthError;
use crate::repo::GrantId;
use crate::store::now_unix;

/// `token_type` reported for refresh tokens.
pub const TOKEN_TYPE_REFRESH: &str = "refresh_token";

/// The introspection response (RFC 7662 §2.2). Inactive tokens have only `active`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Introspection {
    /// Whether the token is currently active.
    pub active: bool,
    /// Its scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The patient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Expiry (unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at (unix seconds; access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience (access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// `Bearer` for access tokens, `refresh_token` for refresh tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Token id (access tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    /// `{"active": false}`.
    pub fn inactive() -> Self {
        Self::default()
    }
}

impl TokenService {
    /// Introspects `token` for the authenticated client. Errors: `invalid_client` (401) when client
    /// authentication fails or presents no secret (a public client, answered without a read);
    /// `temporarily_unavailable` (503) when the store is unavailable (an answer of "inactive" would
    /// be a guess).
    ///
    /// Cost: one read for the client, then for an access token two reads (revocation list and
    /// grant, concurrently), for a refresh token one (the grant).
    pub async fn introspect(
        &self,
        credentials: &ClientCredentials,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<Introspection, OAuthError> {
        if credentials.is_public() {
            return Err(OAuthError::invalid_client(
                "introspection needs client authentication with a client secret; public clients cannot introspect",
            ));
        }
        let client = client_auth::authenticate(&self.clients, credentials).await?;
        let now = now_unix();
        match self.identify(token, hint).await {
            Presented::Access(claims)
                if claims.client_id == client.id.as_str() && claims.exp > now =>
            {
                let Ok(grant_id) = GrantId::parse(&claims.gid) else {
                    return Ok(Introspection::inactive());
                };
                let (revoked, grant) = tokio::join!(
                    self.revoked.is_revoked(&claims.jti),
                    self.grants.get(&grant_id)
                );
                let revoked = revoked?;
                let grant = grant?;
                let live = grant.is_some_and(|g| !g.revoked && g.client_id == client.id);
                if revoked || !live {
                    return Ok(Introspection::inactive());
                }
                Ok(Introspection {
                    active: true,
                    scope: Some(claims.scope),
                    client_id: Some(claims.client_id),
                    sub: Some(claims.sub),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    iss: Some(claims.iss),
                    aud: Some(self.audience.clone()),
                    token_type: Some(TOKEN_TYPE_BEARER),
                    jti: Some(claims.jti),
                })
            }
            Presented::Refresh(refresh)
                if refresh.client_id == client.id && !refresh.is_expired(now) =>
            {
                let grant = self.grants.get(&refresh.grant_id).await?;
                let current = grant.is_some_and(|g| {
                    !g.revoked && g.client_id == client.id && g.generation == refresh.generation
                });
                if !current {
                    return Ok(Introspection::inactive());
                }
                Ok(Introspection {
                    active: true,
                    scope: Some(refresh.scope.to_string()),
                    client_id: Some(refresh.client_id.to_string()),
                    sub: Some(refresh.patient_id.to_string()),
                    exp: Some(refresh.expires_at),
                    iss: Some(self.issuer.clone()),
                    token_type: Some(TOKEN_TYPE_REFRESH),
                    ..Introspection::default()
                })
            }
            _ => Ok(Introspection::inactive()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inactive_answer_is_only_active_false() {
        assert_eq!(
            serde_json::to_value(Introspection::inactive()).unwrap(),
            serde_json::json!({ "active": false })
        );
    }
}
