//! The tokens of mailed account links: sealed (AES-256-GCM-SIV, [`Purpose::EmailVerification`] or
//! [`Purpose::PasswordReset`], so a token of one kind never opens as the other), carrying the
//! account, the address it was mailed to, its expiry, the language of the mail, and the pending
//! authorization request of the sign-in the patient came from, so the patient continues to that
//! app afterwards however long the mail took.
//!
//! Single use comes from the store, not from the token: verifying is a conditional write that a
//! second use finds done, and a reset token names a fingerprint of the password hash it was issued
//! for, which the reset's conditional write replaces.

use serde::{Deserialize, Serialize};

use crate::crypto::{constant_time_eq, sha256_b64url};
use crate::domain::patient::PatientId;
use crate::i18n::Locale;
use crate::keys::{KeySet, Purpose};
use crate::oauth::authorize::AuthorizationRequest;

/// How long a verification link works (an unverified account lives 7 days; a new link can be
/// asked for until then).
pub const VERIFY_LIFETIME_SECS: i64 = 24 * 60 * 60;

/// How long a password reset link works.
pub const RESET_LIFETIME_SECS: i64 = 30 * 60;

/// Longest token text opened (a sealed request inside makes them a few kilobytes at most).
const MAX_TOKEN_CHARS: usize = 8 * 1024;

/// What a link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// `/account/verify`.
    Verify,
    /// `/account/password/reset`.
    Reset,
    /// `/account/email/confirm`: the new address of an email change. Sealed for the same purpose
    /// as a verification link (both prove a mailbox), told apart by [`LinkToken::current`].
    EmailChange,
}

impl LinkKind {
    fn purpose(self) -> Purpose {
        match self {
            LinkKind::Verify | LinkKind::EmailChange => Purpose::EmailVerification,
            LinkKind::Reset => Purpose::PasswordReset,
        }
    }

    fn lifetime_secs(self) -> i64 {
        match self {
            LinkKind::Verify | LinkKind::EmailChange => VERIFY_LIFETIME_SECS,
            LinkKind::Reset => RESET_LIFETIME_SECS,
        }
    }

    /// The link's path.
    pub fn path(self) -> &'static str {
        match self {
            LinkKind::Verify => "/account/verify",
            LinkKind::Reset => "/account/password/reset",
            LinkKind::EmailChange => "/account/email/confirm",
        }
    }
}

/// What a mailed link carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkToken {
    /// The account.
    #[serde(rename = "p")]
    pub patient_id: PatientId,
    /// The address the link was mailed to.
    #[serde(rename = "m")]
    pub email: String,
    /// Reset links: the fingerprint of the password hash the link may replace.
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Email-change links: the address the account had when the change was asked for (only
    /// that account, still at that address, changes; a verification link has none).
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// The sign-in the patient came from, if any.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub request: Option<AuthorizationRequest>,
    /// The language of the mail (the link's pages speak it).
    #[serde(rename = "l")]
    pub locale: Locale,
    /// Expiry, unix seconds.
    #[serde(rename = "e")]
    pub exp: i64,
}

impl LinkToken {
    /// A token of `kind` issued at `now`.
    pub fn new(
        kind: LinkKind,
        patient_id: PatientId,
        email: &str,
        locale: Locale,
        request: Option<AuthorizationRequest>,
        now: i64,
    ) -> LinkToken {
        LinkToken {
            patient_id,
            email: email.to_owned(),
            fingerprint: None,
            current: None,
            request,
            locale,
            exp: now.saturating_add(kind.lifetime_secs()),
        }
    }

    /// The same token, bound to the password hash it may replace.
    pub fn for_password(mut self, password_hash: &str) -> LinkToken {
        self.fingerprint = Some(fingerprint(password_hash));
        self
    }

    /// Whether the token was issued for this password hash (constant time).
    pub fn matches_password(&self, password_hash: &str) -> bool {
        self.fingerprint.as_deref().is_some_and(|expected| {
            constant_time_eq(expected.as_bytes(), fingerprint(password_hash).as_bytes())
        })
    }

    /// The token text for a link (URL-safe).
    pub fn seal(&self, kind: LinkKind, keys: &KeySet) -> Option<String> {
        keys.sealer(kind.purpose()).seal_json(self).ok()
    }

    /// The same token, for an email change away from the address `current`.
    pub fn changing_from(mut self, current: &str) -> LinkToken {
        self.current = Some(current.to_owned());
        self
    }

    /// Opens a token of `kind`; `None` when it is forged, of another kind, or expired at `now`.
    pub fn open(kind: LinkKind, keys: &KeySet, text: &str, now: i64) -> Option<LinkToken> {
        keys.open_expiring(
            kind.purpose(),
            text,
            MAX_TOKEN_CHARS,
            now,
            |t: &LinkToken| t.exp,
        )
        .filter(|token: &LinkToken| (kind == LinkKind::EmailChange) == token.current.is_some())
    }

    /// The purpose a `kind` of token is sealed for (to find the key set that opens it).
    pub fn purpose(kind: LinkKind) -> Purpose {
        kind.purpose()
    }
}

/// The full URL of a link.
pub fn url(issuer: &str, kind: LinkKind, token: &str) -> String {
    format!(
        "{}{}?token={}",
        issuer.trim_end_matches('/'),
        kind.path(),
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    )
}

fn fingerprint(password_hash: &str) -> String {
    sha256_b64url(password_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_support::keyset_of;
    use crate::keys::Role;

    fn token(kind: LinkKind) -> LinkToken {
        LinkToken::new(
            kind,
            PatientId::generate(),
            "anna@example.org",
            Locale::ENGLISH,
            None,
            1_000,
        )
    }

    #[test]
    fn a_token_opens_as_its_own_kind_only_and_not_after_its_expiry() {
        let keys = keyset_of(&[Role::Authorize]);
        let verify = token(LinkKind::Verify);
        let sealed = verify.seal(LinkKind::Verify, &keys).unwrap();
        assert_eq!(
            LinkToken::open(LinkKind::Verify, &keys, &sealed, 1_001),
            Some(verify.clone())
        );
        assert_eq!(
            LinkToken::open(LinkKind::Reset, &keys, &sealed, 1_001),
            None
        );
        let end = 1_000 + VERIFY_LIFETIME_SECS;
        assert_eq!(LinkToken::open(LinkKind::Verify, &keys, &sealed, end), None);
        assert_eq!(LinkToken::open(LinkKind::Verify, &keys, "", 1_001), None);
        let reset = token(LinkKind::Reset);
        assert_eq!(reset.exp, 1_000 + RESET_LIFETIME_SECS);
    }

    #[test]
    fn lifetimes_stay_within_their_purposes_and_a_reset_token_names_one_password() {
        for kind in [LinkKind::Verify, LinkKind::Reset] {
            assert!(kind.lifetime_secs() <= kind.purpose().max_lifetime_secs());
        }
        let reset = token(LinkKind::Reset).for_password("$argon2id$one");
        assert!(reset.matches_password("$argon2id$one"));
        assert!(!reset.matches_password("$argon2id$two"));
        assert!(!token(LinkKind::Reset).matches_password("$argon2id$one"));
    }

    #[test]
    fn an_email_change_link_and_a_verification_link_never_open_as_each_other() {
        let keys = keyset_of(&[Role::Authorize]);
        let change = token(LinkKind::EmailChange).changing_from("old@example.org");
        let sealed = change.seal(LinkKind::EmailChange, &keys).unwrap();
        assert_eq!(
            LinkToken::open(LinkKind::EmailChange, &keys, &sealed, 1_001),
            Some(change)
        );
        assert_eq!(
            LinkToken::open(LinkKind::Verify, &keys, &sealed, 1_001),
            None
        );
        let verify = token(LinkKind::Verify)
            .seal(LinkKind::Verify, &keys)
            .unwrap();
        assert_eq!(
            LinkToken::open(LinkKind::EmailChange, &keys, &verify, 1_001),
            None
        );
    }

    #[test]
    fn the_url_escapes_the_token() {
        assert_eq!(
            url("https://portal.example/", LinkKind::Reset, "a+b/c"),
            "https://portal.example/account/password/reset?token=a%2Bb%2Fc"
        );
    }
}
