//! The ASAP email: what is free, when (in the institution's time zone), how to take it, and a
//! one-click unsubscribe link (RFC 8058 `List-Unsubscribe` + `List-Unsubscribe-Post`, which mail
//! clients POST to without a page). Written in the patient's language.

use askama::Template;
use chrono_tz::Tz;

use crate::i18n::{datetime, Locale, Tr};
use crate::mail::{Envelope, Mail};

/// Path of the unsubscribe page and one-click endpoint (served by the `asap` function).
pub const UNSUBSCRIBE_PATH: &str = "/asap/unsubscribe";

#[derive(Template)]
#[template(path = "asap_email.txt")]
struct TextBody<'a> {
    tr: Tr,
    type_name: &'a str,
    category_name: &'a str,
    offered: &'a str,
    current: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "asap_email.html")]
struct HtmlBody<'a> {
    tr: Tr,
    type_name: &'a str,
    category_name: &'a str,
    offered: &'a str,
    current: &'a str,
    unsubscribe_url: &'a str,
}

/// Everything one notification says.
#[derive(Clone, Debug)]
pub struct Notification<'a> {
    /// Sender (`PORTAL_MAIL_FROM`).
    pub from: &'a str,
    /// Recipient.
    pub to: &'a str,
    /// The patient's language.
    pub locale: Locale,
    /// Appointment type name.
    pub type_name: &'a str,
    /// Category name.
    pub category_name: &'a str,
    /// The institution's time zone.
    pub time_zone: Tz,
    /// Start of the free, earlier slot.
    pub offered_start: i64,
    /// Start of the patient's appointment.
    pub current_start: i64,
    /// The issuer (public base URL) for the unsubscribe link.
    pub issuer: &'a str,
    /// The sealed unsubscribe token.
    pub unsubscribe_token: &'a str,
    /// Unique, stable per (event, appointment): a redelivery reuses it.
    pub message_id: String,
    /// Date header (unix seconds).
    pub now: i64,
}

/// The unsubscribe URL for a token.
pub fn unsubscribe_url(issuer: &str, token: &str) -> String {
    format!(
        "{}{UNSUBSCRIBE_PATH}?token={}",
        issuer.trim_end_matches('/'),
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
    )
}

impl Notification<'_> {
    /// The email, in the patient's language.
    pub fn render(&self) -> Result<Mail, askama::Error> {
        let tr = Tr::new(self.locale);
        let offered = datetime::long(self.locale, self.time_zone, self.offered_start);
        let current = datetime::long(self.locale, self.time_zone, self.current_start);
        let link = unsubscribe_url(self.issuer, self.unsubscribe_token);
        let text = TextBody {
            tr,
            type_name: self.type_name,
            category_name: self.category_name,
            offered: &offered,
            current: &current,
            unsubscribe_url: &link,
        };
        let html = HtmlBody {
            tr,
            type_name: self.type_name,
            category_name: self.category_name,
            offered: &offered,
            current: &current,
            unsubscribe_url: &link,
        };
        let envelope = Envelope {
            from: self.from.to_owned(),
            to: self.to.to_owned(),
            message_id: self.message_id.clone(),
            headers: vec![
                ("List-Unsubscribe".into(), format!("<{link}>")),
                (
                    "List-Unsubscribe-Post".into(),
                    "List-Unsubscribe=One-Click".into(),
                ),
                ("Auto-Submitted".into(), "auto-generated".into()),
            ],
            date: self.now,
        };
        let subject = tr.t1("asap-mail-subject", "offered", &offered);
        Mail::compose(envelope, tr, subject, &text, &html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog::checked;

    fn notification(locale: Locale) -> Notification<'static> {
        Notification {
            from: "Portal <no-reply@portal.example>",
            to: "pat@example.org",
            locale,
            type_name: "Check-up <b>",
            category_name: "General",
            time_zone: chrono_tz::Europe::Berlin,
            // 2026-12-01T08:00:00Z is 09:00 in Berlin (winter time).
            offered_start: 1_796_112_000,
            current_start: 1_796_112_000 + 7 * 86_400,
            issuer: "https://portal.example/",
            unsubscribe_token: "k1.abc+/=",
            message_id: "e1.a1@portal.example".into(),
            now: 1_796_000_000,
        }
    }

    #[test]
    fn the_email_names_both_times_and_carries_one_click_unsubscribe() {
        let mail = notification(Locale::ENGLISH).render().unwrap();
        let url = "https://portal.example/asap/unsubscribe?token=k1.abc%2B%2F%3D";
        assert!(mail.text.contains("Tuesday, 1 December 2026, 09:00 (CET)"));
        assert!(mail.text.contains("Tuesday, 8 December 2026, 09:00 (CET)"));
        assert!(mail.text.contains(url), "{}", mail.text);
        assert!(
            mail.html.contains("Check-up &#60;b&#62;") || mail.html.contains("Check-up &lt;b&gt;")
        );
        assert!(mail.html.contains(r#"<html lang="en">"#));
        assert!(mail
            .headers
            .contains(&("List-Unsubscribe".into(), format!("<{url}>"))));
        assert!(mail.headers.contains(&(
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into()
        )));
        assert!(mail
            .headers
            .contains(&("Content-Language".into(), "en".into())));
        assert_eq!(
            mail.subject,
            "Earlier appointment free: Tuesday, 1 December 2026, 09:00 (CET)"
        );
    }

    #[test]
    fn a_german_patient_gets_the_email_in_german() {
        let (mail, problems) =
            checked(|| notification(Locale::parse("de").unwrap()).render().unwrap());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            mail.subject,
            "Früherer Termin frei: Dienstag, 1. Dezember 2026, 09:00 Uhr (MEZ)"
        );
        assert!(mail.text.starts_with("Gute Nachricht"), "{}", mail.text);
        assert!(mail
            .text
            .contains("Ihr Termin: Dienstag, 8. Dezember 2026, 09:00 Uhr (MEZ)"));
        assert!(mail.html.contains(r#"<html lang="de">"#));
        assert!(mail.html.contains("abbestellen"));
        assert!(mail
            .headers
            .contains(&("Content-Language".into(), "de".into())));
    }
}
