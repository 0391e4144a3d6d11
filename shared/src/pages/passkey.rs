//! Pages of passkeys: signing in with one, and the account's list with the form that adds one.
//! The only pages with a script: the ceremony script ([`SCRIPT_PATH`], served by the `authorize`
//! function) reads the challenge from the form's `data-passkey-options`, calls
//! `navigator.credentials`, puts the answer into the hidden field `credential` and submits the
//! form. Without JavaScript the passkey buttons stay disabled and a `<noscript>` note says why;
//! everything else (the password, the list, removal) works as on every other page.

use askama::Template;

use chrono_tz::Tz;

use super::language::LanguageSwitch;
use crate::i18n::{datetime, Tr};
use crate::oauth::passkey::PasskeyView;

/// Path of the passkey sign-in page.
pub const SIGN_IN_PATH: &str = "/oauth/passkey";
/// Path of the account's passkey page.
pub const PASSKEYS_PATH: &str = "/account/mfa/passkeys";
/// Path of the ceremony script.
pub const SCRIPT_PATH: &str = "/oauth/passkey.js";

/// Error: the passkey answer did not verify.
pub const REFUSED: &str = "passkey-refused";
/// Error: the challenge expired or was already answered.
pub const EXPIRED: &str = "passkey-expired";
/// Error: too many failed attempts.
pub const TOO_MANY: &str = "mfa-too-many-attempts";
/// Error: a possibly cloned authenticator.
pub const COUNTER: &str = "passkey-counter";
/// Error: the password for removing a passkey was wrong.
pub const REMOVAL_REFUSED: &str = "passkey-remove-refused";
/// Error: the passkey is already on the account.
pub const DUPLICATE: &str = "passkey-duplicate";

/// "Sign in with a passkey": one button that runs the ceremony.
#[derive(Template)]
#[template(path = "passkey_sign_in.html")]
pub struct PasskeySignInPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a GET of this page with the same request: a new challenge).
    pub switch: LanguageSwitch,
    /// The app the patient signs in to (empty for the account page's own sign-in).
    pub client_name: &'a str,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed authorization request (empty for the account page's own sign-in).
    pub request: &'a str,
    /// The stored challenge's id.
    pub ceremony: &'a str,
    /// The options for `navigator.credentials.get`, as JSON.
    pub options: &'a str,
    /// Message id of a failed attempt.
    pub error: Option<&'static str>,
}

impl PasskeySignInPage<'_> {
    /// Whether this is the account page's own sign-in (no app).
    pub fn account(&self) -> bool {
        self.request.is_empty()
    }
}

/// One passkey, as the account page lists it.
#[derive(Clone, Debug)]
pub struct PasskeyItem {
    /// Its id (the removal form's value).
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was added, in words.
    pub created: String,
    /// When it was last used, in words ("never" when not yet).
    pub last_used: String,
    /// Synced (backup eligible) rather than bound to one device.
    pub synced: bool,
}

impl PasskeyItem {
    /// The passkeys as the page lists them, times in words in `tr`'s language (UTC, as on the
    /// account page).
    pub fn list(tr: Tr, passkeys: Vec<PasskeyView>) -> Vec<PasskeyItem> {
        let when = |at: i64| datetime::long(tr.locale(), Tz::UTC, at);
        passkeys
            .into_iter()
            .map(|passkey| PasskeyItem {
                id: passkey.id,
                name: passkey.name,
                created: when(passkey.created_at),
                last_used: passkey
                    .last_used_at
                    .map_or_else(|| tr.t("passkeys-never"), when),
                synced: passkey.synced,
            })
            .collect()
    }
}

/// The account's passkeys: the list (each with a removal form) and the form that adds one.
#[derive(Template)]
#[template(path = "passkeys.html")]
pub struct PasskeysPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a GET of the page).
    pub switch: LanguageSwitch,
    /// CSRF token for the hidden fields.
    pub csrf_token: &'a str,
    /// The patient's passkeys.
    pub passkeys: &'a [PasskeyItem],
    /// The stored registration challenge's id.
    pub ceremony: &'a str,
    /// The options for `navigator.credentials.create`, as JSON.
    pub options: &'a str,
    /// Message id of a failed action.
    pub error: Option<&'static str>,
    /// The name of a passkey just added (the page says so).
    pub added: Option<&'a str>,
    /// A passkey was just removed (the page says so).
    pub removed: bool,
}
