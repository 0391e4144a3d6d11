//! The authorization server's operations: authorization endpoint, login, consent and logout pages
//! (function `authorize`), and the token, revocation and introspection endpoints (function
//! `token`).
//!
//! The pages are HTML for browsers (no CORS, `frame-ancestors 'none'`, `no-store`); their error
//! answers are HTML pages too. The token endpoints answer JSON, errors in the RFC 6749 §5.2 shape
//! ([`crate::oauth::error::TokenErrorBody`]). Description-only functions, like
//! [`super::booking_paths`].
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use super::forms::{
    AuthorizeForm, ConsentForm, LoginForm, LogoutForm, PresentedTokenForm, TokenForm,
};
use super::params::{AuthorizeQuery, LogoutQuery, SealedRequestQuery};
use super::responses::{
    OAuthBadRequest, OAuthPayloadTooLarge, OAuthUnauthorized, OAuthUnavailable,
};
use crate::oauth::access::TokenResponse;
use crate::oauth::introspect::Introspection;

/// Authorization request
///
/// RFC 6749 §4.1 authorization code with PKCE (RFC 7636, `S256`) and the OpenID Connect
/// parameters. The browser is sent on to the login and consent pages as needed, then back to the
/// client with `code`, `state` and `iss` (RFC 9207), or `error`, `error_description`, `state` and
/// `iss`. An unknown client or an unregistered `redirect_uri` is never redirected to: the user
/// sees an error page.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    operation_id = "authorize_get",
    tag = "authorize",
    params(AuthorizeQuery),
    responses(
        (status = 302, description = "Back to the client's redirect URI with `code` or `error`", headers(("Location" = String))),
        (status = 303, description = "On to the login or consent page", headers(("Location" = String))),
        (status = 400, description = "Error page: unknown client or unregistered redirect URI", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn authorize_get() {}

/// Authorization request (form post)
///
/// The same as `GET /oauth/authorize`, with the parameters in a form body (OIDC Core §3.1.2.1).
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    operation_id = "authorize_post",
    tag = "authorize",
    request_body(content = AuthorizeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Back to the client's redirect URI with `code` or `error`", headers(("Location" = String))),
        (status = 303, description = "On to the login or consent page", headers(("Location" = String))),
        (status = 400, description = "Error page: unknown client or unregistered redirect URI", content_type = "text/html", body = String),
        (status = 413, description = "Error page: the form is larger than 64 KiB", content_type = "text/html", body = String),
        (status = 415, description = "Error page: not a form", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn authorize_post() {}

/// Login page
///
/// The sign-in form (inputs `email` and `password`, a hidden CSRF field and the sealed request).
#[utoipa::path(
    get,
    path = "/oauth/login",
    operation_id = "login_page",
    tag = "authorize",
    params(SealedRequestQuery),
    responses(
        (status = 200, description = "The login page", content_type = "text/html", body = String),
        (status = 400, description = "Error page: the sign-in request expired or is not valid", content_type = "text/html", body = String),
    )
)]
fn login_page() {}

/// Sign in
///
/// Checks the CSRF token and the credentials, throttled per account and per client address.
#[utoipa::path(
    post,
    path = "/oauth/login",
    operation_id = "login_submit",
    tag = "authorize",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Signed in: back to the client", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 303, description = "Signed in: on to the consent page", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "The login page again (missing credentials), or an error page", content_type = "text/html", body = String),
        (status = 401, description = "The login page again: unknown email or wrong password", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 413, description = "Error page: the form is larger than 64 KiB", content_type = "text/html", body = String),
        (status = 415, description = "Error page: not a form", content_type = "text/html", body = String),
        (status = 429, description = "The login page again: too many attempts", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn login_submit() {}

/// Consent page
///
/// What the client asks for, in plain words, with `Allow` and `Deny` buttons
/// (`name="decision"`).
#[utoipa::path(
    get,
    path = "/oauth/consent",
    operation_id = "consent_page",
    tag = "authorize",
    params(SealedRequestQuery),
    responses(
        (status = 200, description = "The consent page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in (or a new sign-in is required): to the login page", headers(("Location" = String))),
        (status = 400, description = "Error page: the sign-in request expired or is not valid", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn consent_page() {}

/// Allow or deny
#[utoipa::path(
    post,
    path = "/oauth/consent",
    operation_id = "consent_submit",
    tag = "authorize",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Back to the client with `code`, or `error=access_denied`", headers(("Location" = String))),
        (status = 303, description = "Not signed in: to the login page", headers(("Location" = String))),
        (status = 400, description = "Error page: no decision, or the request expired", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 413, description = "Error page: the form is larger than 64 KiB", content_type = "text/html", body = String),
        (status = 415, description = "Error page: not a form", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn consent_submit() {}

/// Log out
///
/// OIDC RP-Initiated Logout 1.0: always ends the session, then returns to a registered
/// `post_logout_redirect_uri` (with `state`) when the request proves which client asks, or shows
/// a "signed out" page.
#[utoipa::path(
    get,
    path = "/oauth/logout",
    operation_id = "logout_get",
    tag = "authorize",
    params(LogoutQuery),
    responses(
        (status = 200, description = "Signed out", content_type = "text/html", body = String),
        (status = 302, description = "Signed out: back to the client", headers(("Location" = String))),
        (status = 400, description = "Signed out, but the redirect was refused", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String),
    )
)]
fn logout_get() {}

/// Log out (form post)
#[utoipa::path(
    post,
    path = "/oauth/logout",
    operation_id = "logout_post",
    tag = "authorize",
    request_body(content = LogoutForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed out", content_type = "text/html", body = String),
        (status = 302, description = "Signed out: back to the client", headers(("Location" = String))),
        (status = 400, description = "Signed out, but the redirect was refused", content_type = "text/html", body = String),
        (status = 413, description = "Error page: the form is larger than 64 KiB", content_type = "text/html", body = String),
        (status = 415, description = "Error page: not a form", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String),
    )
)]
fn logout_post() {}

/// Token request
///
/// `authorization_code` (PKCE verifier required for public clients) and `refresh_token` (the
/// refresh token rotates; reusing an old one revokes the grant). Clients authenticate with HTTP
/// Basic, `client_id` + `client_secret` in the form, or — public clients — `client_id` alone.
/// Client authentication comes first: a client that fails it gets `401 invalid_client` whatever
/// else is wrong with the request.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "token",
    tag = "token",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse, headers(
            ("Cache-Control" = String, description = "`no-store`"),
            ("Pragma" = String, description = "`no-cache`"),
        )),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 413, response = OAuthPayloadTooLarge),
        (status = 503, response = OAuthUnavailable),
    )
)]
fn token() {}

/// Revoke a token
///
/// RFC 7009: revokes a refresh token (and its grant) or an access token of the authenticated
/// client. Answers `200` whether or not there was something to revoke.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    operation_id = "revoke",
    tag = "token",
    request_body(content = PresentedTokenForm, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_secret_basic" = [])),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke (empty body)"),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 413, response = OAuthPayloadTooLarge),
        (status = 503, response = OAuthUnavailable),
    )
)]
fn revoke() {}

/// Introspect a token
///
/// RFC 7662, for the authenticated client's own tokens; any other token is `{"active": false}`.
/// Only clients with a secret may introspect: a public client (`client_id` alone) gets
/// `401 invalid_client`.
#[utoipa::path(
    post,
    path = "/oauth/introspect",
    operation_id = "introspect",
    tag = "token",
    request_body(content = PresentedTokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("client_secret_basic" = [])),
    responses(
        (status = 200, description = "The token's state", body = Introspection),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = OAuthUnauthorized),
        (status = 413, response = OAuthPayloadTooLarge),
        (status = 503, response = OAuthUnavailable),
    )
)]
fn introspect() {}
