//! Cancellation notice periods, video links, and opting in to the ASAP list.

use serde_json::json;
use shared::booking::etag::IfMatch;
use shared::booking::AvailabilityToken;

use super::*;

#[tokio::test]
async fn cancelling_inside_the_notice_period_is_refused_and_video_links_only_exist_for_video_types()
{
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);

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
    .seal(&ctx.keys())
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
    let patient = ApiPatient::new(&ctx.context);
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
