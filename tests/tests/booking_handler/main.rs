//! The `booking` function through real API Gateway v2 events: catalog, availabilities, booking,
//! appointments, rescheduling, cancellation, video links, scopes, concurrency and storage cost.

use booking_fn::App;
use chrono::Datelike;
use serde_json::Value;
use shared::keys::Role;
use testkit::api::{body, book_request, call, days_ahead, ok, ApiPatient};
use testkit::catalog;
use testkit::TestContext;

mod availability_ids;
mod catalogs;
mod concurrency;
mod costs;
mod e2e;
mod idempotency;
mod ownership;
mod requests;
mod rules;
mod time_zones;
mod walkthrough;

/// A context with the demo catalog loaded, and an app over it.
async fn setup() -> (TestContext, App) {
    let ctx = TestContext::new();
    catalog::load_demo(&ctx.store()).await;
    let app = App::new(ctx.function(Role::Booking));
    ctx.counter.take();
    (ctx, app)
}

async fn availabilities(
    app: &App,
    patient: &ApiPatient,
    type_id: i64,
    category: i64,
) -> Vec<Value> {
    let page = ok(
        app,
        patient.get(&format!(
            "/availabilities?category_id={category}&type_id={type_id}&insurance_id=136&from={}",
            days_ahead(3)
        )),
    )
    .await;
    page["data"].as_array().unwrap().clone()
}

fn book_body(availability: &Value) -> Value {
    book_request(availability["id"].as_str().unwrap())
}

async fn book(app: &App, patient: &ApiPatient, availability: &Value) -> String {
    let response = call(app, patient.post("/booking", &book_body(availability))).await;
    assert_eq!(response.status(), 201, "{}", body(&response));
    body(&response)["id"].as_str().unwrap().to_owned()
}
