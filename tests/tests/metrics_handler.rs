//! Every request emits its log line with its CloudWatch metrics (Embedded Metric Format), through
//! `shared::boot::invoke` — what each function's `serve` loop runs — with real API Gateway v2
//! events: the route pattern (never the raw path), status class, duration, the Lambda request
//! id, and what the request did (bookings, slot_unavailable, ...).

use lambda_http::{Request, RequestExt as _};
use serde_json::{Map, Value};
use shared::booking::AppointmentId;
use shared::boot::{invoke, Handler};
use shared::metrics::emf;
use testkit::api::{book_request, ApiPatient, API};
use testkit::catalog::{self, CATEGORY, INSURANCE, TYPE};
use testkit::{Event, TestContext};

/// A request as the Lambda runtime hands it over: with its invocation context.
fn invocation(event: Event, request_id: &str) -> Request {
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_owned();
    context.xray_trace_id = Some("Root=1-5759e988-bd862e3fe1be46a994272793".to_owned());
    event.request().with_lambda_context(context)
}

/// Runs the request and returns the answer's status and its log lines, each checked against the
/// EMF rules.
async fn run(
    handler: &impl Handler,
    function: &str,
    request: Request,
) -> (u16, Vec<Map<String, Value>>) {
    let (response, log) = invoke(handler, function, request).await;
    let lines: Vec<Map<String, Value>> = log
        .lines()
        .iter()
        .map(
            |line| match serde_json::from_str(line).expect("the line is JSON") {
                Value::Object(map) => map,
                other => panic!("not an object: {other}"),
            },
        )
        .collect();
    for line in &lines {
        let problems = emf::problems(&Value::Object(line.clone()));
        assert!(problems.is_empty(), "{problems:?} in {line:?}");
    }
    (response.status().as_u16(), lines)
}

async fn booking_app() -> (TestContext, booking_fn::App) {
    let ctx = TestContext::new();
    catalog::load_demo(&ctx.store()).await;
    let app = booking_fn::App::new(ctx.context.clone());
    (ctx, app)
}

async fn first_availability(app: &booking_fn::App, patient: &ApiPatient) -> String {
    let request = patient
        .get(&format!(
            "/availabilities?category_id={CATEGORY}&type_id={TYPE}&insurance_id={INSURANCE}&limit=1"
        ))
        .request();
    let response = app.handle(request).await;
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    body["data"][0]["id"]
        .as_str()
        .expect("an availability")
        .to_owned()
}

fn book(patient: &ApiPatient, availability: &str) -> Event {
    patient.post("/booking", &book_request(availability))
}

#[tokio::test]
async fn a_booking_emits_one_line_with_route_status_duration_request_id_and_the_booking() {
    let (ctx, app) = booking_app().await;
    let patient = ApiPatient::new(&ctx.context);
    let slot = first_availability(&app, &patient).await;

    let (status, lines) = run(
        &app,
        "booking",
        invocation(book(&patient, &slot), "req-book-1"),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["message"], "request");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["Function"], "booking");
    assert_eq!(line["Route"], "POST /api/portal/v1/booking");
    assert_eq!(line["StatusClass"], "2xx");
    assert_eq!(line["status"], 201);
    assert_eq!(line["Requests"], 1);
    assert!(
        line["Duration"].as_f64().is_some_and(|ms| ms > 0.0),
        "{line:?}"
    );
    assert_eq!(line["Bookings"], 1);
    assert!(line.get("SlotUnavailable").is_none());
    assert_eq!(line["requestId"], "req-book-1");
    assert_eq!(line["traceId"], "Root=1-5759e988-bd862e3fe1be46a994272793");
    // Nothing secret or personal on the line: no token, no ids from the path or body; the
    // patient and appointment ids only in its access record (`audit`), never in a metric.
    let token = patient.bearer.trim_start_matches("Bearer ");
    let all = Value::Object(line.clone()).to_string();
    assert!(!all.contains(token) && !all.contains(&slot), "{all}");
    assert_eq!(line["audit"]["patient_id"], patient.id.as_str());
    let mut metrics_only = line.clone();
    metrics_only.remove("audit");
    let text = Value::Object(metrics_only).to_string();
    assert!(!text.contains(&patient.id), "{text}");

    // The same slot again (capacity 1): a 409 that counts as slot_unavailable.
    let other = ApiPatient::new(&ctx.context);
    let (status, lines) = run(
        &app,
        "booking",
        invocation(book(&other, &slot), "req-book-2"),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(lines[0]["StatusClass"], "4xx");
    assert_eq!(lines[0]["SlotUnavailable"], 1);
    assert!(lines[0].get("Bookings").is_none());
}

#[tokio::test]
async fn routes_are_patterns_and_unknown_paths_one_value() {
    let (ctx, app) = booking_app().await;
    let patient = ApiPatient::new(&ctx.context);
    let id = AppointmentId::generate().to_string();

    let get = patient
        .get(&format!("/appointments/{id}"))
        .path_param("id", &id);
    let (status, lines) = run(&app, "booking", invocation(get, "r1")).await;
    assert_eq!(status, 404);
    assert_eq!(lines[0]["Route"], "GET /api/portal/v1/appointments/{id}");
    let mut metrics_only = lines[0].clone();
    assert_eq!(
        metrics_only.remove("audit").unwrap()["resource"],
        id.as_str()
    );
    assert!(!Value::Object(metrics_only).to_string().contains(&id));

    let patch = Event::new("PATCH", &format!("{API}/appointments/{id}")).path_param("id", &id);
    let (status, lines) = run(&app, "booking", invocation(patch, "r2")).await;
    assert_eq!(status, 405);
    assert_eq!(lines[0]["Route"], "ANY /api/portal/v1/appointments/{id}");

    let (status, lines) = run(&app, "booking", invocation(Event::get("/nowhere/42"), "r3")).await;
    assert_eq!(status, 404);
    assert_eq!(lines[0]["Route"], "unmatched");
    assert_eq!(lines[0]["StatusClass"], "4xx");
}

#[tokio::test]
async fn every_function_emits_its_line() {
    let ctx = TestContext::new();
    let context = ctx.context.clone();

    let authorize = authorize_fn::App::new(context.clone());
    let (_, lines) = run(
        &authorize,
        "authorize",
        invocation(Event::get("/oauth/authorize"), "a"),
    )
    .await;
    assert_eq!(lines[0]["Function"], "authorize");
    assert_eq!(lines[0]["Route"], "GET /oauth/authorize");
    assert_eq!(lines[0]["StatusClass"], "4xx");

    let token = token_fn::App::new(context.clone());
    let request = Event::post("/oauth/token").form(&[("grant_type", "refresh_token")]);
    let (status, lines) = run(&token, "token", invocation(request, "t")).await;
    assert!(status == 400 || status == 401, "{status}");
    assert_eq!(lines[0]["Route"], "POST /oauth/token");
    assert!(
        lines[0].get("TokensIssued").is_none(),
        "no tokens on an error"
    );

    let userinfo = userinfo_fn::App::new(context.clone());
    let discovery = Event::get("/.well-known/openid-configuration");
    let (status, lines) = run(&userinfo, "userinfo", invocation(discovery, "u")).await;
    assert_eq!(status, 200);
    assert_eq!(lines[0]["Route"], "GET /.well-known/openid-configuration");
    assert_eq!(lines[0]["StatusClass"], "2xx");
    let redirect = Event::get("/api-docs/oauth2-redirect?code=x&state=y");
    let (status, lines) = run(&userinfo, "userinfo", invocation(redirect, "u2")).await;
    assert_eq!(status, 200);
    assert_eq!(lines[0]["Route"], "GET /api-docs/oauth2-redirect");

    let asap = asap_fn::App::new(context.clone());
    let (_, lines) = run(
        &asap,
        "asap",
        invocation(Event::get("/asap/unsubscribe"), "s"),
    )
    .await;
    assert_eq!(lines[0]["Function"], "asap");
    assert_eq!(lines[0]["Route"], "GET /asap/unsubscribe");
}
