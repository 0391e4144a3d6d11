//! The account mails, in the patient's language: the verification link, "someone tried to
//! register with your address" (with the way to reset the password), the reset link, and "your
//! password was changed", and the two of an email change (the link to the new address, the
//! notice to the old one), and "a passkey was added to your account". One template pair for all (`account_email.txt`/`.html`); their
//! words are the catalog messages `account-mail-{kind}-*`.

use askama::Template;

use crate::crypto::random_id;
use crate::i18n::{Locale, Tr};
use crate::mail::{Envelope, Mail};

/// Which account mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountMail {
    /// The verification link of a new registration (or one asked for again).
    Verify,
    /// Someone tried to register with an address that has an account.
    RegistrationAttempt,
    /// The password reset link.
    Reset,
    /// The password was changed.
    PasswordChanged,
    /// The link that confirms a new address (an email change on the account page).
    EmailChange,
    /// To the old address: the account's address was changed.
    EmailChanged,
    /// A passkey was added to the account (a security notice: if it was not the patient, the
    /// link leads to the account page to remove it).
    PasskeyAdded,
}

impl AccountMail {
    /// Every account mail (for the catalog and template tests).
    pub const ALL: [AccountMail; 7] = [
        AccountMail::Verify,
        AccountMail::RegistrationAttempt,
        AccountMail::Reset,
        AccountMail::PasswordChanged,
        AccountMail::EmailChange,
        AccountMail::EmailChanged,
        AccountMail::PasskeyAdded,
    ];

    fn id(self) -> &'static str {
        match self {
            AccountMail::Verify => "verify",
            AccountMail::RegistrationAttempt => "attempt",
            AccountMail::Reset => "reset",
            AccountMail::PasswordChanged => "changed",
            AccountMail::EmailChange => "emailchange",
            AccountMail::EmailChanged => "emailchanged",
            AccountMail::PasskeyAdded => "passkeyadded",
        }
    }

    /// The mail to `to` in `locale`, with the link `url` (the verification or reset link, or
    /// the "forgot password" page).
    pub fn render(
        self,
        from: &str,
        to: &str,
        locale: Locale,
        url: Option<&str>,
        now: i64,
    ) -> Result<Mail, askama::Error> {
        let tr = Tr::new(locale);
        let id = |part: &str| format!("account-mail-{}-{part}", self.id());
        let (heading, body, footer) =
            (tr.t(&id("heading")), tr.t(&id("body")), tr.t(&id("footer")));
        let domain = from
            .rsplit('@')
            .next()
            .map(|rest| rest.trim_end_matches('>'))
            .filter(|domain| !domain.is_empty())
            .unwrap_or("portal.invalid");
        let envelope = Envelope {
            from: from.to_owned(),
            to: to.to_owned(),
            message_id: format!("{}@{domain}", random_id(24)),
            headers: vec![("Auto-Submitted".into(), "auto-generated".into())],
            date: now,
        };
        let text = TextBody {
            heading: &heading,
            body: &body,
            open: &tr.t("account-mail-open"),
            url,
            footer: &footer,
        };
        let html = HtmlBody {
            tr,
            heading: &heading,
            body: &body,
            link: &tr.t(&id("link")),
            url,
            footer: &footer,
        };
        Mail::compose(envelope, tr, tr.t(&id("subject")), &text, &html)
    }
}

#[derive(Template)]
#[template(path = "account_email.txt")]
struct TextBody<'a> {
    heading: &'a str,
    body: &'a str,
    open: &'a str,
    url: Option<&'a str>,
    footer: &'a str,
}

#[derive(Template)]
#[template(path = "account_email.html")]
struct HtmlBody<'a> {
    tr: Tr,
    heading: &'a str,
    body: &'a str,
    link: &'a str,
    url: Option<&'a str>,
    footer: &'a str,
}
