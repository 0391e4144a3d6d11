//! The public OAuth client of the browsable documentation: Swagger UI's "Authorize" button signs a
//! patient in with it (authorization code + PKCE, no secret), and "Try it out" then calls the API
//! with the token it got.
//!
//! Its id is fixed, so the `userinfo` function can hand it to Swagger UI without configuration;
//! `make run` registers it and `portal-admin docs-client` does so for a deployed stack. Its one
//! redirect URI is Swagger UI's own redirect page on this deployment ([`REDIRECT_PATH`]), so a
//! code issued to it can only ever land on the documentation page of the same origin.

use crate::domain::client::{Client, ClientError, ClientId, ClientKind, RedirectUri};
use crate::scope::{Scope, Scopes};

/// The documentation client's id.
pub const CLIENT_ID: &str = "api-docs";

/// Its display name on the login and consent pages.
pub const CLIENT_NAME: &str = "MyPatientPortal API documentation";

/// Path of Swagger UI's OAuth 2.0 redirect page (not a contract route; served by `userinfo`).
pub const REDIRECT_PATH: &str = "/api-docs/oauth2-redirect";

/// What the documentation may ask for: everything an operation needs, and no refresh tokens (the
/// page keeps its token only while it is open).
pub const SCOPES: [Scope; 7] = [
    Scope::OpenId,
    Scope::Profile,
    Scope::Email,
    Scope::Phone,
    Scope::ProfileRead,
    Scope::AppointmentRead,
    Scope::AppointmentWrite,
];

/// The redirect URI of the documentation client for the deployment at `issuer` (no trailing slash).
pub fn redirect_uri(issuer: &str) -> String {
    format!("{issuer}{REDIRECT_PATH}")
}

/// The documentation client of the deployment at `issuer`.
pub fn client(issuer: &str, now: i64) -> Result<Client, ClientError> {
    let mut scopes = Scopes::new();
    for scope in SCOPES {
        scopes.insert(scope);
    }
    Ok(Client {
        id: ClientId::parse(CLIENT_ID)?,
        name: CLIENT_NAME.to_owned(),
        kind: ClientKind::Public,
        redirect_uris: vec![RedirectUri::parse(&redirect_uri(issuer))?],
        post_logout_redirect_uris: Vec::new(),
        allowed_scopes: scopes,
        id_token_alg: Default::default(),
        created_at: now,
        require_acr: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_public_and_redirects_to_the_documentation_only() {
        let client = client("https://id.example", 1).unwrap();
        assert!(client.is_public());
        assert!(client.has_redirect_uri("https://id.example/api-docs/oauth2-redirect"));
        assert_eq!(client.redirect_uris.len(), 1);
        assert!(!client.allowed_scopes.contains(Scope::OfflineAccess));
        assert!(client.allowed_scopes.contains(Scope::AppointmentWrite));
    }

    #[test]
    fn a_loopback_issuer_gives_a_loopback_redirect() {
        let client = client("http://127.0.0.1:9000", 1).unwrap();
        assert!(client.has_redirect_uri("http://127.0.0.1:9000/api-docs/oauth2-redirect"));
    }
}
