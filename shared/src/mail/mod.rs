//! Outgoing mail: one message type rendered to RFC 5322 / MIME bytes, and where those bytes go.
//!
//! - [`outbox`]: one `.eml` file per message in a folder (local default, `make run`).
//! - [`ses`]: Amazon SES `SendRawEmail` (deployed).
//! - [`from_config`]: the one of the two the configuration names.
//!
//! Both adapters send the very same bytes ([`Mail::to_mime`]), so what a developer opens from the
//! outbox folder is what a patient receives, headers included (RFC 8058 one-click unsubscribe).
//!
//! Every mail is written in its recipient's language ([`Mail::compose`]): a kind of mail is a pair
//! of askama templates, `<name>.txt` and `<name>.html` (extending `mail_base.html`, which sets
//! `<html lang>`), whose structs hold a [`Tr`], plus a subject from the catalog. The ASAP notice
//! ([`crate::asap::message`]) is one; verification and reset mails plug in the same way.

pub mod outbox;
mod select;
pub mod ses;

pub use select::from_config;

use std::sync::Arc;

use async_trait::async_trait;
use mail_builder::headers::address::Address;
use mail_builder::headers::raw::Raw;
use mail_builder::MessageBuilder;

use crate::i18n::Tr;

/// A message to one recipient, with a plain-text and an HTML body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// `From`, e.g. `MyPatientPortal <no-reply@portal.example>`.
    pub from: String,
    /// The recipient's address.
    pub to: String,
    /// Subject line (any Unicode; encoded per RFC 2047 when needed).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// `Message-ID` without the angle brackets (unique per message; also names the outbox file).
    pub message_id: String,
    /// Extra header fields, e.g. `List-Unsubscribe`.
    pub headers: Vec<(String, String)>,
    /// `Date` (unix seconds).
    pub date: i64,
}

/// Everything about a mail but its words: who sends it to whom, its id, extra headers and date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `From`.
    pub from: String,
    /// The recipient's address.
    pub to: String,
    /// `Message-ID` without the angle brackets.
    pub message_id: String,
    /// Extra header fields.
    pub headers: Vec<(String, String)>,
    /// `Date` (unix seconds).
    pub date: i64,
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message itself is unusable (bad address, header); retrying cannot help.
    #[error("the message was refused: {0}")]
    Rejected(String),
    /// The mail service failed or could not be reached; the message was not sent and may be
    /// retried.
    #[error("the mail service is unavailable: {0}")]
    Unavailable(String),
}

/// Where outgoing mail goes.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Hands `mail` over for delivery. `Ok` means it was accepted and must not be sent again.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// A mailer shared by the tasks of one function instance.
pub type SharedMailer = Arc<dyn Mailer>;

impl Mail {
    /// A mail in `tr`'s language: `subject` (from the catalog), the two bodies rendered from their
    /// templates (built with the same `tr`), and `Content-Language` naming the language
    /// (RFC 3282).
    pub fn compose(
        envelope: Envelope,
        tr: Tr,
        subject: String,
        text: &impl askama::Template,
        html: &impl askama::Template,
    ) -> Result<Mail, askama::Error> {
        let mut headers = envelope.headers;
        headers.push(("Content-Language".into(), tr.lang().into()));
        Ok(Mail {
            from: envelope.from,
            to: envelope.to,
            subject,
            text: text.render()?,
            html: html.render()?,
            message_id: envelope.message_id,
            headers,
            date: envelope.date,
        })
    }

    /// The message as MIME bytes: `multipart/alternative` with the text part first (clients show
    /// the last part they can render, so HTML wins where supported).
    pub fn to_mime(&self) -> Result<Vec<u8>, MailError> {
        let (from_name, from_address) = split_address(&self.from);
        let mut builder = MessageBuilder::new()
            .from(Address::new_address(from_name, from_address))
            .to(Address::new_address(None::<&str>, self.to.as_str()))
            .subject(self.subject.as_str())
            .message_id(self.message_id.as_str())
            .date(mail_builder::headers::date::Date::new(self.date))
            .text_body(self.text.as_str())
            .html_body(self.html.as_str());
        for (name, value) in &self.headers {
            if !is_header_safe(name) || !is_header_safe(value) {
                return Err(MailError::Rejected(format!(
                    "header `{name}` has a line break or control character"
                )));
            }
            builder = builder.header(name.as_str(), Raw::new(value.as_str()));
        }
        if !is_header_safe(&self.to) || !self.to.contains('@') {
            return Err(MailError::Rejected(
                "the recipient is not an address".into(),
            ));
        }
        builder
            .write_to_vec()
            .map_err(|e| MailError::Rejected(format!("could not render the message: {e}")))
    }
}

/// `Name <addr>` or `addr` into (name, address).
fn split_address(text: &str) -> (Option<&str>, &str) {
    match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = text[..open].trim().trim_matches('"').trim();
            let address = text[open + 1..close].trim();
            ((!name.is_empty()).then_some(name), address)
        }
        _ => (None, text.trim()),
    }
}

fn is_header_safe(text: &str) -> bool {
    !text.chars().any(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            from: "MyPatientPortal <no-reply@portal.example>".into(),
            to: "pat@example.org".into(),
            subject: "Ein früherer Termin ist frei".into(),
            text: "Hello\nA slot is free.".into(),
            html: "<p>Hello</p>".into(),
            message_id: "abc123@portal.example".into(),
            headers: vec![
                (
                    "List-Unsubscribe".into(),
                    "<https://portal.example/asap/unsubscribe?token=t>".into(),
                ),
                (
                    "List-Unsubscribe-Post".into(),
                    "List-Unsubscribe=One-Click".into(),
                ),
            ],
            date: 1_800_000_000,
        }
    }

    #[test]
    fn a_message_renders_both_bodies_and_the_unsubscribe_headers() {
        let text = String::from_utf8(mail().to_mime().unwrap()).unwrap();
        assert!(
            text.contains("From: \"MyPatientPortal\" <no-reply@portal.example>\r\n"),
            "{text}"
        );
        assert!(text.contains("To: <pat@example.org>\r\n"), "{text}");
        assert!(
            text.contains("Message-ID: <abc123@portal.example>\r\n"),
            "{text}"
        );
        assert!(text
            .contains("List-Unsubscribe: <https://portal.example/asap/unsubscribe?token=t>\r\n"));
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain"));
        assert!(text.contains("text/html"));
        assert!(
            text.contains("Subject: =?utf-8?"),
            "non-ASCII subjects are encoded: {text}"
        );
    }

    #[test]
    fn header_injection_is_refused() {
        let mut bad = mail();
        bad.headers
            .push(("X-Evil".into(), "a\r\nBcc: victim@example.org".into()));
        assert!(matches!(bad.to_mime(), Err(MailError::Rejected(_))));
        let mut bad = mail();
        bad.to = "pat@example.org\r\nBcc: victim@example.org".into();
        assert!(matches!(bad.to_mime(), Err(MailError::Rejected(_))));
    }

    #[test]
    fn sender_names_are_split_from_addresses() {
        assert_eq!(split_address("A B <a@b.c>"), (Some("A B"), "a@b.c"));
        assert_eq!(split_address("a@b.c"), (None, "a@b.c"));
        assert_eq!(split_address("\"Q\" <q@b.c>"), (Some("Q"), "q@b.c"));
    }
}
