//! Subscribing, unsubscribing and earlier availability through the API.

use shared::store::now_unix;
use testkit::api::header;
use testkit::Event;

use super::*;

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
    let tag_of = |response: &Response<Body>| header(response, "etag").to_owned();
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
    let mut catalog = catalog::daily("09:00", "09:30", 30, 30);
    catalog["types"][0]["asap_notifications_enabled"] = json!(true);
    catalog::load(&ctx.store(), &catalog.to_string()).await;
    let p = Portal::on(ctx);
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
    if starts.timestamp() - now_unix() < 24 * 3600 {
        let soon = p.book(&patient, soonest, None).await;
        let answer = ok(
            &*p.asap,
            patient.get(&format!("/appointments/{soon}/earlier_availability")),
        )
        .await;
        assert_eq!(answer["availability"], Value::Null);
    }
}
