//! Scopes of every route, and malformed requests (400 JSON, never a 5xx).

use serde_json::json;
use testkit::api::API;
use testkit::Event;

use super::*;

#[tokio::test]
async fn every_route_needs_both_of_its_scopes() {
    let (ctx, app) = setup().await;
    let owner = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &owner, 198, 53).await;
    let id = book(&app, &owner, &slots[0]).await;
    let sub_token = |scope: &str| ApiPatient::with_scope(&ctx.context, scope);
    let move_to = json!({ "availability_id": slots[1]["id"] });
    let reads = [
        "/insurances".to_owned(),
        "/appointment_categories?insurance_id=136".to_owned(),
        "/appointment_types?category_id=53&insurance_id=136".to_owned(),
        "/availabilities?category_id=53&type_id=198&insurance_id=136".to_owned(),
        "/appointments".to_owned(),
        format!("/appointments/{id}"),
        format!("/appointments/{id}/availabilities"),
        format!("/appointments/{id}/video_consultation"),
    ];
    for missing in [
        "openid appointment_read appointment_write",
        "openid profile_read appointment_write",
    ] {
        let p = sub_token(missing);
        for path in &reads {
            let response = call(&app, p.get(path)).await;
            assert_eq!(response.status(), 403, "{path} with {missing}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.contains("error=\"insufficient_scope\""),
                "{challenge}"
            );
            assert!(
                challenge.contains("scope=\"profile_read appointment_read\""),
                "{challenge}"
            );
        }
    }
    for missing in [
        "openid appointment_read appointment_write",
        "openid profile_read appointment_read",
    ] {
        let p = sub_token(missing);
        for event in [
            p.post("/booking", &book_body(&slots[2])),
            p.put(&format!("/appointments/{id}"), &move_to),
            p.delete(&format!("/appointments/{id}")),
        ] {
            let response = call(&app, event).await;
            assert_eq!(response.status(), 403, "{missing}");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap();
            assert!(
                challenge.contains("scope=\"profile_read appointment_write\""),
                "{challenge}"
            );
        }
    }
    let anonymous = call(&app, Event::get(&format!("{API}/insurances"))).await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    let still = ok(&app, owner.get(&format!("/appointments/{id}"))).await;
    assert_eq!(still["status"], "booked");
}

#[tokio::test]
async fn malformed_bodies_and_parameters_get_400_json_and_never_a_5xx() {
    let (ctx, app) = setup().await;
    let patient = ApiPatient::new(&ctx.context);
    let slots = availabilities(&app, &patient, 198, 53).await;
    let raw = |text: &str| {
        Event::post(&format!("{API}/booking"))
            .header("authorization", &patient.bearer)
            .header("content-type", "application/json")
            .body(text.to_owned())
    };
    let id = slots[0]["id"].as_str().unwrap();
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "truncated"),
        ("".into(), "empty"),
        ("[]".into(), "not an object"),
        ("{}".into(), "missing fields"),
        (format!("{{\"availability_id\":\"{id}\"}}"), "missing insurance"),
        (format!("{{\"availability_id\":\"{id}\",\"insurance_id\":\"136\"}}"), "string id"),
        (
            format!(
                "{{\"availability_id\":\"{id}\",\"insurance_id\":136,\"comment\":\"{}\"}}",
                "x".repeat(1001)
            ),
            "long comment",
        ),
        (format!("{{\"availability_id\":\"{id}\",\"insurance_id\":136,\"email\":\"nope\"}}"), "bad email"),
        (
            format!("{{\"availability_id\":\"{id}\",\"insurance_id\":136,\"asap_list_opt_in\":\"yes\"}}"),
            "bad flag",
        ),
    ];
    for (text, case) in &cases {
        let response = call(&app, raw(text)).await;
        assert_eq!(response.status(), 400, "{case}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{case}"
        );
        assert!(body(&response)["error_description"].is_string(), "{case}");
    }
    let huge = call(
        &app,
        raw(&format!("{{\"comment\":\"{}\"}}", "x".repeat(70_000))),
    )
    .await;
    assert_eq!(huge.status(), 413);

    let booked = book(&app, &patient, &slots[0]).await;
    for body_json in [json!({}), json!({ "availability_id": 5 }), json!([1])] {
        let response = call(
            &app,
            patient.put(&format!("/appointments/{booked}"), &body_json),
        )
        .await;
        assert_eq!(response.status(), 400, "{body_json}");
    }
    let wrong_method = call(&app, patient.get("/booking")).await;
    assert_eq!(wrong_method.status(), 405);
    let unknown = call(&app, patient.get("/nothing")).await;
    assert_eq!(unknown.status(), 404);
    let bad_key = call(
        &app,
        patient
            .post("/booking", &book_body(&slots[1]))
            .header("idempotency-key", &"k".repeat(300)),
    )
    .await;
    assert_eq!(bad_key.status(), 400);
}
