//! The demo walkthrough: insurances, categories, types, availabilities, book, reschedule, cancel.

use serde_json::json;
use shared::store::layout::{BOOKING_INDEX_PREFIXES, BOOKING_KEY_PREFIXES};

use super::*;

#[tokio::test]
async fn the_walkthrough_books_reschedules_and_cancels_with_the_demo_ids() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    ctx.counter.take_partitions();

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
    assert_eq!(
        appointment["asap_list"],
        json!({"subscribed": false, "email": null, "email_confirmed": false})
    );

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

    // The function's IAM role may touch only these partitions (template.yaml, LeadingKeys).
    let touched = ctx.counter.take_partitions();
    for prefix in ["SLOTS#", "PATIENT#", "APPTS#", "OUTBOX#"] {
        assert!(
            touched.iter().any(|pk| pk.starts_with(prefix)),
            "the walkthrough touches {prefix}: {touched:?}"
        );
    }
    for pk in &touched {
        assert!(
            BOOKING_KEY_PREFIXES
                .iter()
                .chain(&BOOKING_INDEX_PREFIXES)
                .any(|prefix| pk.starts_with(prefix)),
            "{pk} is outside the booking role's partitions"
        );
    }
}
