//! The security schemes of the OpenAPI document: OAuth 2.0 authorization code (with the portal and
//! OpenID Connect scopes, described as the consent page describes them) and, as an alternative for
//! a token already at hand, HTTP Bearer for resource routes; HTTP Basic for clients authenticating
//! at the token, revocation and introspection endpoints.

use utoipa::openapi::security::{
    AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};

use crate::scope::Scope;

/// Name of the OAuth 2.0 scheme that resource routes require.
pub const OAUTH2: &str = "oauth2";

/// Name of the HTTP Bearer scheme: the same access tokens, for clients (and the browsable
/// documentation) that already hold one. Requirements on it list the same scopes as on
/// [`OAUTH2`] (OpenAPI 3.1 allows roles on non-OAuth schemes).
pub const BEARER: &str = "bearer";

/// Name of the HTTP Basic scheme of `client_secret_basic` client authentication.
pub const CLIENT_BASIC: &str = "client_secret_basic";

/// The OAuth 2.0 authorization code flow of the server at `issuer` (no trailing slash), with every
/// scope it knows.
pub fn oauth2(issuer: &str) -> SecurityScheme {
    let scopes = Scopes::from_iter(
        Scope::ALL
            .iter()
            .map(|scope| (scope.as_str().to_owned(), scope.description())),
    );
    let flow = AuthorizationCode::with_refresh_url(
        format!("{issuer}/oauth/authorize"),
        format!("{issuer}/oauth/token"),
        scopes,
        format!("{issuer}/oauth/token"),
    );
    let mut oauth2 = OAuth2::new([Flow::AuthorizationCode(flow)]);
    oauth2.description = Some(
        "Authorization code with PKCE (S256; required for public clients). Send the access token as \
         `Authorization: Bearer <token>`; each operation lists the scopes it requires, all of them."
            .to_owned(),
    );
    SecurityScheme::OAuth2(oauth2)
}

/// An access token from this server's token endpoint, sent as `Authorization: Bearer <token>`.
pub fn bearer() -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token (RFC 9068 JWT) from the token endpoint; it must carry every scope \
                 the operation lists",
            ))
            .build(),
    )
}

/// HTTP Basic with the client id and secret (`client_secret_basic`, RFC 6749 §2.3.1). Clients may
/// instead send `client_id` (and `client_secret`) in the form body.
pub fn client_basic() -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Basic)
            .description(Some(
                "Client id and secret, each form-urlencoded, as HTTP Basic credentials",
            ))
            .build(),
    )
}
