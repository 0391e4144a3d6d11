//! `Idempotency-Key`: a retry returns the same appointment, another body under the key is refused.

use testkit::api::API;
use testkit::Event;

use super::*;

#[tokio::test]
async fn an_idempotent_retry_returns_the_same_appointment_and_another_body_is_refused() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
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
    let stranger = ApiPatient::new(&ctx.context);
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

#[tokio::test]
async fn idempotency_keys_are_scoped_to_the_app_that_sent_them() {
    let (ctx, app) = setup().await;
    // Two tokens of one patient, issued to two apps (each kit token names a fresh client).
    let first_app = ApiPatient::new(&ctx.context);
    let second_app = ApiPatient::existing(&ctx.context, &first_app.id);
    let slots = availabilities(&app, &first_app, 198, 53).await;
    let first = call(
        &app,
        first_app
            .post("/booking", &book_body(&slots[0]))
            .header("idempotency-key", "shared-key"),
    )
    .await;
    assert_eq!(first.status(), 201);

    // The same key and body from the other app is its own request: not the first app's
    // appointment (the slot is taken, so it is refused as any new booking would be).
    let second = call(
        &app,
        second_app
            .post("/booking", &book_body(&slots[0]))
            .header("idempotency-key", "shared-key"),
    )
    .await;
    assert_eq!(second.status(), 409, "{}", body(&second));
    assert_eq!(body(&second)["error"], "slot_unavailable");
    assert!(second.headers().get("idempotent-replayed").is_none());

    // With another body under the same key, the second app books normally.
    let own = call(
        &app,
        second_app
            .post("/booking", &book_body(&slots[1]))
            .header("idempotency-key", "shared-key"),
    )
    .await;
    assert_eq!(own.status(), 201, "{}", body(&own));
    assert_ne!(body(&own)["id"], body(&first)["id"]);
    // Each app's retry replays its own appointment.
    let replay = call(
        &app,
        first_app
            .post("/booking", &book_body(&slots[0]))
            .header("idempotency-key", "shared-key"),
    )
    .await;
    assert_eq!(body(&replay)["id"], body(&first)["id"]);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
}
