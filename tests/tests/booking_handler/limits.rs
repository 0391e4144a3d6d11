//! `max_active_appointments_per_patient`: the limit holds under concurrency on both stores,
//! rescheduling keeps the count, cancelled and past appointments give their place back, and the
//! setting is shown in `/appointment_types`.

use std::sync::Arc;

use serde_json::json;
use shared::booking::{Appointment, AppointmentId, BookingError};
use shared::boot::Context;
use shared::domain::patient::PatientId;

use super::*;

/// One patient books ten different slots of type 198 (limit 3 in the demo catalog) at once.
async fn ten_parallel_bookings_with_a_limit_of_three(context: Context) {
    catalog::load_demo(&context.store).await;
    let app = Arc::new(App::new(context.clone()));
    let patient = Arc::new(ApiPatient::new(&context));
    let slots = availabilities(&app, &patient, 198, 53).await;
    let tasks: Vec<_> = slots[..10]
        .iter()
        .map(|slot| {
            let app = app.clone();
            let patient = patient.clone();
            let body = book_body(slot);
            tokio::spawn(async move {
                let response = call(&*app, patient.post("/booking", &body)).await;
                (response.status().as_u16(), self::body(&response))
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["error"], "booking_limit_reached", "{body}");
                assert!(
                    body["error_description"].as_str().unwrap().contains('3'),
                    "{body}"
                );
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 3);
    let list = ok(&*app, patient.get("/appointments")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_bookings_by_one_patient_with_a_limit_of_three_give_three_on_sqlite() {
    let ctx = TestContext::new();
    ten_parallel_bookings_with_a_limit_of_three(ctx.context.clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_bookings_by_one_patient_with_a_limit_of_three_give_three_on_dynamodb() {
    let ctx = TestContext::new();
    let context = ctx.with_store(portal_tests::dynamo_store().await);
    ten_parallel_bookings_with_a_limit_of_three(context).await;
}

#[tokio::test]
async fn the_limit_is_shown_and_rescheduling_keeps_cancelling_frees_a_place() {
    let (ctx, app) = setup().await;
    let types = ok(
        &app,
        ApiPatient::new(&ctx.context).get("/appointment_types"),
    )
    .await;
    let type_198 = types["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == 198)
        .unwrap()
        .clone();
    assert_eq!(type_198["max_active_appointments_per_patient"], 3);

    let patient = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let mut ids = Vec::new();
    for slot in &slots[..3] {
        ids.push(book(&app, &patient, slot).await);
    }
    let refused = call(&app, patient.post("/booking", &book_body(&slots[3]))).await;
    assert_eq!(refused.status(), 409);
    let refused = body(&refused);
    assert_eq!(refused["error"], "booking_limit_reached");
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("3 upcoming appointment"),
        "{refused}"
    );

    // Rescheduling is not a new booking.
    let moved = call(
        &app,
        patient.put(
            &format!("/appointments/{}", ids[0]),
            &json!({ "availability_id": slots[4]["id"] }),
        ),
    )
    .await;
    assert_eq!(moved.status(), 200, "{}", body(&moved));
    let still = call(&app, patient.post("/booking", &book_body(&slots[5]))).await;
    assert_eq!(still.status(), 409);

    // A cancelled one gives its place back, once.
    let cancelled = call(&app, patient.delete(&format!("/appointments/{}", ids[1]))).await;
    assert_eq!(cancelled.status(), 200, "{}", body(&cancelled));
    let again = call(&app, patient.delete(&format!("/appointments/{}", ids[1]))).await;
    assert_eq!(again.status(), 409);
    book(&app, &patient, &slots[6]).await;
    let full = call(&app, patient.post("/booking", &book_body(&slots[7]))).await;
    assert_eq!(full.status(), 409);
    assert_eq!(body(&full)["error"], "booking_limit_reached");

    // Other types and other patients have their own counters.
    book(&app, &ApiPatient::new(&ctx.context), &slots[7]).await;
}

#[tokio::test]
async fn appointments_that_have_started_no_longer_count() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    let patient_id = PatientId::parse(&patient.id).unwrap();
    let slots = availabilities(&app, &patient, 198, 53).await;
    let mut ids = Vec::new();
    for slot in &slots[..3] {
        ids.push(book(&app, &patient, slot).await);
    }
    let service = app.service();
    let first = service
        .appointment(&patient_id, &AppointmentId::parse(&ids[0]).unwrap())
        .await
        .unwrap();
    // Another appointment of the type (availability ids expire, so the repository is asked
    // directly, as the service would after its checks).
    let another = |slot: &Value| {
        let start = chrono::DateTime::parse_from_rfc3339(slot["starts_at"].as_str().unwrap())
            .unwrap()
            .timestamp();
        Appointment {
            id: AppointmentId::generate(),
            starts_at: start,
            ends_at: start + 1200,
            ..first.clone()
        }
    };
    let repo = service.repo();
    let now = shared::store::now_unix();
    let refused = repo
        .book(&another(&slots[6]), 1, 3, None, now)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, BookingError::BookingLimitReached { limit: 3, .. }),
        "{refused:?}"
    );
    // Seen from just after the first appointment started: it is past and makes room, without
    // any write having marked it so.
    let later = first.starts_at + 1;
    repo.book(&another(&slots[6]), 1, 3, None, later)
        .await
        .unwrap();
    let refused = repo
        .book(&another(&slots[7]), 1, 3, None, later)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, BookingError::BookingLimitReached { .. }),
        "{refused:?}"
    );
}
