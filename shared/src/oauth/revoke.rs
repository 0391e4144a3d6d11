//! Token revocation (RFC 7009).
//!
//! The client authenticates (one read of its record). Then:
//! - a refresh token of this client revokes its whole grant: no refresh token of the family works
//!   again and introspection reports the family's access tokens inactive (RFC 7009 §2.1 lets the
//!   server revoke related tokens; for a rotating family that is the only safe choice);
//! - an access token of this client (a JWT we signed, not expired) is put on the revocation list
//!   until it expires, which introspection consults;
//! - anything else — garbage, an expired token, another client's token — changes nothing and is
//!   still answered with 200 (RFC 7009 §2.2: the client cannot act on the difference, and an
//!   error would tell an attacker which tokens are live).
//!
//! Resource servers check access tokens in memory (zero reads), so a revoked access token keeps
//! working at the API until it expires (at most 5 minutes); introspection and refresh see the
//! revocation at once.

use super::client_auth::{self, ClientCredentials};
use super::refresh::RefreshToken;
use super::service::TokenService;
use super::OAuthError;
use crate::bearer::AccessClaims;
use crate::jwt;
use crate::repo::RepoError;

/// The optional `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1). It only changes which kind is
/// tried first: an unknown hint is ignored, and a wrong hint still finds the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    /// The hint, or `None` when absent or not one of ours (RFC 7009 §2.1: the server may ignore it;
    /// `unsupported_token_type` is only for types the server cannot revoke, and we revoke both).
    pub fn parse(value: Option<&str>) -> Option<TokenTypeHint> {
        match value {
            Some("access_token") => Some(TokenTypeHint::AccessToken),
            Some("refresh_token") => Some(TokenTypeHint::RefreshToken),
            _ => None,
        }
    }
}

/// A presented token, recognised as one we issued (signature or seal checked), or not.
#[derive(Clone, Debug)]
pub(crate) enum Presented {
    /// A sealed refresh token (any expiry; the caller checks).
    Refresh(RefreshToken),
    /// A verified, unexpired-within-leeway access token.
    Access(AccessClaims),
    /// Not a token of ours, or no longer verifiable.
    Unknown,
}

impl TokenService {
    /// Opens or verifies `token`, trying the hinted kind first (with keys reloaded first if it
    /// names a key this instance has not loaded).
    pub(crate) async fn identify(&self, token: &str, hint: Option<TokenTypeHint>) -> Presented {
        let keys = if token.split('.').count() == 3 {
            self.keys.for_token(token).await
        } else {
            self.keys.for_sealed(RefreshToken::PURPOSE, token).await
        };
        let as_refresh = || {
            RefreshToken::open(&keys, token)
                .ok()
                .map(Presented::Refresh)
        };
        let as_access = || {
            jwt::verify::<AccessClaims>(
                &keys,
                token,
                jwt::TYP_ACCESS_TOKEN,
                &self.issuer,
                &self.audience,
            )
            .ok()
            .map(Presented::Access)
        };
        let found = match hint {
            Some(TokenTypeHint::AccessToken) => as_access().or_else(as_refresh),
            _ => as_refresh().or_else(as_access),
        };
        found.unwrap_or(Presented::Unknown)
    }

    /// Revokes `token` if it is one of the authenticated client's (RFC 7009 §2.1). `Ok` also when
    /// there was nothing to revoke (§2.2). Errors: `invalid_client` (401) when client
    /// authentication fails; `temporarily_unavailable` (503) when the store is.
    pub async fn revoke(
        &self,
        credentials: &ClientCredentials,
        token: &str,
        hint: Option<TokenTypeHint>,
    ) -> Result<(), OAuthError> {
        let client = client_auth::authenticate(&self.clients, credentials).await?;
        match self.identify(token, hint).await {
            Presented::Refresh(refresh) if refresh.client_id == client.id => {
                match self.grants.revoke(&refresh.grant_id).await {
                    Ok(()) => {
                        tracing::info!(grant_id = %refresh.grant_id, client_id = %client.id,
                            "grant revoked by its client");
                        Ok(())
                    }
                    Err(RepoError::NotFound) => Ok(()),
                    Err(other) => Err(other.into()),
                }
            }
            Presented::Access(claims) if claims.client_id == client.id.as_str() => {
                self.revoked.revoke_jti(&claims.jti, claims.exp).await?;
                tracing::info!(grant_id = %claims.gid, client_id = %client.id,
                    "access token revoked by its client");
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_read_and_unknown_ones_ignored() {
        assert_eq!(
            TokenTypeHint::parse(Some("access_token")),
            Some(TokenTypeHint::AccessToken)
        );
        assert_eq!(
            TokenTypeHint::parse(Some("refresh_token")),
            Some(TokenTypeHint::RefreshToken)
        );
        assert_eq!(TokenTypeHint::parse(Some("id_token")), None);
        assert_eq!(TokenTypeHint::parse(None), None);
    }
}
