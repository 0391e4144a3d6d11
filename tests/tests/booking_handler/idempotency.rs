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
