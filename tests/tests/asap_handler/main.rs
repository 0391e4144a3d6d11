//! The ASAP list through real API Gateway v2 events and real DynamoDB Stream batches:
//! subscribe / unsubscribe / earlier availability, the emails a freed slot causes (outbox folder
//! locally, SES on DynamoDB through moto), exactly-once delivery, and the one-click unsubscribe
//! link.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use asap_fn::App as AsapApp;
use booking_fn::App as BookingApp;
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use shared::boot::EventHandler as _;
use shared::i18n::Locale;
use shared::keys::Role;
use testkit::api::{body, book_request, call, days_ahead, ok, ApiPatient};
use testkit::catalog;
use testkit::TestContext;

mod mail_language;
mod notifications;
mod stream;
mod subscriptions;
mod unsubscribe_link;

struct Portal {
    ctx: TestContext,
    booking: Arc<BookingApp>,
    asap: Arc<AsapApp>,
}

/// The demo catalog in a fresh SQLite store, with the local defaults: inline ASAP dispatch and
/// mail to `<data dir>/outbox`.
async fn portal() -> Portal {
    let ctx = TestContext::new();
    catalog::load_demo(&ctx.store()).await;
    Portal::on(ctx)
}

impl Portal {
    /// The booking and ASAP functions over `ctx`.
    fn on(ctx: TestContext) -> Portal {
        Portal {
            booking: Arc::new(BookingApp::new(ctx.function(Role::Booking))),
            asap: Arc::new(AsapApp::new(ctx.function(Role::Asap))),
            ctx,
        }
    }

    async fn free(&self, patient: &ApiPatient, type_id: i64, category: i64) -> Vec<Value> {
        let page = ok(
            &*self.booking,
            patient.get(&format!(
                "/availabilities?category_id={category}&type_id={type_id}&insurance_id=136&from={}&limit=50",
                days_ahead(3)
            )),
        )
        .await;
        page["data"].as_array().unwrap().clone()
    }

    async fn book(&self, patient: &ApiPatient, availability: &Value, asap: Option<&str>) -> String {
        let mut request = book_request(availability["id"].as_str().unwrap());
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

    async fn cancel(&self, patient: &ApiPatient, id: &str) {
        ok(
            &*self.booking,
            patient.delete(&format!("/appointments/{id}")),
        )
        .await;
    }

    fn outbox(&self) -> PathBuf {
        self.ctx.dir.path().join("outbox")
    }
}

/// Every `.eml` file in a folder, as text.
fn mails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The quoted-printable / folded MIME text made searchable: soft line breaks removed.
fn unfolded(mail: &str) -> String {
    mail.replace("=\r\n", "").replace("=3D", "=")
}

/// The unsubscribe URL of an email (from its `List-Unsubscribe` header).
fn unsubscribe_link(mail: &str) -> String {
    let header = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .unwrap_or_else(|| panic!("no List-Unsubscribe header in {mail}"));
    header.trim_end_matches('>').to_owned()
}

fn path_and_query(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

fn status(response: &Response<Body>) -> u16 {
    response.status().as_u16()
}
