//! The `booking` function through real API Gateway v2 events: catalog, availabilities, booking,
//! appointments, rescheduling, cancellation, video links, scopes, concurrency and storage cost.

use std::sync::Arc;

use booking_fn::App;
use chrono::{Datelike, Duration, NaiveDate, Utc, Weekday};
use lambda_http::{Body, Response};
use portal_tests::context::TestContext;
use portal_tests::events::Event;
use serde_json::{json, Value};
use shared::bearer::AccessClaims;
use shared::booking::etag::IfMatch;
use shared::booking::{AvailabilityToken, BookingRepo, Catalog};
use shared::boot::{Context, Handler as _};
use shared::crypto::random_id;
use shared::jwt::Audience;
use shared::keys::{KeyMaterial, KeySet};
use shared::store::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};

const API: &str = "/api/portal/v1";
const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/catalog/demo.yaml");
const ALL: &str = "openid profile_read appointment_read appointment_write";

fn now() -> i64 {
    Utc::now().timestamp()
}

fn demo_text() -> String {
    std::fs::read_to_string(DEMO).unwrap()
}

async fn load(context: &Context, text: &str) {
    let catalog = Catalog::parse(text).unwrap();
    BookingRepo::new(context.store.clone())
        .save_catalog(&catalog, now())
        .await
        .unwrap();
}

/// A context with the demo catalog loaded, and an app over it.
async fn setup() -> (TestContext, Arc<App>) {
    let ctx = TestContext::new();
    load(&ctx.context, &demo_text()).await;
    let app = Arc::new(App::new(ctx.context.clone()));
    ctx.counter.take();
    (ctx, app)
}

fn token(context: &Context, patient: &str, scope: &str) -> String {
    let config = &context.config;
    let now = now();
    let claims = AccessClaims {
        iss: config.issuer_str().to_owned(),
        sub: patient.to_owned(),
        aud: Audience::one(config.api_audience.clone()),
        client_id: "client-1".to_owned(),
        scope: scope.to_owned(),
        exp: now + 300,
        iat: now,
        jti: random_id(16),
        gid: "grant-1".to_owned(),
        auth_time: now - 60,
    };
    context.keys.sign_jwt("at+jwt", &claims).unwrap()
}

/// A patient with every portal scope.
struct Patient {
    id: String,
    bearer: String,
}

impl Patient {
    fn new(context: &Context) -> Self {
        Self::with_scope(context, ALL)
    }
    fn with_scope(context: &Context, scope: &str) -> Self {
        let id = random_id(22);
        Self {
            bearer: format!("Bearer {}", token(context, &id, scope)),
            id,
        }
    }
    fn get(&self, path: &str) -> Event {
        Event::get(&format!("{API}{path}")).header("authorization", &self.bearer)
    }
    fn post(&self, path: &str, body: &Value) -> Event {
        Event::post(&format!("{API}{path}"))
            .header("authorization", &self.bearer)
            .json(body)
    }
    fn put(&self, path: &str, body: &Value) -> Event {
        Event::new("PUT", &format!("{API}{path}"))
            .header("authorization", &self.bearer)
            .json(body)
    }
    fn delete(&self, path: &str) -> Event {
        Event::new("DELETE", &format!("{API}{path}")).header("authorization", &self.bearer)
    }
}

async fn call(app: &App, event: Event) -> Response<Body> {
    app.handle(event.request()).await
}

fn body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", response.body()))
}

async fn ok(app: &App, event: Event) -> Value {
    let response = call(app, event).await;
    assert_eq!(response.status(), 200, "{}", body(&response));
    body(&response)
}

/// A local date a few days ahead: outside every demo lead time and cancellation notice period.
fn days_ahead(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

async fn availabilities(app: &App, patient: &Patient, type_id: i64, category: i64) -> Vec<Value> {
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
    json!({ "availability_id": availability["id"], "insurance_id": 136 })
}

async fn book(app: &App, patient: &Patient, availability: &Value) -> String {
    let response = call(app, patient.post("/booking", &book_body(availability))).await;
    assert_eq!(response.status(), 201, "{}", body(&response));
    body(&response)["id"].as_str().unwrap().to_owned()
}

// ----- the walkthrough -----

#[tokio::test]
async fn the_walkthrough_books_reschedules_and_cancels_with_the_demo_ids() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);

    let insurances = ok(&app, patient.get("/insurances")).await;
    assert!(insurances["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == 136 && i["name"].is_string()));

    let categories = ok(
        &app,
        patient.get("/appointment_categories?insurance_id=136"),
    )
    .await;
    let ids: Vec<i64> = categories["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [53, 54], "category 55 is not for insurance 136");

    let types = ok(
        &app,
        patient.get("/appointment_types?category_id=53&insurance_id=136"),
    )
    .await;
    let consultation = types["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == 198)
        .unwrap()
        .clone();
    assert_eq!(consultation["duration_minutes"], 20);
    assert_eq!(consultation["asap_notifications_enabled"], true);
    assert_eq!(consultation["video_consultation"], false);
    assert!(types["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["id"] != 200));

    let slots = availabilities(&app, &patient, 198, 53).await;
    assert!(slots.len() >= 3);
    let starts: Vec<&str> = slots
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "ordered: {starts:?}"
    );
    assert!(
        starts[0].ends_with("+01:00") || starts[0].ends_with("+02:00"),
        "{}",
        starts[0]
    );
    let first = &slots[0];

    let id = book(&app, &patient, first).await;
    assert_eq!(id.len(), 28);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));

    let appointment = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(appointment["id"], id.as_str());
    assert_eq!(appointment["status"], "booked");
    assert_eq!(appointment["starts_at"], first["starts_at"]);
    assert_eq!(appointment["ends_at"], first["ends_at"]);
    assert_eq!(
        appointment["appointment_type"],
        json!({"id": 198, "name": "Consultation"})
    );
    assert_eq!(
        appointment["appointment_category"],
        json!({"id": 53, "name": "General medicine"})
    );
    assert_eq!(appointment["insurance_id"], 136);
    assert_eq!(appointment["video_consultation"], false);
    assert_eq!(appointment["asap_list"], json!({"subscribed": false}));

    let after = availabilities(&app, &patient, 198, 53).await;
    assert!(
        after.iter().all(|s| s["starts_at"] != first["starts_at"]),
        "taken slot offered again"
    );

    let alternatives = ok(
        &app,
        patient.get(&format!(
            "/appointments/{id}/availabilities?from={}",
            days_ahead(3)
        )),
    )
    .await;
    let alternatives = alternatives["data"].as_array().unwrap();
    assert!(alternatives
        .iter()
        .all(|s| s["starts_at"] != first["starts_at"]));
    let target = &alternatives[1];

    let moved = ok(
        &app,
        patient.put(
            &format!("/appointments/{id}"),
            &json!({ "availability_id": target["id"] }),
        ),
    )
    .await;
    assert_eq!(moved["id"], id.as_str());
    assert_eq!(moved["starts_at"], target["starts_at"]);
    let reread = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(reread["starts_at"], target["starts_at"]);
    let freed = availabilities(&app, &patient, 198, 53).await;
    assert!(
        freed.iter().any(|s| s["starts_at"] == first["starts_at"]),
        "old slot released"
    );
    assert!(
        freed.iter().all(|s| s["starts_at"] != target["starts_at"]),
        "new slot taken"
    );

    let list = ok(&app, patient.get("/appointments")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], id.as_str());

    let cancelled = ok(&app, patient.delete(&format!("/appointments/{id}"))).await;
    assert_eq!(cancelled, json!({ "id": id }));
    let reread = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(reread["status"], "cancelled");
    let freed = availabilities(&app, &patient, 198, 53).await;
    assert!(
        freed.iter().any(|s| s["starts_at"] == target["starts_at"]),
        "slot released on cancel"
    );

    let again = call(&app, patient.delete(&format!("/appointments/{id}"))).await;
    assert_eq!(again.status(), 409);
    assert_eq!(body(&again)["error"], "already_cancelled");
    let reschedule_cancelled = call(
        &app,
        patient.put(
            &format!("/appointments/{id}"),
            &json!({ "availability_id": first["id"] }),
        ),
    )
    .await;
    assert_eq!(reschedule_cancelled.status(), 409);
}

// ----- concurrency -----

async fn twenty_patients_race_for_one_slot(context: Context) {
    load(&context, &demo_text()).await;
    let app = Arc::new(App::new(context.clone()));
    let scout = Patient::new(&context);
    let slot = availabilities(&app, &scout, 198, 53).await[0].clone();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            let patient = Patient::new(&context);
            let body = book_body(&slot);
            tokio::spawn(async move {
                let response = call(&app, patient.post("/booking", &body)).await;
                (response.status().as_u16(), self::body(&response))
            })
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["error"], "slot_unavailable");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 19));
    let left = availabilities(&app, &scout, 198, 53).await;
    assert!(left.iter().all(|s| s["starts_at"] != slot["starts_at"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_bookings_of_one_slot_give_one_appointment_on_sqlite() {
    let ctx = TestContext::new();
    twenty_patients_race_for_one_slot(ctx.context.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_bookings_of_one_slot_give_one_appointment_on_dynamodb() {
    let ctx = TestContext::new();
    let store = portal_tests::dynamo_store().await;
    let keys = KeySet::from_material(&ctx.material).unwrap();
    let context = shared::boot::context((*ctx.context.config).clone(), store, keys);
    twenty_patients_race_for_one_slot(context).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_racing_reschedules_exactly_one_wins() {
    let ctx = TestContext::new();
    let gated = Arc::new(GateStore {
        inner: ctx.store(),
        gate: std::sync::Mutex::new(None),
    });
    let context = shared::boot::context(
        (*ctx.context.config).clone(),
        gated.clone(),
        KeySet::from_material(&ctx.material).unwrap(),
    );
    load(&context, &demo_text()).await;
    let app = Arc::new(App::new(context.clone()));
    let patient = Arc::new(Patient::new(&context));
    let slots = availabilities(&app, &patient, 198, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    *gated.gate.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(2)));
    let targets = [slots[1].clone(), slots[2].clone()];
    let tasks: Vec<_> = targets
        .iter()
        .map(|target| {
            let app = app.clone();
            let patient = patient.clone();
            let path = format!("/appointments/{id}");
            let body = json!({ "availability_id": target["id"] });
            tokio::spawn(async move {
                let response = call(&app, patient.put(&path, &body)).await;
                (response.status().as_u16(), self::body(&response))
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    *gated.gate.lock().unwrap() = None;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results.iter().find(|(s, _)| *s != 200).unwrap();
    assert_eq!(loser.0, 409, "{results:?}");
    assert_eq!(loser.1["error"], "appointment_changed");

    let current = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(current["starts_at"], winners[0]["starts_at"]);
    let free = availabilities(&app, &patient, 198, 53).await;
    let offered = |s: &Value| free.iter().any(|f| f["starts_at"] == s["starts_at"]);
    assert!(offered(&slots[0]), "original slot released once");
    let won = targets
        .iter()
        .find(|t| t["starts_at"] == current["starts_at"])
        .unwrap();
    let lost = targets
        .iter()
        .find(|t| t["starts_at"] != current["starts_at"])
        .unwrap();
    assert!(!offered(won));
    assert!(offered(lost), "the loser's slot was not claimed");
}

/// A store whose reads wait for each other while a barrier is armed, so two requests are both
/// past their read before either writes: the race the conditional transaction must settle.
struct GateStore {
    inner: Arc<dyn Store>,
    gate: std::sync::Mutex<Option<Arc<tokio::sync::Barrier>>>,
}

#[async_trait::async_trait]
impl Store for GateStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let item = self.inner.get(key).await?;
        let gate = self.gate.lock().unwrap().clone();
        if let Some(barrier) = gate {
            // One-shot: once both reads met, later reads (the inline ASAP dispatch after the
            // winning commit) pass freely.
            if barrier.wait().await.is_leader() {
                *self.gate.lock().unwrap() = None;
            }
        }
        Ok(item)
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
}

// ----- idempotency -----

#[tokio::test]
async fn an_idempotent_retry_returns_the_same_appointment_and_another_body_is_refused() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let first = patient
        .post("/booking", &book_body(&slots[0]))
        .header("idempotency-key", "retry-1");
    let a = call(&app, first.clone()).await;
    assert_eq!(a.status(), 201);
    let id = body(&a)["id"].clone();

    // Same JSON with other key order and spacing is the same request.
    let same = format!(
        "{{ \"insurance_id\": 136,  \"availability_id\": \"{}\" }}",
        slots[0]["id"].as_str().unwrap()
    );
    let retry = Event::post(&format!("{API}/booking"))
        .header("authorization", &patient.bearer)
        .header("content-type", "application/json")
        .header("idempotency-key", "retry-1")
        .body(same);
    let b = call(&app, retry).await;
    assert_eq!(b.status(), 201, "{}", body(&b));
    assert_eq!(body(&b)["id"], id);
    assert_eq!(b.headers()["idempotent-replayed"], "true");

    let list = ok(&app, patient.get("/appointments")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let other = call(
        &app,
        patient
            .post("/booking", &book_body(&slots[1]))
            .header("idempotency-key", "retry-1"),
    )
    .await;
    assert_eq!(other.status(), 422);
    assert_eq!(body(&other)["error"], "idempotency_key_reused");

    // The key is per patient: another patient's identical key is unrelated.
    let stranger = Patient::new(&ctx.context);
    let theirs = call(
        &app,
        stranger
            .post("/booking", &book_body(&slots[1]))
            .header("idempotency-key", "retry-1"),
    )
    .await;
    assert_eq!(theirs.status(), 201);
    assert_ne!(body(&theirs)["id"], id);
}

// ----- access to other patients' appointments -----

#[tokio::test]
async fn another_patients_appointment_is_not_found_exactly_like_an_unknown_one() {
    let (ctx, app) = setup().await;
    let owner = Patient::new(&ctx.context);
    let intruder = Patient::new(&ctx.context);
    let slots = availabilities(&app, &owner, 198, 53).await;
    let id = book(&app, &owner, &slots[0]).await;
    let unknown = random_id(28);
    let move_to = json!({ "availability_id": slots[1]["id"] });
    for target in [&id, &unknown] {
        for event in [
            intruder.get(&format!("/appointments/{target}")),
            intruder.put(&format!("/appointments/{target}"), &move_to),
            intruder.delete(&format!("/appointments/{target}")),
            intruder.get(&format!("/appointments/{target}/availabilities")),
            intruder.get(&format!("/appointments/{target}/video_consultation")),
        ] {
            let response = call(&app, event).await;
            assert_eq!(response.status(), 404);
            assert_eq!(body(&response)["error"], "not_found");
        }
    }
    let still = ok(&app, owner.get(&format!("/appointments/{id}"))).await;
    assert_eq!(still["status"], "booked");
    assert_eq!(still["starts_at"], slots[0]["starts_at"]);
    let theirs = ok(&app, intruder.get("/appointments")).await;
    assert_eq!(theirs["data"], json!([]));
}

// ----- availability ids -----

#[tokio::test]
async fn tampered_expired_and_foreign_availability_ids_are_refused_with_400() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let good = slots[0]["id"].as_str().unwrap();
    let (key, payload) = good.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{key}.{}", String::from_utf8(bytes).unwrap());

    let start = slots[0]["starts_at"].as_str().unwrap();
    let start = chrono::DateTime::parse_from_rfc3339(start)
        .unwrap()
        .timestamp();
    let sealed = |exp: i64, keys: &KeySet| {
        AvailabilityToken {
            type_id: 198,
            category_id: 53,
            insurance_id: 136,
            starts_at: start,
            ends_at: start + 1200,
            exp,
        }
        .seal(keys.sealer())
        .unwrap()
    };
    let expired = sealed(now() - 1, &ctx.context.keys);
    let foreign_keys = KeySet::from_material(&KeyMaterial::generate().unwrap()).unwrap();
    let foreign = sealed(now() + 600, &foreign_keys);
    let shifted = AvailabilityToken {
        type_id: 198,
        category_id: 53,
        insurance_id: 136,
        starts_at: start + 60,
        ends_at: start + 1260,
        exp: now() + 600,
    }
    .seal(ctx.context.keys.sealer())
    .unwrap();

    for (case, id) in [
        ("tampered", tampered.as_str()),
        ("expired", expired.as_str()),
        ("foreign", foreign.as_str()),
        ("garbage", "not-an-id"),
        ("off-schedule", shifted.as_str()),
    ] {
        let response = call(
            &app,
            patient.post(
                "/booking",
                &json!({ "availability_id": id, "insurance_id": 136 }),
            ),
        )
        .await;
        assert_eq!(response.status(), 400, "{case}");
        let error = body(&response);
        assert_eq!(error["error"], "invalid_availability", "{case}");
        assert!(error["error_description"].as_str().unwrap().len() > 10);
    }
    let expired_answer = call(
        &app,
        patient.post(
            "/booking",
            &json!({ "availability_id": expired, "insurance_id": 136 }),
        ),
    )
    .await;
    assert!(body(&expired_answer)["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn an_insurance_that_may_not_book_gets_a_clear_4xx() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    // Type 200 (category 54) is not for insurance 138.
    let response = call(
        &app,
        patient.get("/availabilities?category_id=54&type_id=200&insurance_id=138"),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(body(&response)["error"], "insurance_not_allowed");
    let types = call(
        &app,
        patient.get("/appointment_types?category_id=54&insurance_id=138"),
    )
    .await;
    assert_eq!(types.status(), 400);

    // A booking must use the insurance the availability was searched for.
    let slots = availabilities(&app, &patient, 198, 53).await;
    let response = call(
        &app,
        patient.post(
            "/booking",
            &json!({ "availability_id": slots[0]["id"], "insurance_id": 137 }),
        ),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(body(&response)["error"], "insurance_not_allowed");

    for (query, status) in [
        ("category_id=53&type_id=198&insurance_id=999", 404),
        ("category_id=53&type_id=999&insurance_id=136", 404),
        ("category_id=54&type_id=198&insurance_id=136", 400),
    ] {
        let response = call(&app, patient.get(&format!("/availabilities?{query}"))).await;
        assert_eq!(response.status(), status, "{query}");
    }
}

// ----- time zones -----

/// The next last Sunday of March or October at least three days ahead, and whether clocks go
/// forward then.
fn next_dst_change() -> (NaiveDate, bool) {
    let soon = Utc::now().date_naive() + Duration::days(3);
    let last_sunday = |year: i32, month: u32| {
        let mut day = NaiveDate::from_ymd_opt(year, month, 31).unwrap();
        while day.weekday() != Weekday::Sun {
            day = day.pred_opt().unwrap();
        }
        day
    };
    (soon.year()..soon.year() + 2)
        .flat_map(|y| [(last_sunday(y, 3), true), (last_sunday(y, 10), false)])
        .find(|(day, _)| *day > soon)
        .unwrap()
}

#[tokio::test]
async fn availabilities_in_a_dst_week_carry_the_offset_of_their_own_day() {
    let ctx = TestContext::new();
    let daily: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({ "weekday": d, "start": "09:00", "end": "10:00" }))
        .collect();
    let catalog = json!({
        "time_zone": "Europe/Berlin",
        "insurances": [{ "id": 136, "name": "GKV" }],
        "categories": [{ "id": 53, "name": "General", "insurance_ids": [136] }],
        "types": [{
            "id": 198, "name": "Consultation", "category_id": 53, "duration_minutes": 30,
            "insurance_ids": [136],
            "schedule": { "windows": daily, "slot_interval_minutes": 60, "capacity": 1,
                          "horizon_days": 366 }
        }]
    });
    load(&ctx.context, &catalog.to_string()).await;
    let app = App::new(ctx.context.clone());
    let patient = Patient::new(&ctx.context);
    let (change, forward) = next_dst_change();
    let (before, after) = if forward {
        ("+01:00", "+02:00")
    } else {
        ("+02:00", "+01:00")
    };
    let page = ok(
        &app,
        patient.get(&format!(
            "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&to={}",
            change - Duration::days(3),
            change + Duration::days(2)
        )),
    )
    .await;
    let starts: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (-3..=2)
        .map(|d| {
            let day = change + Duration::days(d);
            let offset = if d < 0 { before } else { after };
            format!("{day}T09:00:00{offset}")
        })
        .collect();
    assert_eq!(starts, expected);
    let ends: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ends_at"].as_str().unwrap())
        .collect();
    assert!(ends.iter().all(|e| e.contains("T09:30:00")), "{ends:?}");
}

#[tokio::test]
async fn availabilities_page_with_a_cursor_and_reject_bad_windows() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let base = format!(
        "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}",
        days_ahead(3)
    );
    let all = ok(&app, patient.get(&base)).await;
    let all = all["data"].as_array().unwrap();
    let first = ok(&app, patient.get(&format!("{base}&limit=2"))).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(
        &app,
        patient.get(&format!("{base}&limit=2&cursor={cursor}")),
    )
    .await;
    assert_eq!(second["data"][0]["starts_at"], all[2]["starts_at"]);
    assert_eq!(second["data"][1]["starts_at"], all[3]["starts_at"]);

    for bad in [
        format!("{base}&to={}", days_ahead(2)),
        format!("{base}&to={}", days_ahead(40)),
        format!("{base}&limit=0"),
        format!("{base}&limit=201"),
        format!("{base}&cursor=garbage"),
        format!("{base}&from=tomorrow"),
        "/availabilities?category_id=53&type_id=198".to_owned(),
        "/availabilities?category_id=53&type_id=abc&insurance_id=136".to_owned(),
        "/availabilities?category_id=53&type_id=198&type_id=199&insurance_id=136".to_owned(),
    ] {
        let response = call(&app, patient.get(&bad)).await;
        assert_eq!(response.status(), 400, "{bad}");
        assert!(body(&response)["error_description"].is_string());
    }
}

// ----- cancellation rules and video -----

#[tokio::test]
async fn cancelling_inside_the_notice_period_is_refused_and_video_links_only_exist_for_video_types()
{
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);

    // Type 199 is a video consultation.
    let video_slots = availabilities(&app, &patient, 199, 53).await;
    let video_id = book(&app, &patient, &video_slots[0]).await;
    let link = ok(
        &app,
        patient.get(&format!("/appointments/{video_id}/video_consultation")),
    )
    .await;
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "https://video.mypatientportal.example/join/{video_id}?token="
        )),
        "{url}"
    );
    let expires =
        chrono::DateTime::parse_from_rfc3339(link["expires_at"].as_str().unwrap()).unwrap();
    let ends =
        chrono::DateTime::parse_from_rfc3339(video_slots[0]["ends_at"].as_str().unwrap()).unwrap();
    assert!(expires > ends);

    let plain_slots = availabilities(&app, &patient, 198, 53).await;
    let plain_id = book(&app, &patient, &plain_slots[0]).await;
    let response = call(
        &app,
        patient.get(&format!("/appointments/{plain_id}/video_consultation")),
    )
    .await;
    assert_eq!(response.status(), 409);
    assert_eq!(body(&response)["error"], "not_video_consultation");

    // Inside the notice period (24 h for type 198), seen from a clock three hours before the start.
    let appointment = ok(&app, patient.get(&format!("/appointments/{plain_id}"))).await;
    let start = chrono::DateTime::parse_from_rfc3339(appointment["starts_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let service = app.service();
    let patient_id = shared::domain::patient::PatientId::parse(&patient.id).unwrap();
    let plain = shared::booking::AppointmentId::parse(&plain_id).unwrap();
    let late = start - 3 * 3600;
    let refused = service
        .cancel(&patient_id, &plain, IfMatch::Any, late)
        .await
        .unwrap_err();
    let refused = shared::http::ApiError::from(refused).into_response();
    assert_eq!(refused.status(), 409);
    assert_eq!(body(&refused)["error"], "cancellation_period");
    // The same with the current ETag; with an outdated one the failed precondition comes first.
    let current = service.appointment(&patient_id, &plain).await.unwrap();
    let refused = service
        .cancel(
            &patient_id,
            &plain,
            IfMatch::Tag(Box::new(current.clone())),
            late,
        )
        .await
        .unwrap_err();
    assert_eq!(shared::http::ApiError::from(refused).status(), 409);
    let outdated = shared::booking::Appointment {
        revision: current.revision - 1,
        ..current
    };
    let refused = service
        .cancel(&patient_id, &plain, IfMatch::Tag(Box::new(outdated)), late)
        .await
        .unwrap_err();
    assert_eq!(shared::http::ApiError::from(refused).status(), 412);
    let alternatives = ok(
        &app,
        patient.get(&format!("/appointments/{plain_id}/availabilities")),
    )
    .await;
    let instant = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(alternatives["data"][0][field].as_str().unwrap())
            .unwrap()
            .timestamp()
    };
    let target = AvailabilityToken {
        type_id: 198,
        category_id: 53,
        insurance_id: 136,
        starts_at: instant("starts_at"),
        ends_at: instant("ends_at"),
        exp: late + 600,
    }
    .seal(ctx.context.keys.sealer())
    .unwrap();
    let refused = service
        .reschedule(&patient_id, &plain, &target, IfMatch::Any, late)
        .await
        .unwrap_err();
    assert_eq!(shared::http::ApiError::from(refused).status(), 409);
    // A day and a minute before the start it is still allowed.
    service
        .cancel(&patient_id, &plain, IfMatch::Any, start - 24 * 3600 - 60)
        .await
        .unwrap();
    let reread = ok(&app, patient.get(&format!("/appointments/{plain_id}"))).await;
    assert_eq!(reread["status"], "cancelled");
    let over = call(
        &app,
        patient.get(&format!("/appointments/{video_id}/video_consultation")),
    )
    .await;
    assert_eq!(over.status(), 200);
}

#[tokio::test]
async fn asap_opt_in_is_stored_and_refused_for_types_without_an_asap_list() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let response = call(
        &app,
        patient.post(
            "/booking",
            &json!({ "availability_id": slots[0]["id"], "insurance_id": 136,
                     "asap_list_opt_in": true, "email": "anna@example.org",
                     "comment": "first visit", "unknown_field": 1 }),
        ),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", body(&response));
    let id = body(&response)["id"].as_str().unwrap().to_owned();
    let appointment = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(appointment["asap_list"], json!({ "subscribed": true }));
    assert_eq!(appointment["comment"], "first visit");

    let checkups = availabilities(&app, &patient, 200, 54).await;
    let response = call(
        &app,
        patient.post(
            "/booking",
            &json!({ "availability_id": checkups[0]["id"], "insurance_id": 136,
                     "asap_list_opt_in": true }),
        ),
    )
    .await;
    assert_eq!(response.status(), 409);
    assert_eq!(body(&response)["error"], "asap_unavailable");
}

// ----- scopes and malformed requests -----

#[tokio::test]
async fn every_route_needs_both_of_its_scopes() {
    let (ctx, app) = setup().await;
    let owner = Patient::new(&ctx.context);
    let slots = availabilities(&app, &owner, 198, 53).await;
    let id = book(&app, &owner, &slots[0]).await;
    let sub_token = |scope: &str| Patient::with_scope(&ctx.context, scope);
    let move_to = json!({ "availability_id": slots[1]["id"] });
    let reads = [
        "/insurances".to_owned(),
        "/appointment_categories?insurance_id=136".to_owned(),
        "/appointment_types?category_id=53&insurance_id=136".to_owned(),
        "/availabilities?category_id=53&type_id=198&insurance_id=136".to_owned(),
        "/appointments".to_owned(),
        format!("/appointments/{id}"),
        format!("/appointments/{id}/availabilities"),
        format!("/appointments/{id}/video_consultation"),
    ];
    for missing in [
        "openid appointment_read appointment_write",
        "openid profile_read appointment_write",
    ] {
        let p = sub_token(missing);
        for path in &reads {
            let response = call(&app, p.get(path)).await;
            assert_eq!(response.status(), 403, "{path} with {missing}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.contains("error=\"insufficient_scope\""),
                "{challenge}"
            );
            assert!(
                challenge.contains("scope=\"profile_read appointment_read\""),
                "{challenge}"
            );
        }
    }
    for missing in [
        "openid appointment_read appointment_write",
        "openid profile_read appointment_read",
    ] {
        let p = sub_token(missing);
        for event in [
            p.post("/booking", &book_body(&slots[2])),
            p.put(&format!("/appointments/{id}"), &move_to),
            p.delete(&format!("/appointments/{id}")),
        ] {
            let response = call(&app, event).await;
            assert_eq!(response.status(), 403, "{missing}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.contains("scope=\"profile_read appointment_write\""),
                "{challenge}"
            );
        }
    }
    let anonymous = call(&app, Event::get(&format!("{API}/insurances"))).await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    let still = ok(&app, owner.get(&format!("/appointments/{id}"))).await;
    assert_eq!(still["status"], "booked");
}

#[tokio::test]
async fn malformed_bodies_and_parameters_get_400_json_and_never_a_5xx() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let raw = |text: &str| {
        Event::post(&format!("{API}/booking"))
            .header("authorization", &patient.bearer)
            .header("content-type", "application/json")
            .body(text.to_owned())
    };
    let id = slots[0]["id"].as_str().unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "truncated"),
        ("".into(), "empty"),
        ("[]".into(), "not an object"),
        ("{}".into(), "missing fields"),
        (format!("{{\"availability_id\":\"{id}\"}}"), "missing insurance"),
        (format!("{{\"availability_id\":\"{id}\",\"insurance_id\":\"136\"}}"), "string id"),
        (
            format!(
                "{{\"availability_id\":\"{id}\",\"insurance_id\":136,\"comment\":\"{}\"}}",
                "x".repeat(1001)
            ),
            "long comment",
        ),
        (format!("{{\"availability_id\":\"{id}\",\"insurance_id\":136,\"email\":\"nope\"}}"), "bad email"),
        (
            format!("{{\"availability_id\":\"{id}\",\"insurance_id\":136,\"asap_list_opt_in\":\"yes\"}}"),
            "bad flag",
        ),
    ];
    for (text, case) in &cases {
        let response = call(&app, raw(text)).await;
        assert_eq!(response.status(), 400, "{case}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{case}"
        );
        assert!(body(&response)["error_description"].is_string(), "{case}");
    }
    let huge = call(
        &app,
        raw(&format!("{{\"comment\":\"{}\"}}", "x".repeat(70_000))),
    )
    .await;
    assert_eq!(huge.status(), 413);

    let booked = book(&app, &patient, &slots[0]).await;
    for body_json in [json!({}), json!({ "availability_id": 5 }), json!([1])] {
        let response = call(
            &app,
            patient.put(&format!("/appointments/{booked}"), &body_json),
        )
        .await;
        assert_eq!(response.status(), 400, "{body_json}");
    }
    let wrong_method = call(&app, patient.get("/booking")).await;
    assert_eq!(wrong_method.status(), 405);
    let unknown = call(&app, patient.get("/nothing")).await;
    assert_eq!(unknown.status(), 404);
    let bad_key = call(
        &app,
        patient
            .post("/booking", &book_body(&slots[1]))
            .header("idempotency-key", &"k".repeat(300)),
    )
    .await;
    assert_eq!(bad_key.status(), 400);
}

// ----- storage cost -----

#[tokio::test]
async fn booking_is_one_round_trip_and_warm_catalog_reads_none() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    ok(&app, patient.get("/insurances")).await;
    assert_eq!(ctx.counter.take(), 1, "cold catalog read");
    ok(&app, patient.get("/insurances")).await;
    ok(
        &app,
        patient.get("/appointment_categories?insurance_id=136"),
    )
    .await;
    ok(
        &app,
        patient.get("/appointment_types?category_id=53&insurance_id=136"),
    )
    .await;
    assert_eq!(ctx.counter.take(), 0, "warm catalog reads");
    let slots = availabilities(&app, &patient, 198, 53).await;
    assert_eq!(ctx.counter.take(), 1, "a search is one query");
    book(&app, &patient, &slots[0]).await;
    assert_eq!(ctx.counter.take(), 1, "a booking is one transaction");
    let retry = call(
        &app,
        patient
            .post("/booking", &book_body(&slots[1]))
            .header("idempotency-key", "k1"),
    )
    .await;
    assert_eq!(retry.status(), 201);
    assert_eq!(ctx.counter.take(), 1, "with an idempotency key too");
}

/// The appointment's `ETag` header, as sent.
fn etag(response: &Response<Body>) -> String {
    response
        .headers()
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn with_the_current_etag_reschedule_and_cancel_are_one_round_trip() {
    // As deployed: a freed slot's ASAP mail goes out from the table's stream, not in the request.
    let ctx = TestContext::with_env(&[("PORTAL_ASAP_DISPATCH", "stream")]);
    load(&ctx.context, &demo_text()).await;
    let app = Arc::new(App::new(ctx.context.clone()));
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    let read = call(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(read.status(), 200);
    let tag = etag(&read);
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    ctx.counter.take();

    let moved = call(
        &app,
        patient
            .put(
                &format!("/appointments/{id}"),
                &json!({ "availability_id": slots[1]["id"] }),
            )
            .header("if-match", &tag),
    )
    .await;
    assert_eq!(moved.status(), 200, "{}", body(&moved));
    assert_eq!(
        ctx.counter.take(),
        1,
        "a tagged reschedule is one transaction"
    );
    assert_eq!(body(&moved)["starts_at"], slots[1]["starts_at"]);
    let moved_tag = etag(&moved);
    assert_ne!(moved_tag, tag, "a change gives a new tag");

    // The answer's tag is the current one: the same as a fresh read's state.
    let again = call(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(body(&again), body(&moved));

    let cancelled = call(
        &app,
        patient
            .delete(&format!("/appointments/{id}"))
            .header("if-match", &moved_tag),
    )
    .await;
    assert_eq!(cancelled.status(), 200, "{}", body(&cancelled));
    assert_eq!(
        ctx.counter.take(),
        2,
        "a tagged cancel is one transaction (+ the read above)"
    );
    let after = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(after["status"], "cancelled");
    let free = availabilities(&app, &patient, 198, 53).await;
    assert!(
        free.iter().any(|s| s["starts_at"] == slots[0]["starts_at"])
            && free.iter().any(|s| s["starts_at"] == slots[1]["starts_at"]),
        "both slots are free again"
    );
}

#[tokio::test]
async fn a_new_booking_answers_with_an_etag_that_reschedules_it_and_a_replay_with_none() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let request = || {
        patient
            .post("/booking", &book_body(&slots[0]))
            .header("idempotency-key", "etag-1")
    };
    let booked = call(&app, request()).await;
    assert_eq!(booked.status(), 201, "{}", body(&booked));
    let id = body(&booked)["id"].as_str().unwrap().to_owned();
    let tag = etag(&booked);
    let replay = call(&app, request()).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert!(
        replay.headers().get("etag").is_none(),
        "a replay reads nothing"
    );

    let moved = call(
        &app,
        patient
            .put(
                &format!("/appointments/{id}"),
                &json!({ "availability_id": slots[1]["id"] }),
            )
            .header("if-match", &tag),
    )
    .await;
    assert_eq!(moved.status(), 200, "{}", body(&moved));
    assert_eq!(body(&moved)["starts_at"], slots[1]["starts_at"]);
}

#[tokio::test]
async fn an_outdated_or_foreign_etag_is_412_and_changes_nothing() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let other = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    let old_tag = etag(&call(&app, patient.get(&format!("/appointments/{id}"))).await);
    let move_to = |slot: &Value| json!({ "availability_id": slot["id"] });

    // Moved once with the tag: that tag is now outdated.
    let moved = call(
        &app,
        patient
            .put(&format!("/appointments/{id}"), &move_to(&slots[1]))
            .header("if-match", &old_tag),
    )
    .await;
    assert_eq!(moved.status(), 200);
    let current = body(&moved);
    for (what, event) in [
        (
            "reschedule with the outdated tag",
            patient
                .put(&format!("/appointments/{id}"), &move_to(&slots[2]))
                .header("if-match", &old_tag),
        ),
        (
            "cancel with the outdated tag",
            patient
                .delete(&format!("/appointments/{id}"))
                .header("if-match", &old_tag),
        ),
        (
            "a made-up tag",
            patient
                .delete(&format!("/appointments/{id}"))
                .header("if-match", "\"v1.abc\""),
        ),
        (
            "a weak tag",
            patient
                .delete(&format!("/appointments/{id}"))
                .header("if-match", &format!("W/{}", etag(&moved))),
        ),
    ] {
        let refused = call(&app, event).await;
        assert_eq!(refused.status(), 412, "{what}: {}", body(&refused));
        assert_eq!(body(&refused)["error"], "precondition_failed", "{what}");
    }
    // The current tag of this appointment means nothing for another patient's request.
    let foreign = call(
        &app,
        other
            .delete(&format!("/appointments/{id}"))
            .header("if-match", &etag(&moved)),
    )
    .await;
    assert_eq!(foreign.status(), 412);

    let unchanged = ok(&app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(unchanged, current, "refused requests changed nothing");
    let free = availabilities(&app, &patient, 198, 53).await;
    assert!(free.iter().all(|s| s["starts_at"] != slots[1]["starts_at"]));
    assert!(free.iter().any(|s| s["starts_at"] == slots[2]["starts_at"]));

    // Moving to the slot the outdated tag names is no change to write, and still 412.
    let back = call(
        &app,
        patient
            .put(&format!("/appointments/{id}"), &move_to(&slots[0]))
            .header("if-match", &old_tag),
    )
    .await;
    assert_eq!(back.status(), 412, "{}", body(&back));

    // `If-Match: *` and no If-Match read the current state.
    let star = call(
        &app,
        patient
            .put(&format!("/appointments/{id}"), &move_to(&slots[2]))
            .header("if-match", "*"),
    )
    .await;
    assert_eq!(star.status(), 200, "{}", body(&star));
}

#[tokio::test]
async fn a_tag_taken_before_an_asap_subscription_is_outdated_after_it() {
    let (ctx, app) = setup().await;
    let patient = Patient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    let tag = etag(&call(&app, patient.get(&format!("/appointments/{id}"))).await);
    let service = app.service();
    let current = service
        .appointment(
            &shared::domain::patient::PatientId::parse(&patient.id).unwrap(),
            &shared::booking::AppointmentId::parse(&id).unwrap(),
        )
        .await
        .unwrap();
    // A subscription made between the read and the change (as the asap function makes it).
    service
        .repo()
        .set_subscription(
            &current,
            Some(shared::booking::repo::NewSubscription {
                id: random_id(20),
                since: now(),
                email: None,
            }),
            None,
            now(),
        )
        .await
        .unwrap();
    let refused = call(
        &app,
        patient
            .put(
                &format!("/appointments/{id}"),
                &json!({ "availability_id": slots[1]["id"] }),
            )
            .header("if-match", &tag),
    )
    .await;
    assert_eq!(refused.status(), 412, "{}", body(&refused));
    // And a change from a copy read before the subscription is refused too (409), so the
    // subscription index always follows the appointment.
    let stale = service
        .repo()
        .cancel(&current, now(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            shared::booking::BookingError::Conflict {
                code: "appointment_changed",
                ..
            }
        ),
        "{stale:?}"
    );
}

#[tokio::test]
async fn cors_preflights_are_answered_for_booking_paths() {
    let (_ctx, app) = setup().await;
    let response = call(
        &app,
        Event::new("OPTIONS", &format!("{API}/booking"))
            .header("origin", "http://localhost:5173")
            .header("access-control-request-method", "POST"),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
}

// ----- catalog documents -----

#[test]
fn the_demo_catalog_is_valid_and_has_the_walkthrough_ids() {
    let catalog = Catalog::parse(&demo_text()).unwrap();
    assert!(catalog.insurances.contains_key(&136));
    assert!(catalog.categories[&53].insurance_ids.contains(&136));
    let t = &catalog.types[&198];
    assert_eq!(
        (t.category_id, t.duration_minutes, t.schedule.capacity),
        (53, 20, 1)
    );
    assert!(t.asap_notifications_enabled && !t.video_consultation);
    assert!(catalog.types.values().any(|t| t.video_consultation));
    assert!(catalog
        .types
        .values()
        .any(|t| !t.asap_notifications_enabled));
    assert!(catalog.types.values().any(|t| t.schedule.capacity == 2));
    assert_eq!(t.schedule.time_zone, chrono_tz::Europe::Berlin);
}

#[test]
fn catalog_validation_errors_name_the_bad_entry() {
    let text = demo_text()
        .replace(
            "category_id: 54\n    duration_minutes: 30",
            "category_id: 99\n    duration_minutes: 30",
        )
        .replace(
            "insurance_ids: [137, 138]\n    asap",
            "insurance_ids: [137, 555]\n    asap",
        )
        .replace(
            "weekday: fri, start: \"14:00\"",
            "weekday: friyay, start: \"14:00\"",
        );
    let error = Catalog::parse(&text).unwrap_err();
    let issues: Vec<String> = error.issues().iter().map(ToString::to_string).collect();
    assert!(
        issues.contains(&"types[2] (id 200): category 99 does not exist".to_owned()),
        "{issues:#?}"
    );
    assert!(
        issues.contains(&"types[4] (id 202): insurance 555 does not exist".to_owned()),
        "{issues:#?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("types[4] (id 202) schedule.windows[0]: weekday `friyay`")),
        "{issues:#?}"
    );
    assert!(error.to_string().contains("3 problem(s)"), "{error}");

    let syntax = Catalog::parse("time_zone: Europe/Berlin\ninsurances: 5").unwrap_err();
    assert!(syntax.to_string().contains("insurances"), "{syntax}");
    let duplicate = demo_text().replace("id: 199", "id: 198");
    let error = Catalog::parse(&duplicate).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("types[1] (id 198): id 198 appears more than once"),
        "{error}"
    );
}

// ----- end to end -----

/// The walkthrough against the portal `cargo lambda watch` serves (routed by the workspace's
/// router metadata, as `make run` serves it), with an access token signed by the portal's keys.
/// GETs and the booking (with an `Idempotency-Key`) are idempotent, so the emulator's own occasional
/// 500 on a large answer is answered by sending them again (`watch::send_idempotent`); the reschedule
/// and the cancellation are sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_works_through_cargo_lambda_watch() {
    use portal_tests::watch::send_idempotent;

    let portal = portal_tests::watch::portal();
    let config = portal.config();
    let store = shared::boot::connect_store(&config).await.unwrap();
    let source = shared::keys::KeySource::LocalFile(config.data_dir.join("keys.json"));
    let material = match source.load_material(None).await {
        Ok(material) => material,
        Err(_) => shared::keys::load_or_create(&config.data_dir.join("keys.json")).unwrap(),
    };
    let keys = KeySet::from_material(&material).unwrap();
    let context = shared::boot::context(config, store, keys);
    load(&context, &demo_text()).await;
    let patient = Patient::new(&context);
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let idempotent = matches!(method, reqwest::Method::GET | reqwest::Method::POST);
        let mut request = http
            .request(method, portal.url(&format!("{API}{path}")))
            .header("authorization", &patient.bearer)
            .header("idempotency-key", random_id(16));
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let (status, text) = if idempotent {
                send_idempotent(request).await
            } else {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            };
            let json = serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|_| panic!("{status}: not JSON: {text}"));
            (status, json)
        }
    };
    let get = |path: String| send(reqwest::Method::GET, path, None);

    let (status, insurances) = get("/insurances".into()).await;
    assert_eq!(status, 200, "{insurances}");
    assert!(insurances["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == 136));
    let (_, categories) = get("/appointment_categories?insurance_id=136".into()).await;
    assert!(categories["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == 53));
    let (_, types) = get("/appointment_types?category_id=53&insurance_id=136".into()).await;
    assert!(types["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == 198));
    // The shared portal serves other test runs too, which book the first slots from a few days
    // ahead: search from a day of its own further out and take slots from the end of the page.
    let offset = 10 + random_id(8).bytes().map(u32::from).sum::<u32>() % 60;
    let (status, slots) = get(format!(
        "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&limit=20",
        days_ahead(offset.into())
    ))
    .await;
    assert_eq!(status, 200, "{slots}");
    let slots = slots["data"].as_array().unwrap();
    assert!(slots.len() >= 2, "{slots:?}");
    let (first, second) = (&slots[slots.len() - 1], &slots[slots.len() - 2]);

    let (status, booked) = send(
        reqwest::Method::POST,
        "/booking".into(),
        Some(book_body(first)),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["id"].as_str().unwrap().to_owned();
    let (status, appointment) = get(format!("/appointments/{id}")).await;
    assert_eq!(status, 200, "{appointment}");
    assert_eq!(appointment["starts_at"], first["starts_at"]);

    let (status, moved) = send(
        reqwest::Method::PUT,
        format!("/appointments/{id}"),
        Some(json!({ "availability_id": second["id"] })),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["starts_at"], second["starts_at"]);

    let (status, cancelled) =
        send(reqwest::Method::DELETE, format!("/appointments/{id}"), None).await;
    assert_eq!(status, 200, "{cancelled}");
    let (status, appointment) = get(format!("/appointments/{id}")).await;
    assert_eq!(status, 200, "{appointment}");
    assert_eq!(appointment["status"], "cancelled");
}
