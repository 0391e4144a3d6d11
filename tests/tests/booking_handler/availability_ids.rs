//! Sealed availability ids: tampered, expired and foreign ones, and insurances that may not book.

use serde_json::json;
use shared::booking::AvailabilityToken;
use shared::keys::KeySet;
use shared::store::now_unix;

use super::*;

#[tokio::test]
async fn tampered_expired_and_foreign_availability_ids_are_refused_with_400() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
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
        .seal(keys)
        .unwrap()
    };
    let expired = sealed(now_unix() - 1, &ctx.keys());
    let foreign_keys = testkit::tokens::foreign_keys();
    let foreign = sealed(now_unix() + 600, &foreign_keys);
    let shifted = AvailabilityToken {
        type_id: 198,
        category_id: 53,
        insurance_id: 136,
        starts_at: start + 60,
        ends_at: start + 1260,
        exp: now_unix() + 600,
    }
    .seal(&ctx.keys())
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
    let patient = ApiPatient::new(&ctx.context);
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
