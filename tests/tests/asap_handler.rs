//! The ASAP list through real API Gateway v2 events and real DynamoDB Stream batches:
//! subscribe / unsubscribe / earlier availability, the emails a freed slot causes (outbox folder
//! locally, SES on DynamoDB through moto), exactly-once delivery, and the one-click unsubscribe
//! link.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use asap_fn::App as AsapApp;
use booking_fn::App as BookingApp;
use chrono::{Duration, Utc};
use lambda_http::{Body, Response};
use portal_tests::api::{body, call, now, ok, ApiPatient};
use portal_tests::context::TestContext;
use portal_tests::events::Event;
use serde_json::{json, Value};
use shared::booking::repo::NewSubscription;
use shared::booking::schedule::Slot;
use shared::booking::OutboxEvent;
use shared::booking::{AppointmentId, BookingRepo, Catalog};
use shared::boot::{Context, EventHandler as _};
use shared::domain::patient::PatientId;
use shared::store::{Item, Value as StoreValue, Write};

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/catalog/demo.yaml");

struct Portal {
    ctx: TestContext,
    booking: Arc<BookingApp>,
    asap: Arc<AsapApp>,
}

/// The demo catalog in a fresh SQLite store, with the local defaults: inline ASAP dispatch and
/// mail to `<data dir>/outbox`.
async fn portal() -> Portal {
    let ctx = TestContext::new();
    load_demo(&ctx.context).await;
    Portal {
        booking: Arc::new(BookingApp::new(ctx.context.clone())),
        asap: Arc::new(AsapApp::new(ctx.context.clone())),
        ctx,
    }
}

async fn load_demo(context: &Context) {
    let catalog = Catalog::parse(&std::fs::read_to_string(DEMO).unwrap()).unwrap();
    BookingRepo::new(context.store.clone())
        .save_catalog(&catalog, now())
        .await
        .unwrap();
}

fn days_ahead(days: i64) -> String {
    (Utc::now().date_naive() + Duration::days(days)).to_string()
}

impl Portal {
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
        let mut request = json!({ "availability_id": availability["id"], "insurance_id": 136 });
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

fn human(availability: &Value) -> String {
    // "2026-12-03T09:20:00+01:00" -> "at 09:20 (UTC+01:00"
    let text = availability["starts_at"].as_str().unwrap();
    format!("at {} (UTC{}", &text[11..16], &text[19..])
}

fn status(response: &Response<Body>) -> u16 {
    response.status().as_u16()
}

// ----- notifications on cancel / reschedule -----

#[tokio::test]
async fn a_cancelled_slot_is_emailed_to_the_subscriber_whose_appointment_is_later() {
    let p = portal().await;
    let (early, late) = (
        ApiPatient::new(&p.ctx.context),
        ApiPatient::new(&p.ctx.context),
    );
    let free = p.free(&early, 198, 53).await;
    let first = p.book(&early, &free[0], None).await;
    let _waiting = p.book(&late, &free[6], Some("late@example.org")).await;
    assert!(mails(&p.outbox()).is_empty());

    p.cancel(&early, &first).await;

    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1, "exactly one email: {sent:?}");
    let mail = unfolded(&sent[0]);
    assert!(mail.contains("To: <late@example.org>"), "{mail}");
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(
        mail.contains(&human(&free[0])),
        "names the freed time: {mail}"
    );
    assert!(
        mail.contains(&human(&free[6])),
        "names the current appointment: {mail}"
    );
    assert!(mail.contains("Europe/Berlin"));
    assert!(mail.contains("Content-Type: text/plain") && mail.contains("Content-Type: text/html"));
}

#[tokio::test]
async fn the_account_address_is_used_when_the_subscription_names_none() {
    let p = portal().await;
    // A subscriber with an account: the notifier reads its address.
    let email = format!(
        "{}@example.org",
        shared::crypto::random_id(10).to_lowercase()
    );
    let account = shared::domain::patient::Patient {
        id: shared::domain::patient::PatientId::generate(),
        email: shared::domain::patient::Email::parse(&email).unwrap(),
        email_verified: true,
        first_name: shared::domain::patient::Name::parse("Ada", "first_name").unwrap(),
        last_name: shared::domain::patient::Name::parse("Lovelace", "last_name").unwrap(),
        birth_date: shared::domain::patient::BirthDate::parse("1990-01-01").unwrap(),
        phone: None,
    };
    shared::repo::PatientRepo::new(p.ctx.store())
        .create(
            &account,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        )
        .await
        .unwrap();
    let late = ApiPatient {
        bearer: format!(
            "Bearer {}",
            portal_tests::api::access_token(
                &p.ctx.context,
                account.id.as_str(),
                portal_tests::api::ALL_SCOPES
            )
        ),
        id: account.id.as_str().to_owned(),
    };
    let early = ApiPatient::new(&p.ctx.context);
    let free = p.free(&early, 198, 53).await;
    let first = p.book(&early, &free[1], None).await;
    p.book(&late, &free[4], Some("")).await;
    p.cancel(&early, &first).await;
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains(&format!("To: <{email}>")), "{}", sent[0]);
}

#[tokio::test]
async fn nobody_is_emailed_when_asap_is_off_unsubscribed_or_the_freed_slot_is_later() {
    let p = portal().await;
    let ctx = &p.ctx.context;

    // Type 200 has no ASAP list: opting in is refused, and its cancellations send nothing.
    let (a, b) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let checkups = p.free(&a, 200, 54).await;
    let refused = call(
        &*p.booking,
        a.post(
            "/booking",
            &json!({ "availability_id": checkups[0]["id"], "insurance_id": 136, "asap_list_opt_in": true }),
        ),
    )
    .await;
    assert_eq!(status(&refused), 409);
    let checkup = p.book(&a, &checkups[0], None).await;
    let later_checkup = p.book(&b, &checkups[3], None).await;
    let response = call(
        &*p.asap,
        b.post(
            &format!("/appointments/{later_checkup}/asap_list"),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(status(&response), 409, "{}", body(&response));
    assert_eq!(body(&response)["error"], "asap_unavailable");
    p.cancel(&a, &checkup).await;

    // Unsubscribed before the slot frees up.
    let (c, d) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&c, 198, 53).await;
    let early = p.book(&c, &free[0], None).await;
    let waiting = p.book(&d, &free[5], Some("d@example.org")).await;
    ok(
        &*p.asap,
        d.delete(&format!("/appointments/{waiting}/asap_list")),
    )
    .await;
    p.cancel(&c, &early).await;

    // The freed slot is later than the subscriber's own appointment.
    let (e, f) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&e, 198, 53).await;
    let _soon = p.book(&f, &free[0], Some("f@example.org")).await;
    let later = p.book(&e, &free[3], None).await;
    p.cancel(&e, &later).await;

    // A cancelled subscriber is not told either.
    let (g, h) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&g, 198, 53).await;
    let early = p.book(&g, &free[0], None).await;
    let gone = p.book(&h, &free[4], Some("h@example.org")).await;
    p.cancel(&h, &gone).await;
    p.cancel(&g, &early).await;

    assert!(mails(&p.outbox()).is_empty(), "{:?}", mails(&p.outbox()));
}

#[tokio::test]
async fn rescheduling_away_frees_the_slot_but_never_for_the_patient_who_moved() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (mover, waiter) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&mover, 198, 53).await;
    // The mover is subscribed too, and moves to a later slot than the one they free.
    let moving = p.book(&mover, &free[0], Some("mover@example.org")).await;
    p.book(&waiter, &free[8], Some("waiter@example.org")).await;
    ok(
        &*p.booking,
        mover.put(
            &format!("/appointments/{moving}"),
            &json!({ "availability_id": free[4]["id"] }),
        ),
    )
    .await;
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("To: <waiter@example.org>"));
    assert!(unfolded(&sent[0]).contains(&human(&free[0])));

    // The mover's subscription moved with the appointment: a slot freed before it reaches them.
    let other = ApiPatient::new(ctx);
    let more = p.free(&other, 198, 53).await;
    let before_mover = more
        .iter()
        .find(|a| a["starts_at"].as_str() < free[4]["starts_at"].as_str())
        .unwrap()
        .clone();
    let id = p.book(&other, &before_mover, None).await;
    p.cancel(&other, &id).await;
    let sent = mails(&p.outbox());
    assert_eq!(
        sent.len(),
        3,
        "both subscribers are later than the freed slot: {sent:?}"
    );
    assert!(sent.iter().any(|m| m.contains("To: <mover@example.org>")));
}

#[tokio::test]
async fn fan_out_is_bounded_and_serves_the_oldest_subscriptions_first() {
    let ctx = TestContext::new();
    let data_dir = ctx.dir.path().display().to_string();
    let config = shared::config::Config::from_lookup(|name| match name {
        "PORTAL_DATA_DIR" => Some(data_dir.clone()),
        "PORTAL_ASAP_FANOUT" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    let context = shared::boot::context(
        config,
        ctx.store(),
        shared::keys::KeySet::from_material(&ctx.material).unwrap(),
    );
    load_demo(&context).await;
    let booking = BookingApp::new(context.clone());
    let asap = AsapApp::new(context.clone());
    let p = Portal {
        ctx,
        booking: Arc::new(booking),
        asap: Arc::new(asap),
    };

    let freeing = ApiPatient::new(&context);
    let free = p.free(&freeing, 198, 53).await;
    let first = p.book(&freeing, &free[0], None).await;
    let repo = BookingRepo::new(context.store.clone());
    // Subscriber i subscribed i minutes ago... in reverse: w1 is the oldest subscription, but
    // its appointment is not the earliest, so order comes from `since`, not from the start.
    for i in 1..=4_i64 {
        let patient = ApiPatient::new(&context);
        let id = p.book(&patient, &free[11 - i as usize], None).await;
        let current = repo
            .appointment(
                &PatientId::parse(&patient.id).unwrap(),
                &AppointmentId::parse(&id).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        repo.set_subscription(
            &current,
            Some(NewSubscription {
                id: format!("sub{i}"),
                since: now() - 1_000 + i * 10,
                email: Some(format!("w{}@example.org", 5 - i)),
            }),
            None,
            now(),
        )
        .await
        .unwrap();
    }
    p.cancel(&freeing, &first).await;
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 2, "{sent:?}");
    // Oldest subscriptions (i = 1, 2) have the addresses w4 and w3.
    assert!(
        sent.iter().any(|m| m.contains("To: <w4@example.org>")),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|m| m.contains("To: <w3@example.org>")),
        "{sent:?}"
    );
}

// ----- subscribe, unsubscribe, earlier availability -----

#[tokio::test]
async fn subscribing_is_idempotent_owner_only_and_shown_on_the_appointment() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let patient = ApiPatient::new(ctx);
    let free = p.free(&patient, 198, 53).await;
    let id = p.book(&patient, &free[2], None).await;
    let path = format!("/appointments/{id}/asap_list");

    let shown = ok(&*p.booking, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], false);

    for _ in 0..2 {
        let answer = ok(
            &*p.asap,
            patient.post(&path, &json!({ "email": "me@example.org" })),
        )
        .await;
        assert_eq!(answer["id"], id.as_str());
        assert_eq!(answer["asap_list"]["subscribed"], true);
    }
    p.ctx.counter.take();
    ok(
        &*p.asap,
        patient.post(&path, &json!({ "email": "me@example.org" })),
    )
    .await;
    assert_eq!(
        p.ctx.counter.take(),
        1,
        "an unchanged subscription is one read, no write"
    );
    let shown = ok(&*p.booking, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], true);

    // An empty body subscribes with the account address.
    let response = call(
        &*p.asap,
        Event::post(&format!("/api/portal/v1{path}")).header("authorization", &patient.bearer),
    )
    .await;
    assert_eq!(status(&response), 200, "{}", body(&response));

    // Another patient's appointment looks unknown; bad input is a 400.
    let stranger = ApiPatient::new(ctx);
    for event in [
        stranger.post(&path, &json!({})),
        stranger.delete(&path),
        stranger.get(&format!("/appointments/{id}/earlier_availability")),
    ] {
        assert_eq!(status(&call(&*p.asap, event).await), 404);
    }
    let bad = call(
        &*p.asap,
        patient.post(&path, &json!({ "email": "not an address" })),
    )
    .await;
    assert_eq!(status(&bad), 400, "{}", body(&bad));
    let bad = call(&*p.asap, patient.post(&path, &json!([1]))).await;
    assert_eq!(status(&bad), 400);
    let bad = call(&*p.asap, patient.post(&path, &json!({ "email": 5 }))).await;
    assert_eq!(status(&bad), 400);

    // Scopes: write needs appointment_write, read needs appointment_read.
    let reader = ApiPatient::with_scope(ctx, "profile_read appointment_read");
    let denied = call(&*p.asap, reader.post(&path, &json!({}))).await;
    assert_eq!(status(&denied), 403);

    for _ in 0..2 {
        let answer = ok(&*p.asap, patient.delete(&path)).await;
        assert_eq!(answer["asap_list"]["subscribed"], false);
    }
    let shown = ok(&*p.booking, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], false);

    // A cancelled appointment cannot join.
    p.cancel(&patient, &id).await;
    let response = call(&*p.asap, patient.post(&path, &json!({}))).await;
    assert_eq!(status(&response), 409);
    assert_eq!(body(&response)["error"], "already_cancelled");
}

#[tokio::test]
async fn joining_the_list_outdates_the_old_etag_and_answers_with_the_current_one() {
    let p = portal().await;
    let patient = ApiPatient::new(&p.ctx.context);
    let free = p.free(&patient, 198, 53).await;
    let id = p.book(&patient, &free[2], None).await;
    let tag_of = |response: &Response<Body>| {
        response
            .headers()
            .get("etag")
            .expect("an ETag")
            .to_str()
            .unwrap()
            .to_owned()
    };
    let read = call(&*p.booking, patient.get(&format!("/appointments/{id}"))).await;
    let before = tag_of(&read);
    let joined = call(
        &*p.asap,
        patient.post(&format!("/appointments/{id}/asap_list"), &json!({})),
    )
    .await;
    assert_eq!(status(&joined), 200, "{}", body(&joined));
    let after = tag_of(&joined);
    assert_ne!(before, after);

    let move_to = json!({ "availability_id": free[3]["id"] });
    let stale = call(
        &*p.booking,
        patient
            .put(&format!("/appointments/{id}"), &move_to)
            .header("if-match", &before),
    )
    .await;
    assert_eq!(status(&stale), 412, "{}", body(&stale));
    let moved = call(
        &*p.booking,
        patient
            .put(&format!("/appointments/{id}"), &move_to)
            .header("if-match", &after),
    )
    .await;
    assert_eq!(status(&moved), 200, "{}", body(&moved));
    assert_eq!(body(&moved)["asap_list"]["subscribed"], true);
}

#[tokio::test]
async fn earlier_availability_is_null_when_every_earlier_slot_is_taken() {
    // One slot a day at 09:00, bookable up to the minute, changeable up to its start.
    let ctx = TestContext::new();
    let daily: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({ "weekday": d, "start": "09:00", "end": "09:30" }))
        .collect();
    let catalog = json!({
        "time_zone": "Europe/Berlin",
        "insurances": [{ "id": 136, "name": "GKV" }],
        "categories": [{ "id": 53, "name": "General", "insurance_ids": [136] }],
        "types": [{
            "id": 198, "name": "Consultation", "category_id": 53, "duration_minutes": 30,
            "insurance_ids": [136], "asap_notifications_enabled": true,
            "schedule": { "windows": daily, "slot_interval_minutes": 30, "capacity": 1,
                          "horizon_days": 30 }
        }]
    });
    BookingRepo::new(ctx.store())
        .save_catalog(&Catalog::parse(&catalog.to_string()).unwrap(), now())
        .await
        .unwrap();
    let p = Portal {
        booking: Arc::new(BookingApp::new(ctx.context.clone())),
        asap: Arc::new(AsapApp::new(ctx.context.clone())),
        ctx,
    };
    let ctx = &p.ctx.context;
    let patient = ApiPatient::new(ctx);
    let page = ok(
        &*p.booking,
        patient.get("/availabilities?category_id=53&type_id=198&insurance_id=136&limit=4"),
    )
    .await;
    let slots = page["data"].as_array().unwrap().clone();
    let mut fillers = Vec::new();
    for slot in &slots[..3] {
        let filler = ApiPatient::new(ctx);
        let id = p.book(&filler, slot, None).await;
        fillers.push((filler, id));
    }
    let mine = p.book(&patient, &slots[3], None).await;
    let path = format!("/appointments/{mine}/earlier_availability");
    let answer = ok(&*p.asap, patient.get(&path)).await;
    assert_eq!(answer["availability"], Value::Null, "{answer}");
    assert_eq!(answer["appointment"]["id"], mine.as_str());
    assert_eq!(answer["appointment"]["starts_at"], slots[3]["starts_at"]);

    // One earlier slot frees up: it is offered (2 round trips with a warm catalog).
    let (filler, id) = &fillers[1];
    p.cancel(filler, id).await;
    p.ctx.counter.take();
    let answer = ok(&*p.asap, patient.get(&path)).await;
    let trips = p.ctx.counter.take();
    assert_eq!(trips, 2, "the appointment, then one query of slot counters");
    assert_eq!(
        answer["availability"]["starts_at"], slots[1]["starts_at"],
        "{answer}"
    );
}

#[tokio::test]
async fn earlier_availability_can_be_taken_with_a_reschedule() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let patient = ApiPatient::new(ctx);
    let free = p.free(&patient, 198, 53).await;
    let later = p.book(&patient, &free[12], None).await;
    let answer = ok(
        &*p.asap,
        patient.get(&format!("/appointments/{later}/earlier_availability")),
    )
    .await;
    let offered = &answer["availability"];
    assert!(
        offered["starts_at"].as_str() < free[12]["starts_at"].as_str(),
        "{answer}"
    );
    let moved = ok(
        &*p.booking,
        patient.put(
            &format!("/appointments/{later}"),
            &json!({ "availability_id": offered["id"] }),
        ),
    )
    .await;
    assert_eq!(moved["starts_at"], offered["starts_at"]);
    assert_eq!(moved["id"], later.as_str());

    // Cancelled: nothing to move to.
    let dropped = p.book(&patient, &free[13], None).await;
    p.cancel(&patient, &dropped).await;
    let answer = ok(
        &*p.asap,
        patient.get(&format!("/appointments/{dropped}/earlier_availability")),
    )
    .await;
    assert_eq!(answer["availability"], Value::Null);
    assert_eq!(answer["appointment"]["status"], "cancelled");

    // An appointment inside its notice period (type 198: 24 h) cannot be moved either.
    let page = ok(
        &*p.booking,
        patient.get("/availabilities?category_id=53&type_id=198&insurance_id=136&limit=1"),
    )
    .await;
    let soonest = &page["data"][0];
    let starts =
        chrono::DateTime::parse_from_rfc3339(soonest["starts_at"].as_str().unwrap()).unwrap();
    if starts.timestamp() - now() < 24 * 3600 {
        let soon = p.book(&patient, soonest, None).await;
        let answer = ok(
            &*p.asap,
            patient.get(&format!("/appointments/{soon}/earlier_availability")),
        )
        .await;
        assert_eq!(answer["availability"], Value::Null);
    }
}

// ----- the unsubscribe link -----

#[tokio::test]
async fn the_unsubscribe_link_works_once_and_cannot_be_forged() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (early, late) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&early, 198, 53).await;
    let first = p.book(&early, &free[0], None).await;
    let waiting = p.book(&late, &free[6], Some("late@example.org")).await;
    p.cancel(&early, &first).await;
    let link = path_and_query(&unsubscribe_link(&mails(&p.outbox())[0]));

    // GET shows a confirmation page and changes nothing (mail scanners follow links).
    let page = call(&*p.asap, Event::get(&link)).await;
    assert_eq!(status(&page), 200);
    let html = String::from_utf8_lossy(page.body().as_ref()).to_string();
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(page.headers().get("access-control-allow-origin").is_none());
    let shown = ok(&*p.booking, late.get(&format!("/appointments/{waiting}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], true);

    // A forged or damaged token is refused.
    let forged = link.replace("token=", "token=x");
    assert_eq!(
        status(
            &call(
                &*p.asap,
                Event::post(&forged).form(&[("List-Unsubscribe", "One-Click")])
            )
            .await
        ),
        400
    );
    assert_eq!(
        status(&call(&*p.asap, Event::post("/asap/unsubscribe")).await),
        400
    );

    // RFC 8058 one-click POST: unsubscribed, once.
    let done = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&done), 200);
    let shown = ok(&*p.booking, late.get(&format!("/appointments/{waiting}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], false);
    let again = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&again), 410);

    // Subscribing again starts a new subscription the old link cannot end.
    ok(
        &*p.asap,
        late.post(&format!("/appointments/{waiting}/asap_list"), &json!({})),
    )
    .await;
    let old = call(
        &*p.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(status(&old), 410);
    let shown = ok(&*p.booking, late.get(&format!("/appointments/{waiting}"))).await;
    assert_eq!(shown["asap_list"]["subscribed"], true);
}

// ----- the stream handler -----

/// An item as DynamoDB JSON, the way a stream record's `NewImage` carries what the DynamoDB
/// adapter wrote (`pk`, `sk`, `ttl`, attributes at the top level).
fn image(item: &Item) -> Value {
    let mut image = serde_json::Map::new();
    image.insert("pk".into(), json!({ "S": item.key.pk }));
    image.insert("sk".into(), json!({ "S": item.key.sk }));
    if let Some(ttl) = item.expires_at {
        image.insert("ttl".into(), json!({ "N": ttl.to_string() }));
    }
    for (name, value) in &item.attrs {
        let value = match value {
            StoreValue::S(s) => json!({ "S": s }),
            StoreValue::N(n) => json!({ "N": n.to_string() }),
            StoreValue::Bool(b) => json!({ "BOOL": b }),
            other => panic!("unexpected {other:?}"),
        };
        image.insert(name.clone(), value);
    }
    Value::Object(image)
}

fn record(sequence: &str, event_name: &str, new_image: Value) -> Value {
    json!({
        "eventID": format!("evt-{sequence}"),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_796_000_000,
            "Keys": { "pk": new_image["pk"], "sk": new_image["sk"] },
            "NewImage": new_image,
            "SequenceNumber": sequence,
            "SizeBytes": 312,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/portal/stream/2026-11-30T00:00:00.000"
    })
}

fn outbox_image(event: &OutboxEvent) -> Value {
    let Write::Put { item, .. } = event.write() else {
        unreachable!()
    };
    image(&item)
}

fn slot_of(availability: &Value) -> Slot {
    let start = chrono::DateTime::parse_from_rfc3339(availability["starts_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let end = chrono::DateTime::parse_from_rfc3339(availability["ends_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    Slot { start, end }
}

#[tokio::test]
async fn a_stream_batch_reports_only_its_failing_record_and_resends_nothing() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (early, late) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&early, 198, 53).await;
    p.book(&late, &free[6], Some("late@example.org")).await;
    let early_id = PatientId::parse(&early.id).unwrap();

    // A slot that frees up as far as the stream is concerned: the event is built the way the
    // booking transaction writes it (the slot is free: nobody booked it).
    let event = OutboxEvent::slot_freed(198, slot_of(&free[1]), &early_id, now());
    let mut broken = outbox_image(&OutboxEvent::slot_freed(
        198,
        slot_of(&free[2]),
        &early_id,
        now(),
    ));
    broken["kind"] = json!({ "S": "mystery" });
    let not_outbox = json!({ "pk": { "S": "PATIENT#x" }, "sk": { "S": "APPT#y" } });
    let batch = json!({ "Records": [
        record("100", "INSERT", outbox_image(&event)),
        record("200", "INSERT", broken),
        record("300", "INSERT", not_outbox),
        record("400", "REMOVE", outbox_image(&event)),
    ]});

    let result = p.asap.handle_event(batch.clone()).await.unwrap();
    assert_eq!(
        result,
        json!({ "batchItemFailures": [{ "itemIdentifier": "200" }] })
    );
    assert_eq!(mails(&p.outbox()).len(), 1);

    // Lambda retries from the failed record (the ones after it come again too): no email twice.
    let result = p.asap.handle_event(batch).await.unwrap();
    assert_eq!(result["batchItemFailures"].as_array().unwrap().len(), 1);
    assert_eq!(
        mails(&p.outbox()).len(),
        1,
        "the good record's email is not sent again"
    );

    // Not a stream batch at all: the invocation fails (the event source retries it).
    assert!(p
        .asap
        .handle_event(json!({ "Records": "nope" }))
        .await
        .is_err());
}

#[tokio::test]
async fn a_slot_taken_again_before_dispatch_is_not_offered() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (early, late, quick) = (
        ApiPatient::new(ctx),
        ApiPatient::new(ctx),
        ApiPatient::new(ctx),
    );
    let free = p.free(&early, 198, 53).await;
    p.book(&late, &free[6], Some("late@example.org")).await;
    p.book(&quick, &free[1], None).await;
    let early_id = PatientId::parse(&early.id).unwrap();
    let event = OutboxEvent::slot_freed(198, slot_of(&free[1]), &early_id, now());
    let report = p.asap.notifier().dispatch(&event, now()).await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(mails(&p.outbox()).is_empty());
}

#[tokio::test]
async fn a_catalog_load_that_adds_capacity_offers_each_subscriber_the_earliest_free_slot() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    // Fill every slot of type 199 (video, capacity 1, ASAP on) in the next days except... simply:
    // a subscriber books a late slot; raising capacity must offer them the earliest free slot.
    let waiter = ApiPatient::new(ctx);
    let free = p.free(&waiter, 199, 53).await;
    p.book(&waiter, &free[5], Some("waiter@example.org")).await;
    let demo = std::fs::read_to_string(DEMO).unwrap();
    let more = demo.replacen(
        "slot_interval_minutes: 15\n      capacity: 1",
        "slot_interval_minutes: 15\n      capacity: 2",
        1,
    );
    assert_ne!(
        more, demo,
        "the demo catalog still has type 199 with capacity 1"
    );
    let events = BookingRepo::new(ctx.store.clone())
        .save_catalog(&Catalog::parse(&more).unwrap(), now())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].type_id, 199);
    p.asap.notifier().dispatch(&events[0], now()).await.unwrap();
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("To: <waiter@example.org>"));

    // Loading the same catalog again adds nothing.
    let events = BookingRepo::new(ctx.store.clone())
        .save_catalog(&Catalog::parse(&more).unwrap(), now())
        .await
        .unwrap();
    assert!(events.is_empty());
}
