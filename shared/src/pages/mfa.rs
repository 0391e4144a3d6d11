//! Pages of the second factor: the code page of a sign-in, and the authenticator-app pages of the
//! account (set up, recovery codes, status and removal). Like every page: no script, labels on
//! every field, errors in `role="alert"`, a language switch.

use askama::Template;

use super::language::LanguageSwitch;
use crate::i18n::Tr;

/// Path of the sign-in's second-factor page.
pub const CODE_PATH: &str = "/oauth/mfa";
/// Path of the authenticator-app page of the account.
pub const TOTP_PATH: &str = "/account/mfa/totp";

/// Second-factor error: the code is wrong.
pub const WRONG_CODE: &str = "mfa-wrong-code";
/// Second-factor error: the code was already used.
pub const USED_CODE: &str = "mfa-used-code";
/// Second-factor error: too many wrong codes.
pub const TOO_MANY_CODES: &str = "mfa-too-many-attempts";
/// Removal error: neither a current code nor the password with a recovery code.
pub const REMOVAL_REFUSED: &str = "totp-remove-refused";

/// The code page of a sign-in: one field `code` (an authenticator-app or a recovery code).
#[derive(Template)]
#[template(path = "mfa_code.html")]
pub struct CodePage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a POST showing this page again, with the same hidden fields).
    pub switch: LanguageSwitch,
    /// The app the patient signs in to.
    pub client_name: &'a str,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed authorization request.
    pub request: &'a str,
    /// The sealed pending sign-in (empty for a step-up of a signed-in session).
    pub pending: &'a str,
    /// Message id of a failed attempt.
    pub error: Option<&'static str>,
    /// The account page's own sign-in (no app): `return=account` instead of a request.
    pub account: bool,
    /// Whether the portal offers passkeys (the page links to the passkey sign-in).
    pub passkeys: bool,
}

impl<'a> CodePage<'a> {
    /// The page of the account page's sign-in (no app), with `pending`.
    pub fn for_account(tr: Tr, csrf_token: &'a str, pending: &'a str) -> Self {
        let (field, value) = super::console::ACCOUNT_RETURN;
        Self {
            tr,
            switch: LanguageSwitch::post(
                "mfa",
                &[
                    ("csrf_token", csrf_token),
                    (field, value),
                    ("pending", pending),
                ],
            ),
            client_name: "",
            csrf_token,
            request: "",
            pending,
            error: None,
            account: true,
            passkeys: false,
        }
    }

    /// The page for a request, with `pending` (or `""`).
    pub fn new(
        tr: Tr,
        client_name: &'a str,
        csrf_token: &'a str,
        request: &'a str,
        pending: &'a str,
    ) -> Self {
        Self {
            tr,
            switch: LanguageSwitch::post(
                "mfa",
                &[
                    ("csrf_token", csrf_token),
                    ("request", request),
                    ("pending", pending),
                ],
            ),
            client_name,
            csrf_token,
            request,
            pending,
            error: None,
            account: false,
            passkeys: false,
        }
    }

    /// The same page with the alert of message `error`.
    pub fn with_error(mut self, error: &'static str) -> Self {
        self.error = Some(error);
        self
    }

    /// The same page linking to the passkey sign-in (another way to two factors).
    pub fn with_passkeys(mut self, passkeys: bool) -> Self {
        self.passkeys = passkeys;
        self
    }
}

/// Setting up an authenticator app: the `otpauth://` URI as text and as a QR code, and the field
/// `code` that confirms it.
#[derive(Template)]
#[template(path = "totp_enrol.html")]
pub struct TotpEnrolPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a GET of the page: a new secret is offered).
    pub switch: LanguageSwitch,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed sign-in request this setup was asked for (empty when none).
    pub request: &'a str,
    /// The sealed offer.
    pub enrolment: &'a str,
    /// The `otpauth://totp/…` URI.
    pub uri: &'a str,
    /// The secret in base32, in groups of four for typing.
    pub secret: String,
    /// The QR code (SVG markup built on the server from the URI).
    pub qr_svg: &'a str,
    /// Message id of a failed confirmation.
    pub error: Option<&'static str>,
    /// Whether the portal offers passkeys (a sign-in asking for two factors links to the
    /// passkey sign-in: a user-verified passkey is two factors too).
    pub passkeys: bool,
}

/// The ten recovery codes, shown once after the setup.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a POST that shows the same codes again, sealed in the form).
    pub switch: LanguageSwitch,
    /// The codes.
    pub codes: &'a [String],
    /// Where "Continue" goes: back into the sign-in that asked for the setup, if any.
    pub continue_to: Option<String>,
}

/// The authenticator app is set up: how many recovery codes are left, and the removal form.
#[derive(Template)]
#[template(path = "totp_active.html")]
pub struct TotpActivePage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// Unused recovery codes.
    pub recovery_left: usize,
    /// Message id of a failed removal.
    pub error: Option<&'static str>,
}

/// `secret` in groups of four characters.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
