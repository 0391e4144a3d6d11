//! Access tokens exactly as the token function issues them (RFC 9068), signed with a context's
//! keys, for requests to the resource API without going through a sign-in.

use shared::bearer::AccessClaims;
use shared::boot::Context;
use shared::config::Config;
use shared::crypto::random_id;
use shared::domain::client::ClientId;
use shared::jwt::{Audience, TYP_ACCESS_TOKEN};
use shared::keys::KeySet;
use shared::repo::GrantId;
use shared::store::now_unix;

/// How long a kit token lives (the token function's lifetime).
pub const LIFETIME_SECONDS: i64 = 300;

/// The claims of an access token for `sub` with `scope`, issued now for [`LIFETIME_SECONDS`] by the
/// issuer of `config` to the API audience, with a fresh client, grant and token id of real length.
/// Change what a test needs with struct update syntax:
/// `AccessClaims { exp: now - 120, ..access_claims(config, sub, scope) }`.
pub fn access_claims(config: &Config, sub: &str, scope: &str) -> AccessClaims {
    let now = now_unix();
    AccessClaims {
        iss: config.issuer_str().to_owned(),
        sub: sub.to_owned(),
        aud: Audience::one(config.api_audience.clone()),
        client_id: ClientId::generate().to_string(),
        scope: scope.to_owned(),
        exp: now + LIFETIME_SECONDS,
        iat: now,
        jti: random_id(16),
        gid: GrantId::generate().to_string(),
        auth_time: now - 60,
        acr: None,
    }
}

/// `claims` signed as an access token (`typ: at+jwt`) with the active key of `keys`.
///
/// # Panics
/// When signing fails (the keys are the kit's own, so that is a broken key set).
pub fn sign(keys: &KeySet, claims: &AccessClaims) -> String {
    keys.sign_jwt(TYP_ACCESS_TOKEN, claims)
        .unwrap_or_else(|e| panic!("cannot sign an access token: {e}"))
}

/// Every key of another portal (fresh keys, never published by any test context): for tokens and
/// sealed values that must be refused as foreign.
///
/// # Panics
/// When the keys cannot be made.
pub fn foreign_keys() -> KeySet {
    let now = now_unix();
    let admin = shared::keys::AdminKeys::generate(now)
        .unwrap_or_else(|e| panic!("cannot generate keys: {e}"));
    let documents: Vec<_> = shared::keys::Role::ALL
        .iter()
        .map(|&role| {
            admin
                .document(role, now)
                .unwrap_or_else(|e| panic!("cannot make a key document: {e}"))
        })
        .collect();
    KeySet::from_documents(&documents).unwrap_or_else(|e| panic!("cannot parse keys: {e}"))
}

/// A signed access token for `sub` with `scope`, valid at the resource API of `context` (whose
/// keys must include the token function's: a test context's do).
pub fn access_token(context: &Context, sub: &str, scope: &str) -> String {
    sign(
        &context.keys.current(),
        &access_claims(&context.config, sub, scope),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestContext;

    #[tokio::test]
    async fn a_kit_token_passes_the_resource_servers_check() {
        let ctx = TestContext::new();
        let token = access_token(&ctx.context, "Patient1", "openid profile_read");
        let request = crate::Event::get("/api/portal/v1/profile")
            .bearer(&token)
            .request();
        let claims = ctx
            .function(shared::keys::Role::Booking)
            .authenticate(&request, &["profile_read"], false)
            .await
            .unwrap();
        assert_eq!(claims.sub, "Patient1");
        assert_eq!(claims.exp - claims.iat, LIFETIME_SECONDS);
        assert_eq!(claims.client_id.len(), ClientId::GENERATED_LEN);
    }
}
