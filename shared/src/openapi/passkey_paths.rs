//! The passkey pages (function `authorize`): signing in with a passkey, the account's passkeys,
//! and the ceremony script. HTML for browsers, like the login page; their forms are described here.
//! Description-only functions, like [`super::oauth_paths`].
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use serde::Serialize;
use utoipa::ToSchema;

use super::params::SealedRequestQuery;

/// `POST /oauth/passkey`.
#[derive(Serialize, ToSchema)]
pub struct PasskeySignInForm {
    /// The id of the challenge the page offered.
    pub ceremony: String,
    /// The authenticator's answer (`navigator.credentials.get`) as JSON, binary fields in
    /// base64url.
    pub credential: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The sealed authorization request of the page (absent on the account page's own sign-in).
    pub request: Option<String>,
    /// `account` on the account page's own sign-in: afterwards the browser goes to `/account`.
    #[serde(rename = "return")]
    pub return_to: Option<String>,
}

/// What `POST /account/mfa/passkeys` does.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasskeyAction {
    /// Add the passkey in `credential`, named `name`.
    Add,
    /// Remove the passkey `id` (needs `password`).
    Remove,
}

/// `POST /account/mfa/passkeys`.
#[derive(Serialize, ToSchema)]
pub struct PasskeysForm {
    /// Add or remove.
    pub action: PasskeyAction,
    /// The id of the challenge the page offered (add).
    pub ceremony: Option<String>,
    /// The authenticator's answer (`navigator.credentials.create`) as JSON (add).
    pub credential: Option<String>,
    /// A name for the passkey (add; at most 60 characters).
    pub name: Option<String>,
    /// The passkey to remove (remove).
    pub id: Option<String>,
    /// The password (remove).
    pub password: Option<String>,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// Sign in with a passkey
///
/// The page with a fresh challenge for any passkey of this portal (no address typed) and one
/// button; with `return=account` instead of `request`, the account page's own sign-in.
#[utoipa::path(
    get,
    path = "/oauth/passkey",
    operation_id = "passkey_sign_in_page",
    tag = "authorize",
    params(SealedRequestQuery),
    responses(
        (status = 200, description = "The passkey sign-in page", content_type = "text/html", body = String),
        (status = 400, description = "Error page: the sign-in request expired, or passkeys are off", content_type = "text/html", body = String),
    )
)]
fn passkey_sign_in_page() {}

/// Passkey answer
///
/// Checks the assertion (origin, relying party, signature, user verification, counter), throttled
/// like passwords; then starts the session (`amr` `hwk`/`swk` `user` `mfa`, `acr` loa:2).
#[utoipa::path(
    post,
    path = "/oauth/passkey",
    operation_id = "passkey_sign_in",
    tag = "authorize",
    request_body(content = PasskeySignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Signed in: back to the client", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 303, description = "Signed in: on to the consent page or the account page", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "The page again: the challenge expired or was answered already", content_type = "text/html", body = String),
        (status = 401, description = "The page again: the passkey was refused", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "The page again: too many attempts", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn passkey_sign_in() {}

/// Passkeys of the account
///
/// For a signed-in patient: the passkeys (name, added, last used, synced or on one device), each
/// with a removal form, and the form that adds one (with a fresh challenge).
#[utoipa::path(
    get,
    path = "/account/mfa/passkeys",
    operation_id = "passkeys_page",
    tag = "authorize",
    responses(
        (status = 200, description = "The passkey page", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the account page's sign-in", headers(("Location" = String))),
    )
)]
fn passkeys_page() {}

/// Add or remove a passkey
///
/// `action=add`: the authenticator's answer to the page's challenge, and a name; the patient is
/// mailed a notice. `action=remove`: the passkey's `id` and the password.
#[utoipa::path(
    post,
    path = "/account/mfa/passkeys",
    operation_id = "passkeys_submit",
    tag = "authorize",
    request_body(content = PasskeysForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The passkey page, saying what was done", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the account page's sign-in", headers(("Location" = String))),
        (status = 400, description = "The page again: the challenge expired or the answer was refused", content_type = "text/html", body = String),
        (status = 401, description = "The page again: wrong password", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 409, description = "The page again: the passkey is already on the account", content_type = "text/html", body = String),
        (status = 429, description = "Too many attempts", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn passkeys_submit() {}

/// Passkey ceremony script
///
/// The portal's only script: it runs `navigator.credentials` for the passkey pages.
#[utoipa::path(
    get,
    path = "/oauth/passkey.js",
    operation_id = "passkey_script",
    tag = "authorize",
    responses(
        (status = 200, description = "The script (cacheable for a day)", content_type = "text/javascript", body = String),
    )
)]
fn passkey_script() {}
