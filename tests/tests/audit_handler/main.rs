//! The audit log of patient-data access through `shared::boot::invoke` (what every function's
//! serve loop runs) with real API Gateway v2 events: one stored access record per request that
//! reads or changes a patient's data — with the right fields, expiring after the retention, and
//! nothing sensitive — mirrored on the request's log line; refusals that name a patient audited
//! too; changes carrying their record in their own transaction; reads failing closed.

mod costs;
mod refusals;
mod routes;

use lambda_http::{Body, Request, RequestExt as _, Response};
use serde_json::{Map, Value};
use shared::audit::{AccessRecord, AuditLog};
use shared::boot::{invoke, Context, Handler};
use shared::domain::client::ClientId;
use shared::domain::patient::{Patient, PatientId};
use shared::keys::Role;
use shared::store::{layout, Item};
use testkit::api::{book_request, days_ahead, API, PORTAL_SCOPE};
use testkit::tokens::{access_claims, sign};
use testkit::{catalog, Event, TestContext};

/// The allowed attributes of a stored access record: no token, name, email or other patient data.
const RECORD_ATTRIBUTES: [&str; 8] = [
    "at",
    "client_id",
    "patient_id",
    "route",
    "resource",
    "status_class",
    "error",
    "request_id",
];

/// The three audited functions over one context.
struct Portal {
    ctx: TestContext,
    booking: booking_fn::App,
    asap: asap_fn::App,
    userinfo: userinfo_fn::App,
}

impl Portal {
    /// The demo catalog in a fresh store; ASAP mail from the stream, as deployed (so a change's
    /// round trips are its own).
    async fn new() -> Self {
        let ctx = TestContext::with_env(&[("PORTAL_ASAP_DISPATCH", "stream")]);
        catalog::load_demo(&ctx.store()).await;
        Self::on(ctx)
    }

    /// The functions over `ctx`, each with its own keys.
    fn on(ctx: TestContext) -> Self {
        Self {
            booking: booking_fn::App::new(ctx.function(Role::Booking)),
            asap: asap_fn::App::new(ctx.function(Role::Asap)),
            userinfo: userinfo_fn::App::new(ctx.function(Role::Userinfo)),
            ctx,
        }
    }

    /// The stored access records of `patient`, newest first.
    async fn records(&self, patient: &PatientId) -> Vec<AccessRecord> {
        AuditLog::new(self.ctx.store(), 365)
            .recent_access(patient, 0, 100)
            .await
            .expect("the audit log reads")
    }

    /// The raw stored items of `patient`'s access records, newest first.
    async fn items(&self, patient: &PatientId) -> Vec<Item> {
        self.ctx
            .store()
            .query(layout::access_records_since(patient.as_str(), 0, 100))
            .await
            .expect("the audit partition reads")
            .items
    }

    /// Free slots of `type_id` (category 53) from three days ahead.
    async fn free(&self, app: &App, type_id: i64) -> Vec<String> {
        let event = app.get(&format!(
            "{API}/availabilities?category_id=53&type_id={type_id}&insurance_id=136&from={}&limit=20",
            days_ahead(3)
        ));
        let (status, body, _) = run(&self.booking, "booking", event, "search").await;
        assert_eq!(status, 200, "{body}");
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|slot| slot["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Books `availability` for `app`'s patient; the appointment id.
    async fn book(&self, app: &App, availability: &str) -> String {
        let event = app.post(&format!("{API}/booking"), &book_request(availability));
        let (status, body, _) = run(&self.booking, "booking", event, "book").await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

/// An app (client) holding an access token of a patient.
struct App {
    client_id: ClientId,
    token: String,
}

impl App {
    /// A token for `patient` with `scope`, issued to a fresh client.
    fn new(context: &Context, patient: &PatientId, scope: &str) -> Self {
        let claims = access_claims(&context.config, patient.as_str(), scope);
        Self {
            client_id: ClientId::parse(&claims.client_id).unwrap(),
            token: sign(&context.keys.current(), &claims),
        }
    }

    /// Every scope of the portal and of userinfo.
    fn full(context: &Context, patient: &PatientId) -> Self {
        Self::new(
            context,
            patient,
            &format!("{PORTAL_SCOPE} profile email phone"),
        )
    }

    fn get(&self, path: &str) -> Event {
        Event::get(path).bearer(&self.token)
    }

    fn post(&self, path: &str, body: &Value) -> Event {
        Event::post(path).bearer(&self.token).json(body)
    }

    fn put(&self, path: &str, body: &Value) -> Event {
        Event::new("PUT", path).bearer(&self.token).json(body)
    }

    fn delete(&self, path: &str) -> Event {
        Event::new("DELETE", path).bearer(&self.token)
    }
}

/// A request as the Lambda runtime hands it over: with its invocation context.
fn invocation(event: Event, request_id: &str) -> Request {
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_owned();
    event.request().with_lambda_context(context)
}

/// Runs one request through `invoke`: status, JSON body (`null` when none) and the log line.
async fn run(
    handler: &impl Handler,
    function: &str,
    event: Event,
    request_id: &str,
) -> (u16, Value, Map<String, Value>) {
    let (response, log): (Response<Body>, _) =
        invoke(handler, function, invocation(event, request_id)).await;
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (response.status().as_u16(), body, log.fields().clone())
}

/// A seeded patient (with email, names, birth date, phone on file) and a full-scope app of theirs.
async fn patient_and_app(portal: &Portal) -> (Patient, App) {
    let patient = portal.ctx.patient().await;
    let app = App::full(&portal.ctx.context, &patient.id);
    (patient, app)
}

/// Everything about `patient` and `app` that must never be in a record or its log form.
fn secrets(patient: &Patient, app: &App) -> Vec<String> {
    let mut secrets = vec![
        app.token.clone(),
        patient.email.to_string(),
        patient.first_name.to_string(),
        patient.last_name.to_string(),
        patient.birth_date.to_string(),
    ];
    secrets.extend(patient.phone.as_ref().map(ToString::to_string));
    secrets
}

/// Checks a stored item holds only record attributes, none of `secrets`, and expires a year
/// (the default retention) after its time.
#[track_caller]
fn assert_clean_item(item: &Item, secrets: &[String]) {
    for name in item.attrs.keys() {
        assert!(
            RECORD_ATTRIBUTES.contains(&name.as_str()),
            "unexpected attribute {name}"
        );
    }
    let text = format!("{item:?}");
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "{secret} in {text}");
    }
    let at_ms = item.number("at").unwrap();
    assert_eq!(item.expires_at, Some(at_ms / 1000 + 365 * 24 * 3600));
}
