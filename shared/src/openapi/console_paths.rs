//! The account page's operations (function `authorize`): `GET /account` and its forms. HTML for
//! browsers like the sign-in pages: every form carries the page's CSRF token and needs a session
//! started (with the password) at most 30 minutes before; without one the answer is 303 to the
//! account page's sign-in (`/oauth/login?return=account`). Description-only functions, like
//! [`super::oauth_paths`].
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// `GET /account`.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// What the previous form did, for the notice at the top (`profile`, `password`,
    /// `language`, `app-removed`); anything else shows none.
    pub done: Option<String>,
    /// The language switch (`en`, `de`).
    pub lang: Option<String>,
}

/// `POST /account/profile`.
#[derive(Serialize, ToSchema)]
pub struct ProfileForm {
    /// Given name (1 to 100 characters).
    pub given_name: String,
    /// Family name (1 to 100 characters).
    pub family_name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birthdate: String,
    /// Phone number in international format; empty removes it.
    pub phone_number: Option<String>,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `POST /account/password`.
#[derive(Serialize, ToSchema)]
pub struct PasswordForm {
    /// The current password.
    pub current_password: String,
    /// The new password: at least 10 characters, not one of the most common ones.
    pub new_password: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `POST /account/language`.
#[derive(Serialize, ToSchema)]
pub struct LanguageForm {
    /// `en` or `de`.
    pub lang: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `POST /account/apps/revoke`.
#[derive(Serialize, ToSchema)]
pub struct RevokeAppForm {
    /// The app whose access ends.
    pub client_id: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `POST /account/sessions/end`.
#[derive(Serialize, ToSchema)]
pub struct CsrfForm {
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `POST /account/email`.
#[derive(Serialize, ToSchema)]
pub struct EmailForm {
    /// The new address.
    pub new_email: String,
    /// The password, to confirm.
    pub password: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `GET /account/email/confirm`.
#[derive(Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailLinkQuery {
    /// The sealed token of the mailed link.
    pub token: String,
    /// The language switch (`en`, `de`).
    pub lang: Option<String>,
}

/// `POST /account/email/confirm`.
#[derive(Serialize, ToSchema)]
pub struct EmailLinkForm {
    /// The sealed token of the mailed link.
    pub token: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// `POST /account/delete`.
#[derive(Serialize, ToSchema)]
pub struct DeleteAccountForm {
    /// The password, to confirm.
    pub password: String,
    /// The CSRF token of the page.
    pub csrf_token: String,
}

/// Account page
///
/// The signed-in patient's profile, password, language, two-factor methods, connected apps
/// (with "remove access"), recent access by apps, "sign out everywhere" and account deletion.
#[utoipa::path(
    get,
    path = "/account",
    operation_id = "account_page",
    tag = "authorize",
    params(AccountQuery),
    responses(
        (status = 200, description = "The account page", content_type = "text/html", body = String),
        (status = 303, description = "No session started in the last 30 minutes: to the account page's sign-in", headers(("Location" = String))),
        (status = 503, description = "Error page: temporarily unavailable", content_type = "text/html", body = String, headers(("Retry-After" = i64))),
    )
)]
fn account_page() {}

/// Save the profile
#[utoipa::path(
    post,
    path = "/account/profile",
    operation_id = "account_profile",
    tag = "authorize",
    request_body(content = ProfileForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Saved (to `/account?done=profile`), or no fresh session (to the sign-in)", headers(("Location" = String))),
        (status = 400, description = "The account page again with the field's alert", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn account_profile() {}

/// Change the password
///
/// Ends every other sign-in session of the patient; apps keep their access.
#[utoipa::path(
    post,
    path = "/account/password",
    operation_id = "account_password",
    tag = "authorize",
    request_body(content = PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Changed (to `/account?done=password`), or no fresh session (to the sign-in)", headers(("Location" = String))),
        (status = 400, description = "The account page again: wrong current password or a new one that breaks the rules", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "The account page again: too many wrong passwords", content_type = "text/html", body = String),
    )
)]
fn account_password() {}

/// Store the language
#[utoipa::path(
    post,
    path = "/account/language",
    operation_id = "account_language",
    tag = "authorize",
    request_body(content = LanguageForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Stored and remembered (to `/account?done=language`), or no fresh session", headers(("Location" = String), ("Set-Cookie" = String))),
        (status = 400, description = "Error page: not a language offered", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn account_language() {}

/// Remove an app's access
///
/// Every grant of the app for this patient ends at once (refresh answers `invalid_grant`,
/// introspection `active: false`) and its consent is forgotten: the app has to ask again.
#[utoipa::path(
    post,
    path = "/account/apps/revoke",
    operation_id = "account_revoke_app",
    tag = "authorize",
    request_body(content = RevokeAppForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Removed (to `/account?done=app-removed`), or no fresh session", headers(("Location" = String))),
        (status = 400, description = "Error page: no valid client_id", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn account_revoke_app() {}

/// Sign out everywhere
///
/// Ends every sign-in session of the patient, this one included.
#[utoipa::path(
    post,
    path = "/account/sessions/end",
    operation_id = "account_sign_out_everywhere",
    tag = "authorize",
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed out everywhere (the session cookie is cleared)", content_type = "text/html", body = String, headers(("Set-Cookie" = String))),
        (status = 303, description = "No fresh session: to the sign-in", headers(("Location" = String))),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn account_sign_out_everywhere() {}

/// Delete the account
///
/// GDPR Art. 17: upcoming appointments are cancelled (their slots freed for the ASAP list),
/// apps lose their access, sessions end, and the profile and the email address are deleted.
#[utoipa::path(
    post,
    path = "/account/delete",
    operation_id = "account_delete",
    tag = "authorize",
    request_body(content = DeleteAccountForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Deleted (the session cookie is cleared)", content_type = "text/html", body = String, headers(("Set-Cookie" = String))),
        (status = 303, description = "No fresh session: to the sign-in", headers(("Location" = String))),
        (status = 400, description = "The account page again: wrong password", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "The account page again: too many wrong passwords", content_type = "text/html", body = String),
    )
)]
fn account_delete() {}

/// Ask to change the email address
///
/// Mails a link (24 hours, single use) to the new address; nothing changes until it is opened.
#[utoipa::path(
    post,
    path = "/account/email",
    operation_id = "account_email",
    tag = "authorize",
    request_body(content = EmailForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Link sent (to `/account?done=email-sent`), or no fresh session", headers(("Location" = String))),
        (status = 400, description = "The account page again: not an address, the same address, too many links, or a wrong password", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
        (status = 429, description = "The account page again: too many wrong passwords", content_type = "text/html", body = String),
    )
)]
fn account_email() {}

/// Email change link
///
/// Shows the new address and a button (mail scanners follow links; only the POST acts).
#[utoipa::path(
    get,
    path = "/account/email/confirm",
    operation_id = "account_email_confirm_page",
    tag = "authorize",
    params(EmailLinkQuery),
    responses(
        (status = 200, description = "The confirmation page", content_type = "text/html", body = String),
        (status = 400, description = "The link expired, was used, or the account changed since", content_type = "text/html", body = String),
    )
)]
fn account_email_confirm_page() {}

/// Confirm the new email address
///
/// The account moves to the new address (and the old one is told), once.
#[utoipa::path(
    post,
    path = "/account/email/confirm",
    operation_id = "account_email_confirm",
    tag = "authorize",
    request_body(content = EmailLinkForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Changed", content_type = "text/html", body = String),
        (status = 400, description = "The link expired or was used, or another account holds the address", content_type = "text/html", body = String),
        (status = 403, description = "Error page: the CSRF check failed", content_type = "text/html", body = String),
    )
)]
fn account_email_confirm() {}
