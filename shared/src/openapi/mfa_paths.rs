//! The second factor's pages (function `authorize`): the code page of a sign-in and the
//! authenticator-app page of the account. HTML for browsers, like the login page; their forms are
//! described here. Description-only functions, like [`super::oauth_paths`].
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::params::SealedRequestQuery;

/// `POST /oauth/mfa`.
#[derive(Serialize, ToSchema)]
pub struct CodeForm {
    /// A 6-digit code of the authenticator app, or a recovery code.
    pub code: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The sealed authorization request of the page (absent on the account page's own sign-in).
    pub request: Option<String>,
    /// `account` on the account page's own sign-in: afterwards the browser goes to `/account`.
    #[serde(rename = "return")]
    pub return_to: Option<String>,
    /// The sealed proof of the password, when the page follows the login form (empty for a
    /// signed-in session that steps up).
    pub pending: Option<String>,
    /// The language switch (`en`, `de`): the page again in this language.
    pub lang: Option<String>,
}

/// What `POST /account/mfa/totp` does.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TotpAction {
    /// Confirm the offered secret with `code`.
    Confirm,
    /// Remove the app: `code`, or `password` and `recovery_code`.
    Remove,
}

/// `POST /account/mfa/totp`.
#[derive(Serialize, ToSchema)]
pub struct TotpForm {
    /// Confirm or remove.
    pub action: TotpAction,
    /// A current code of the app.
    pub code: Option<String>,
    /// The sealed offer of the setup page (confirm).
    pub enrolment: Option<String>,
    /// The password (remove, with `recovery_code`).
    pub password: Option<String>,
    /// A recovery code (remove, with `password`).
    pub recovery_code: Option<String>,
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The sealed sign-in request the setup was asked for, if any.
    pub request: Option<String>,
    /// The language switch (`en`, `de`).
    pub lang: Option<String>,
}

/// `GET /account/mfa/totp`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TotpQuery {
    /// The sealed sign-in request that asked for a second factor: "Continue" returns to it.
    pub request: Option<String>,
}

/// Second-factor page
///
/// A signed-in session weaker than the request asks for (`acr_values`, or the client's
/// registration) enters a code here; a patient without an authenticator app is sent to set one up.
#[utoipa::path(
    get,
    path = "/oauth/mfa",
    operation_id = "second_factor_page",
    tag = "authorize",
    params(SealedRequestQuery),
    responses(
        (status = 200, description = "The code page (field `code`)", content_type = "text/html", body = String),
        (status = 302, description = "The session is strong enough: back to the client", headers(("Location" = String))),
        (status = 303, description = "To the login, consent or authenticator-app setup page", headers(("Location" = String))),
        (status = 400, description = "Error page: the sign-in request expired or is not valid", content_type = "text/html", body = String),
    )
)]
fn code_page() {}

/// Second factor
///
/// Checks the code (a TOTP code, each accepted once, or an unused recovery code), throttled like
/// passwords; then starts or upgrades the session (`amr` `pwd otp mfa`, `acr` loa:2).
#[utoipa::path(
    post,
    path = "/oauth/mfa",
    operation_id = "second_factor_submit",
    tag = "authorize",
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 302, description = "Signed in: back to the client", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 303, description = "Signed in: on to the consent page", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "Error page: the sign-in request expired", content_type = "text/html", body = String),
        (status = 401, description = "The code page again: wrong or already used code", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "The code page again: too many attempts", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn code_submit() {}

/// Authenticator app
///
/// For a signed-in patient: the setup page (the `otpauth://totp/…` URI as text and as a QR code,
/// field `code`), or, once set up, how many recovery codes are left and the removal form.
#[utoipa::path(
    get,
    path = "/account/mfa/totp",
    operation_id = "totp_page",
    tag = "authorize",
    params(TotpQuery),
    responses(
        (status = 200, description = "The setup page, or the app's status", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the account page's sign-in", headers(("Location" = String))),
    )
)]
fn totp_page() {}

/// Set up or remove the authenticator app
///
/// `action=confirm`: a code from the app turns it on and the page shows 10 single-use recovery
/// codes, once. `action=remove`: a current code, or the password and a recovery code.
#[utoipa::path(
    post,
    path = "/account/mfa/totp",
    operation_id = "totp_submit",
    tag = "authorize",
    request_body(content = TotpForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The recovery codes, or the app removed", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the account page's sign-in", headers(("Location" = String))),
        (status = 401, description = "Wrong code", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "Too many attempts", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn totp_submit() {}
