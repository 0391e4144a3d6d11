//! The ASAP email in the patient's stored language, read from the outbox `.eml` file the way a
//! mail client reads it (MIME parts decoded, encoded subject), and the unsubscribe pages its link
//! opens: in the mail's language, unless the patient chose another.

use std::path::Path;
use std::sync::Arc;

use asap_fn::App as AsapApp;
use booking_fn::App as BookingApp;
use chrono::{Duration, Utc};
use mail_parser::MessageParser;
use portal_tests::api::{access_token, body, call, now, ok, ApiPatient, ALL_SCOPES};
use portal_tests::context::TestContext;
use portal_tests::events::Event;
use serde_json::{json, Value};
use shared::booking::{BookingRepo, Catalog};
use shared::domain::patient::{BirthDate, Email, Name, Patient};
use shared::i18n::{datetime, Locale};
use shared::repo::PatientRepo;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/catalog/demo.yaml");

/// A mail as a mail client shows it.
struct Received {
    to: String,
    subject: String,
    language: String,
    text: String,
    html: String,
    unsubscribe: String,
}

struct Portal {
    ctx: TestContext,
    booking: Arc<BookingApp>,
    asap: Arc<AsapApp>,
}

async fn portal() -> Portal {
    let ctx = TestContext::new();
    let catalog = Catalog::parse(&std::fs::read_to_string(DEMO).unwrap()).unwrap();
    BookingRepo::new(ctx.store())
        .save_catalog(&catalog, now())
        .await
        .unwrap();
    Portal {
        booking: Arc::new(BookingApp::new(ctx.context.clone())),
        asap: Arc::new(AsapApp::new(ctx.context.clone())),
        ctx,
    }
}

impl Portal {
    /// A patient with an account in `locale`, holding a token.
    async fn patient(&self, locale: Locale) -> (ApiPatient, String) {
        let email = format!(
            "{}@example.org",
            shared::crypto::random_id(10).to_lowercase()
        );
        let patient = Patient::new(
            Email::parse(&email).unwrap(),
            Name::parse("Jürgen", "first name").unwrap(),
            Name::parse("Weiß", "last name").unwrap(),
            BirthDate::parse("1971-03-09").unwrap(),
            None,
        )
        .with_locale(locale);
        PatientRepo::new(self.ctx.store())
            .create(&patient, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
            .await
            .unwrap();
        let token = access_token(&self.ctx.context, patient.id.as_str(), ALL_SCOPES);
        let api = ApiPatient {
            bearer: format!("Bearer {token}"),
            id: patient.id.as_str().to_owned(),
        };
        (api, email)
    }

    async fn free(&self, patient: &ApiPatient) -> Vec<Value> {
        let from = (Utc::now().date_naive() + Duration::days(3)).to_string();
        let page = ok(
            &*self.booking,
            patient.get(&format!(
                "/availabilities?category_id=53&type_id=198&insurance_id=136&from={from}&limit=20"
            )),
        )
        .await;
        page["data"].as_array().unwrap().clone()
    }

    async fn book(&self, patient: &ApiPatient, slot: &Value, asap: Option<&str>) -> String {
        let mut request = json!({ "availability_id": slot["id"], "insurance_id": 136 });
        if let Some(email) = asap {
            request["asap_list_opt_in"] = json!(true);
            if !email.is_empty() {
                request["email"] = json!(email);
            }
        }
        let response = call(&*self.booking, patient.post("/booking", &request)).await;
        assert_eq!(response.status(), 201, "{}", body(&response));
        body(&response)["id"].as_str().unwrap().to_owned()
    }

    /// A subscriber in `locale` (to their account address, or to `email`) told about a freed
    /// slot: the mail they get.
    async fn notified(&self, locale: Locale, email: Option<&str>) -> (Received, Vec<Value>) {
        let (subscriber, _) = self.patient(locale).await;
        let other = ApiPatient::new(&self.ctx.context);
        let free = self.free(&other).await;
        let first = self.book(&other, &free[0], None).await;
        self.book(&subscriber, &free[5], Some(email.unwrap_or("")))
            .await;
        ok(
            &*self.booking,
            other.delete(&format!("/appointments/{first}")),
        )
        .await;
        let mails = received(&self.ctx.dir.path().join("outbox"));
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

fn when(slot: &Value, locale: Locale) -> String {
    let start = chrono::DateTime::parse_from_rfc3339(slot["starts_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    datetime::long(locale, chrono_tz::Europe::Berlin, start)
}

fn path_and_query(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

fn html_of(response: &lambda_http::Response<lambda_http::Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

#[tokio::test]
async fn a_german_patient_gets_the_asap_mail_in_german() {
    let p = portal().await;
    let de = Locale::parse("de").unwrap();
    let (mail, free) = p.notified(de, None).await;
    let offered = when(&free[0], de);
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
        mail.text
            .contains(&format!("Ihr Termin: {}", when(&free[5], de))),
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
    let offered = when(&free[0], Locale::ENGLISH);
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
    assert_eq!(page.status(), 200);
    let html = html_of(&page);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("E-Mails abbestellen"), "{html}");
    assert!(html.contains(" Uhr (ME"), "a German date: {html}");
    // The language switch shows the same page in English and remembers the choice.
    assert!(html.contains(r#"<form method="get" action="/asap/unsubscribe">"#));
    let english = call(&*p.asap, Event::get(&format!("{link}&lang=en"))).await;
    assert_eq!(english.status(), 200);
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
    assert_eq!(done.status(), 200);
    assert!(html_of(&done).contains("You are unsubscribed"));
    let again = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(again.status(), 410);
    assert!(html_of(&again).contains("Bereits abbestellt"));
}
