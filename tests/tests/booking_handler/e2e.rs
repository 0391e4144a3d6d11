//! The walkthrough end to end, through `cargo lambda watch`.

use serde_json::json;
use shared::crypto::random_id;
use testkit::api::API;

use super::*;

/// The walkthrough against the portal `cargo lambda watch` serves (routed by the workspace's
/// router metadata, as `make run` serves it), with an access token signed by the portal's keys.
/// GETs and the booking (with an `Idempotency-Key`) are idempotent, so the emulator's own occasional
/// 500 on a large answer is answered by sending them again (`watch::send_idempotent`); the reschedule
/// and the cancellation are sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_works_through_cargo_lambda_watch() {
    use portal_tests::watch::send_idempotent;

    let portal = portal_tests::watch::portal();
    let config = portal.config();
    let store = shared::boot::connect_store(&config).await.unwrap();
    let keys = testkit::portal_keys(&config.data_dir);
    let context = shared::boot::context(config, store, keys);
    catalog::load_demo(&context.store).await;
    let patient = ApiPatient::new(&context);
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let idempotent = matches!(method, reqwest::Method::GET | reqwest::Method::POST);
        let mut request = http
            .request(method, portal.url(&format!("{API}{path}")))
            .header("authorization", &patient.bearer)
            .header("idempotency-key", random_id(16));
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let (status, text) = if idempotent {
                send_idempotent(request).await
            } else {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            };
            let json = serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|_| panic!("{status}: not JSON: {text}"));
            (status, json)
        }
    };
    let get = |path: String| send(reqwest::Method::GET, path, None);

    let (status, insurances) = get("/insurances".into()).await;
    assert_eq!(status, 200, "{insurances}");
    assert!(insurances["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == 136));
    let (_, categories) = get("/appointment_categories?insurance_id=136".into()).await;
    assert!(categories["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == 53));
    let (_, types) = get("/appointment_types?category_id=53&insurance_id=136".into()).await;
    assert!(types["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == 198));
    // The shared portal serves other test runs too, which book the first slots from a few days
    // ahead: search from a day of its own further out and take slots from the end of the page.
    let offset = 10 + random_id(8).bytes().map(u32::from).sum::<u32>() % 60;
    let (status, slots) = get(format!(
        "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&limit=20",
        days_ahead(offset.into())
    ))
    .await;
    assert_eq!(status, 200, "{slots}");
    let slots = slots["data"].as_array().unwrap();
    assert!(slots.len() >= 2, "{slots:?}");
    let (first, second) = (&slots[slots.len() - 1], &slots[slots.len() - 2]);

    let (status, booked) = send(
        reqwest::Method::POST,
        "/booking".into(),
        Some(book_body(first)),
    )
    .await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["id"].as_str().unwrap().to_owned();
    let (status, appointment) = get(format!("/appointments/{id}")).await;
    assert_eq!(status, 200, "{appointment}");
    assert_eq!(appointment["starts_at"], first["starts_at"]);

    let (status, moved) = send(
        reqwest::Method::PUT,
        format!("/appointments/{id}"),
        Some(json!({ "availability_id": second["id"] })),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["starts_at"], second["starts_at"]);

    let (status, cancelled) =
        send(reqwest::Method::DELETE, format!("/appointments/{id}"), None).await;
    assert_eq!(status, 200, "{cancelled}");
    let (status, appointment) = get(format!("/appointments/{id}")).await;
    assert_eq!(status, 200, "{appointment}");
    assert_eq!(appointment["status"], "cancelled");
}
