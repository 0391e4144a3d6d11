//! The one service behind the token, revocation and introspection endpoints: what every flow of
//! the `token` function needs (keys, issuer, audience, the grant, revocation and client
//! repositories). The flows are its methods, each in its own module: the token request and the
//! `authorization_code` grant in [`super::token`], the `refresh_token` grant in
//! [`super::refresh`], revocation in [`super::revoke`] and introspection in
//! [`super::introspect`].

use std::sync::Arc;

use super::access::Signer;
use crate::boot::Context;
use crate::keys::Keys;
use crate::repo::{ClientRepo, GrantId, GrantRepo, RepoError, RevokedTokenRepo};

/// The token, revocation and introspection endpoints over the function's context.
#[derive(Clone)]
pub struct TokenService {
    pub(crate) keys: Arc<Keys>,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) grants: GrantRepo,
    pub(crate) revoked: RevokedTokenRepo,
    pub(crate) clients: ClientRepo,
}

impl TokenService {
    /// The service over the function's store, keys and configuration.
    pub fn new(context: &Context) -> Self {
        Self {
            keys: context.keys.clone(),
            issuer: context.config.issuer_str().to_owned(),
            audience: context.config.api_audience.clone(),
            grants: GrantRepo::new(context.store.clone()),
            revoked: RevokedTokenRepo::new(context.store.clone()),
            clients: ClientRepo::new(context.store.clone()),
        }
    }

    pub(crate) fn signer(&self) -> Signer<'_> {
        Signer {
            keys: self.keys.current(),
            issuer: &self.issuer,
            audience: &self.audience,
        }
    }

    /// The exception path of a replayed code or refresh token (RFC 9700 §4.14.2, RFC 6749 §4.1.2):
    /// revoke the whole grant. A failure here is logged, not returned: the request is refused
    /// either way, and the replay is already on record in the log.
    pub(crate) async fn revoke_after_replay(&self, grant_id: &GrantId, what: &'static str) {
        match self.grants.revoke(grant_id).await {
            Ok(()) => tracing::warn!(grant_id = %grant_id, "{what}: grant revoked"),
            Err(RepoError::NotFound) => {
                tracing::warn!(grant_id = %grant_id, "{what}: grant already gone")
            }
            Err(error) => tracing::error!(
                grant_id = %grant_id,
                error = %error,
                "{what}: revoking the grant FAILED"
            ),
        }
    }
}
