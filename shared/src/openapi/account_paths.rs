//! The account pages of the `authorize` function: registration, address verification, the
//! verification link sent again, and password recovery. HTML pages for browsers (CSRF field and
//! cookie like the login form), described here so the document lists every route.

#![allow(dead_code)] // The structs exist only for their OpenAPI schemas.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::responses::NotFound;

/// `POST /account/register`.
#[derive(Serialize, ToSchema)]
pub struct RegisterForm {
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The sealed sign-in request the patient came from (may be empty).
    pub request: Option<String>,
    /// Sign-in address; a verification link is mailed to it.
    pub email: String,
    /// At least 10 characters, not one of the most common passwords.
    pub password: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    /// International format, e.g. `+49 30 1234567`.
    pub phone_number: Option<String>,
}

/// `POST /account/verify/resend` and `POST /account/password/forgot`.
#[derive(Serialize, ToSchema)]
pub struct EmailForm {
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The sealed sign-in request the patient came from (may be empty).
    pub request: Option<String>,
    /// The account's address (the answer is the same for every address).
    pub email: String,
}

/// `POST /account/verify`.
#[derive(Serialize, ToSchema)]
pub struct VerifyForm {
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The token of the mailed link.
    pub token: String,
}

/// `POST /account/password/reset`.
#[derive(Serialize, ToSchema)]
pub struct ResetForm {
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The token of the mailed link.
    pub token: String,
    /// The new password (same rules as registration).
    pub password: String,
    /// `yes` also revokes every app's access (all grants).
    pub sign_out_apps: Option<String>,
}

/// The pages reached from the login page.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PendingQuery {
    /// The sealed sign-in request the patient came from, if any.
    pub request: Option<String>,
}

/// The pages of mailed links.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The sealed token of the link.
    pub token: String,
}

/// Registration form
///
/// 404 (`not_found`) when `PORTAL_SELF_REGISTRATION=off`.
#[utoipa::path(get, path = "/account/register", operation_id = "register_page", tag = "authorize",
    params(PendingQuery),
    responses(
        (status = 200, description = "The registration form", content_type = "text/html", body = String),
        (status = 404, response = NotFound),
    )
)]
fn register_page() {}

/// Register
///
/// The same answer for a new and a taken address (its owner gets a mail instead).
#[utoipa::path(post, path = "/account/register", operation_id = "register_submit", tag = "authorize",
    request_body(content = RegisterForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Check your mail", content_type = "text/html", body = String),
        (status = 400, description = "The form again, each problem beside its field", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 404, response = NotFound),
        (status = 429, description = "Too many registrations from this address or for this email", content_type = "text/html", body = String),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String),
    )
)]
fn register_submit() {}

/// Verification link
///
/// Shows a button; a GET never verifies (mail scanners fetch links).
#[utoipa::path(get, path = "/account/verify", operation_id = "verify_page", tag = "authorize",
    params(LinkQuery),
    responses(
        (status = 200, description = "The confirm button", content_type = "text/html", body = String),
        (status = 400, description = "The link expired, was used, or is not valid: a way to ask again", content_type = "text/html", body = String),
    )
)]
fn verify_page() {}

/// Verify the address
#[utoipa::path(post, path = "/account/verify", operation_id = "verify_submit", tag = "authorize",
    request_body(content = VerifyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Confirmed, with the way back to the app's sign-in", content_type = "text/html", body = String),
        (status = 400, description = "The link expired or is not valid", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn verify_submit() {}

/// Form: send the verification link again
#[utoipa::path(get, path = "/account/verify/resend", operation_id = "resend_page", tag = "authorize",
    params(PendingQuery),
    responses((status = 200, description = "The form", content_type = "text/html", body = String))
)]
fn resend_page() {}

/// Send the verification link again
#[utoipa::path(post, path = "/account/verify/resend", operation_id = "resend_submit", tag = "authorize",
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The same answer for every address", content_type = "text/html", body = String),
        (status = 400, description = "Not an email address", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "Too many requests", content_type = "text/html", body = String),
    )
)]
fn resend_submit() {}

/// Form: forgot password
#[utoipa::path(get, path = "/account/password/forgot", operation_id = "forgot_page", tag = "authorize",
    params(PendingQuery),
    responses((status = 200, description = "The form", content_type = "text/html", body = String))
)]
fn forgot_page() {}

/// Ask for a reset link (30 minutes)
#[utoipa::path(post, path = "/account/password/forgot", operation_id = "forgot_submit", tag = "authorize",
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The same answer for every address", content_type = "text/html", body = String),
        (status = 400, description = "Not an email address", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "Too many requests", content_type = "text/html", body = String),
    )
)]
fn forgot_submit() {}

/// Reset link
///
/// Shows the new-password form; a GET changes nothing.
#[utoipa::path(get, path = "/account/password/reset", operation_id = "reset_page", tag = "authorize",
    params(LinkQuery),
    responses(
        (status = 200, description = "The new-password form", content_type = "text/html", body = String),
        (status = 400, description = "The link expired, was used, or is not valid: a way to ask again", content_type = "text/html", body = String),
    )
)]
fn reset_page() {}

/// Set a new password
///
/// Ends every sign-in session of the patient; `sign_out_apps=yes` revokes every grant too.
#[utoipa::path(post, path = "/account/password/reset", operation_id = "reset_submit", tag = "authorize",
    request_body(content = ResetForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Changed, with the way back to the app's sign-in", content_type = "text/html", body = String),
        (status = 400, description = "The password breaks the rules, or the link no longer works", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn reset_submit() {}
