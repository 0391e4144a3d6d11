//! Join links die with their appointment: the video service's check (`POST /video/verify`)
//! admits a link only while its appointment is booked at the slot the link was minted for.

use serde_json::json;
use shared::booking::video::VERIFY_PATH;
use testkit::events::Event;

use super::*;

async fn join_token(app: &App, patient: &ApiPatient, id: &str) -> String {
    let link = ok(
        app,
        patient.get(&format!("/appointments/{id}/video_consultation")),
    )
    .await;
    let url = url::Url::parse(link["url"].as_str().unwrap()).unwrap();
    let (_, token) = url.query_pairs().find(|(k, _)| k == "token").unwrap();
    token.into_owned()
}

async fn verify(app: &App, token: &str) -> Value {
    let response = call(
        app,
        Event::post(VERIFY_PATH).json(&json!({ "token": token })),
    )
    .await;
    assert_eq!(response.status(), 200, "{}", body(&response));
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    body(&response)
}

#[tokio::test]
async fn a_rescheduled_appointments_old_link_is_dead_and_its_new_link_works() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 199, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    let first = join_token(&app, &patient, &id).await;
    let answer = verify(&app, &first).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["appointment_id"], id.as_str());
    assert_eq!(answer["starts_at"], slots[0]["starts_at"]);
    assert_eq!(answer["ends_at"], slots[0]["ends_at"]);

    let moved = call(
        &app,
        patient.put(
            &format!("/appointments/{id}"),
            &json!({ "availability_id": slots[1]["id"] }),
        ),
    )
    .await;
    assert_eq!(moved.status(), 200, "{}", body(&moved));
    assert_eq!(verify(&app, &first).await, json!({ "active": false }));
    let second = join_token(&app, &patient, &id).await;
    let answer = verify(&app, &second).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["starts_at"], slots[1]["starts_at"]);
}

#[tokio::test]
async fn a_cancelled_appointments_link_is_dead_and_no_new_one_is_minted() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 199, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    let token = join_token(&app, &patient, &id).await;
    assert_eq!(verify(&app, &token).await["active"], true);

    let cancelled = call(&app, patient.delete(&format!("/appointments/{id}"))).await;
    assert_eq!(cancelled.status(), 200, "{}", body(&cancelled));
    assert_eq!(verify(&app, &token).await, json!({ "active": false }));
    let refused = call(
        &app,
        patient.get(&format!("/appointments/{id}/video_consultation")),
    )
    .await;
    assert_eq!(refused.status(), 409);
    assert_eq!(body(&refused)["error"], "appointment_cancelled");
}

#[tokio::test]
async fn the_check_costs_one_read_and_none_for_tokens_that_do_not_verify() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 199, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    let token = join_token(&app, &patient, &id).await;
    ctx.counter.take();
    assert_eq!(verify(&app, &token).await["active"], true);
    assert_eq!(ctx.counter.take(), 1);

    // An access token is signed by the same keys, but it is no join link.
    assert_eq!(
        verify(&app, patient.bearer.trim_start_matches("Bearer ")).await,
        json!({ "active": false })
    );
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(verify(&app, &tampered).await, json!({ "active": false }));
    assert_eq!(ctx.counter.take(), 0);
}

#[tokio::test]
async fn a_check_without_a_token_or_by_get_is_refused_with_a_json_error() {
    let (_ctx, app) = setup().await;
    let missing = call(&app, Event::post(VERIFY_PATH).json(&json!({}))).await;
    assert_eq!(missing.status(), 400);
    assert_eq!(body(&missing)["error"], "invalid_request");
    let not_json = call(&app, Event::post(VERIFY_PATH).body("token=abc")).await;
    assert_eq!(not_json.status(), 400);
    let by_get = call(&app, Event::get(&format!("{VERIFY_PATH}?token=abc"))).await;
    assert_eq!(by_get.status(), 405);
}
