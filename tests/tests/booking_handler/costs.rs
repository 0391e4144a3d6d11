//! Storage round trips per operation, and `ETag` / `If-Match` on reschedule and cancel; CORS
//! preflights.

use lambda_http::{Body, Response};
use serde_json::json;
use shared::crypto::random_id;
use shared::store::now_unix;
use testkit::api::{header, API};
use testkit::Event;

use super::*;

#[tokio::test]
async fn booking_is_one_round_trip_and_warm_catalog_reads_none() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
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
    header(response, "etag").to_owned()
}

#[tokio::test]
async fn with_the_current_etag_reschedule_and_cancel_are_one_round_trip() {
    // As deployed: a freed slot's ASAP mail goes out from the table's stream, not in the request.
    let ctx = TestContext::with_env(&[("PORTAL_ASAP_DISPATCH", "stream")]);
    catalog::load_demo(&ctx.store()).await;
    let app = App::new(ctx.function(Role::Booking));
    let patient = ApiPatient::new(&ctx.context);
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
    let patient = ApiPatient::new(&ctx.context);
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
    let patient = ApiPatient::new(&ctx.context);
    let other = ApiPatient::new(&ctx.context);
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
    let patient = ApiPatient::new(&ctx.context);
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
                since: now_unix(),
                email: None,
                email_confirmed: false,
            }),
            None,
            now_unix(),
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
        .cancel(&current, now_unix(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            stale,
            shared::booking::BookingError::AppointmentChanged { current: Some(_) }
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
