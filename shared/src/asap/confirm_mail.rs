//! The ASAP address confirmation mail: which institution and which app asked, for which
//! appointment, the link that confirms (its page also offers "this wasn't me"), in the patient's
//! language.

use askama::Template;
use chrono_tz::Tz;

use crate::i18n::{datetime, Locale, Tr};
use crate::mail::{Envelope, Mail};

/// Path of the confirmation page (served by the `asap` function).
pub const CONFIRM_PATH: &str = "/asap/confirm";

#[derive(Template)]
#[template(path = "asap_confirm_email.txt")]
struct TextBody<'a> {
    tr: Tr,
    institution: &'a str,
    app_name: &'a str,
    type_name: &'a str,
    when: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "asap_confirm_email.html")]
struct HtmlBody<'a> {
    tr: Tr,
    institution: &'a str,
    app_name: &'a str,
    type_name: &'a str,
    when: &'a str,
    url: &'a str,
}

/// Everything one confirmation mail says.
#[derive(Clone, Debug)]
pub struct ConfirmationMail<'a> {
    /// Sender (`PORTAL_MAIL_FROM`).
    pub from: &'a str,
    /// The address to confirm.
    pub to: &'a str,
    /// The patient's language.
    pub locale: Locale,
    /// The institution's name.
    pub institution: &'a str,
    /// The app that gave the address.
    pub app_name: &'a str,
    /// Appointment type name.
    pub type_name: &'a str,
    /// The institution's time zone.
    pub time_zone: Tz,
    /// The appointment's start.
    pub starts_at: i64,
    /// The issuer (public base URL) for the link.
    pub issuer: &'a str,
    /// The sealed confirmation token.
    pub token: &'a str,
    /// Unique per mail.
    pub message_id: String,
    /// Date header (unix seconds).
    pub now: i64,
}

/// The confirmation URL for a token.
pub fn confirm_url(issuer: &str, token: &str) -> String {
    format!(
        "{}{CONFIRM_PATH}?token={}",
        issuer.trim_end_matches('/'),
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    )
}

impl ConfirmationMail<'_> {
    /// The mail, in the patient's language.
    pub fn render(&self) -> Result<Mail, askama::Error> {
        let tr = Tr::new(self.locale);
        let when = datetime::long(self.locale, self.time_zone, self.starts_at);
        let url = confirm_url(self.issuer, self.token);
        let text = TextBody {
            tr,
            institution: self.institution,
            app_name: self.app_name,
            type_name: self.type_name,
            when: &when,
            url: &url,
        };
        let html = HtmlBody {
            tr,
            institution: self.institution,
            app_name: self.app_name,
            type_name: self.type_name,
            when: &when,
            url: &url,
        };
        let envelope = Envelope {
            from: self.from.to_owned(),
            to: self.to.to_owned(),
            message_id: self.message_id.clone(),
            headers: vec![("Auto-Submitted".into(), "auto-generated".into())],
            date: self.now,
        };
        let subject = tr.t1("asap-confirm-mail-subject", "institution", self.institution);
        Mail::compose(envelope, tr, subject, &text, &html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog::checked;

    fn mail(locale: Locale) -> ConfirmationMail<'static> {
        ConfirmationMail {
            from: "Portal <no-reply@portal.example>",
            to: "friend@example.org",
            locale,
            institution: "Practice Dr. Berg",
            app_name: "Health <App>",
            type_name: "Check-up",
            time_zone: chrono_tz::Europe::Berlin,
            starts_at: 1_796_112_000,
            issuer: "https://portal.example/",
            token: "k1.abc+/=",
            message_id: "c1@portal.example".into(),
            now: 1_796_000_000,
        }
    }

    #[test]
    fn the_mail_names_institution_app_and_link_in_both_languages() {
        let english = mail(Locale::ENGLISH).render().unwrap();
        let url = "https://portal.example/asap/confirm?token=k1.abc%2B%2F%3D";
        assert!(english.text.contains(url), "{}", english.text);
        assert!(english.text.contains("Practice Dr. Berg"));
        assert!(english.text.contains("Health <App>"));
        assert!(
            english.html.contains("Health &#60;App&#62;")
                || english.html.contains("Health &lt;App&gt;")
        );
        assert!(english
            .text
            .contains("Tuesday, 1 December 2026, 09:00 (CET)"));
        assert!(english.subject.contains("Practice Dr. Berg"));
        let (german, problems) = checked(|| mail(Locale::parse("de").unwrap()).render().unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            german.text.contains("Dienstag, 1. Dezember 2026"),
            "{}",
            german.text
        );
        assert!(german.html.contains(r#"<html lang="de">"#));
        assert_ne!(german.subject, english.subject);
    }
}
