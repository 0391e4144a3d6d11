//! The ASAP email in the patient's stored language, read from the outbox `.eml` file the way a
//! mail client reads it (MIME parts decoded, encoded subject), and the unsubscribe pages its link
//! opens: in the mail's language, unless the patient chose another.

use mail_parser::MessageParser;
use testkit::{patients, Event};

use super::*;

/// A mail as a mail client shows it.
struct Received {
    to: String,
    subject: String,
    language: String,
    text: String,
    html: String,
    unsubscribe: String,
}

impl Portal {
    /// A patient with an account in `locale`, holding a token.
    async fn patient_in(&self, locale: Locale) -> ApiPatient {
        let email = format!(
            "{}@example.org",
            shared::crypto::random_id(10).to_lowercase()
        );
        let account = patients::patient(&email, None).with_locale(locale);
        patients::register(&self.ctx.store(), &account, None).await;
        ApiPatient::existing(&self.ctx.context, account.id.as_str())
    }

    /// A subscriber in `locale` (to their account address, or to `email`) told about a freed
    /// slot: the mail they get, and the free slots before (the first is the freed one).
    async fn notified(&self, locale: Locale, email: Option<&str>) -> (Received, Vec<Value>) {
        let subscriber = self.patient_in(locale).await;
        let other = ApiPatient::new(&self.ctx.context);
        let free = self.free(&other, 198, 53).await;
        let first = self.book(&other, &free[0], None).await;
        self.book(&subscriber, &free[5], Some(email.unwrap_or("")))
            .await;
        self.cancel(&other, &first).await;
        let mails = received(&self.outbox());
        assert_eq!(mails.len(), 1, "one mail");
        (mails.into_iter().next().unwrap(), free)
    }
}

/// Every `.eml` file of the outbox, parsed.
fn received(dir: &Path) -> Vec<Received> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            let message = MessageParser::default()
                .parse(&bytes)
                .unwrap_or_else(|| panic!("{} is not a mail", path.display()));
            let header = |name: &str| {
                message
                    .header_raw(name)
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            Received {
                to: header("To"),
                subject: message.subject().unwrap_or_default().to_owned(),
                language: header("Content-Language"),
                text: message.body_text(0).unwrap_or_default().into_owned(),
                html: message.body_html(0).unwrap_or_default().into_owned(),
                unsubscribe: header("List-Unsubscribe")
                    .trim_matches(['<', '>'])
                    .to_owned(),
            }
        })
        .collect()
}

fn html_of(response: &Response<Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

#[tokio::test]
async fn a_german_patient_gets_the_asap_mail_in_german() {
    let p = portal().await;
    let de = Locale::parse("de").unwrap();
    let (mail, free) = p.notified(de, None).await;
    let offered = catalog::spoken_start(&free[0], de);
    assert!(
        offered.contains(" Uhr (MEZ)") || offered.contains(" Uhr (MESZ)"),
        "{offered}"
    );
    assert_eq!(mail.subject, format!("Früherer Termin frei: {offered}"));
    assert_eq!(mail.language, "de");
    assert!(
        mail.text
            .starts_with("Gute Nachricht: Ein früherer Termin ist frei"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains(&format!("Früherer Termin: {offered}")),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains(&format!(
            "Ihr Termin: {}",
            catalog::spoken_start(&free[5], de)
        )),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("abzubestellen"), "{}", mail.text);
    assert!(mail.html.contains(r#"<html lang="de">"#), "{}", mail.html);
    assert!(mail
        .html
        .contains("Diese E-Mails für diesen Termin abbestellen"));
    for english in [
        "Good news",
        "Earlier time",
        "Your appointment",
        "Stop these emails",
    ] {
        assert!(
            !mail.text.contains(english) && !mail.html.contains(english),
            "{english}"
        );
    }
}

#[tokio::test]
async fn the_mail_follows_the_patients_language_even_to_another_address() {
    let p = portal().await;
    let (mail, _) = p
        .notified(Locale::parse("de").unwrap(), Some("familie@example.org"))
        .await;
    assert!(mail.to.contains("familie@example.org"), "{}", mail.to);
    assert_eq!(mail.language, "de");
    assert!(mail.subject.starts_with("Früherer Termin frei: "));
    let english = portal().await;
    let (mail, free) = english.notified(Locale::ENGLISH, None).await;
    assert_eq!(mail.language, "en");
    let offered = catalog::spoken_start(&free[0], Locale::ENGLISH);
    assert_eq!(mail.subject, format!("Earlier appointment free: {offered}"));
    assert!(
        mail.text.contains(&format!("Earlier time: {offered}")),
        "{}",
        mail.text
    );
}

#[tokio::test]
async fn the_unsubscribe_pages_speak_the_mails_language_unless_the_patient_chose_another() {
    let p = portal().await;
    let (mail, _) = p.notified(Locale::parse("de").unwrap(), None).await;
    let link = path_and_query(&mail.unsubscribe);

    // The browser prefers English, but the link came in a German mail.
    let page = call(&*p.asap, Event::get(&link).header("accept-language", "en")).await;
    assert_eq!(status(&page), 200);
    let html = html_of(&page);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("E-Mails abbestellen"), "{html}");
    assert!(html.contains(" Uhr (ME"), "a German date: {html}");
    // The language switch shows the same page in English and remembers the choice.
    assert!(html.contains(r#"<form method="get" action="/asap/unsubscribe">"#));
    let english = call(&*p.asap, Event::get(&format!("{link}&lang=en"))).await;
    assert_eq!(status(&english), 200);
    let html = html_of(&english);
    assert!(
        html.contains(r#"<html lang="en">"#) && html.contains("Stop the emails"),
        "{html}"
    );
    assert!(english.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("portal_lang=en;"));
    // The remembered choice beats the mail's language; the one-click POST answers in it too.
    let done = call(
        &*p.asap,
        Event::post(&link)
            .cookie("portal_lang", "en")
            .form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&done), 200);
    assert!(html_of(&done).contains("You are unsubscribed"));
    let again = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&again), 410);
    assert!(html_of(&again).contains("Bereits abbestellt"));
}
