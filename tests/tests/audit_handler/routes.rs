//! Every audited route leaves exactly one record with its fields, mirrored on its log line.

use serde_json::json;

use super::*;

/// What one request must leave.
struct Expected<'a> {
    route: &'a str,
    resource: Option<&'a str>,
    status: u16,
}

#[tokio::test]
async fn every_route_that_touches_patient_data_stores_one_record_and_logs_it() {
    let portal = Portal::new().await;
    let (patient, app) = patient_and_app(&portal).await;
    let secrets = secrets(&patient, &app);
    // Type 199: video consultations with an ASAP list, so every route answers 2xx.
    let free = portal.free(&app, 199).await;
    assert!(free.len() >= 3, "{free:?}");

    let mut seen = portal.records(&patient.id).await.len();
    let mut check = |expected: Expected<'_>,
                     (status, body, line): (u16, Value, Map<String, Value>),
                     request_id: &str,
                     stored: Vec<AccessRecord>,
                     items: Vec<Item>| {
        assert_eq!(status, expected.status, "{}: {body}", expected.route);
        assert_eq!(stored.len(), seen + 1, "{}: one record", expected.route);
        seen = stored.len();
        // Records of the same millisecond are kept apart but not ordered: find it by request id.
        let at = stored
            .iter()
            .position(|r| r.request_id.as_deref() == Some(request_id))
            .expect("the request's record");
        let record = &stored[at];
        assert_eq!(record.route, expected.route);
        assert_eq!(record.client_id, app.client_id, "{}", expected.route);
        assert_eq!(record.patient_id, patient.id);
        assert_eq!(
            record.resource.as_deref(),
            expected.resource,
            "{}",
            expected.route
        );
        assert_eq!(record.outcome(), "2xx", "{}", expected.route);
        assert_eq!(record.request_id.as_deref(), Some(request_id));
        assert_eq!(AccessRecord::from_item(&items[at]).unwrap(), *record);
        assert_clean_item(&items[at], &secrets);
        // The log line carries the same record, as stored.
        let mut logged = record.to_json();
        logged["stored"] = json!(true);
        assert_eq!(line["audit"], logged, "{}", expected.route);
        assert_eq!(line["Route"], expected.route);
        let text = Value::Object(line).to_string();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} on the log line");
        }
    };

    macro_rules! step {
        ($app:expr, $function:literal, $event:expr, $id:literal, $expected:expr) => {{
            let result = run($app, $function, $event, $id).await;
            let stored = portal.records(&patient.id).await;
            let items = portal.items(&patient.id).await;
            check($expected, result, $id, stored, items);
        }};
    }

    let userinfo = &portal.userinfo;
    step!(
        userinfo,
        "userinfo",
        app.get("/oauth/userinfo"),
        "r-userinfo",
        Expected {
            route: "GET /oauth/userinfo",
            resource: None,
            status: 200,
        }
    );
    step!(
        userinfo,
        "userinfo",
        Event::post("/oauth/userinfo").form(&[("access_token", app.token.as_str())]),
        "r-userinfo-post",
        Expected {
            route: "POST /oauth/userinfo",
            resource: None,
            status: 200
        }
    );
    step!(
        userinfo,
        "userinfo",
        app.get(&format!("{API}/profile")),
        "r-profile",
        Expected {
            route: "GET /api/portal/v1/profile",
            resource: None,
            status: 200,
        }
    );

    let booking = &portal.booking;
    let book = app.post(&format!("{API}/booking"), &book_request(&free[0]));
    let (status, body, line) = run(booking, "booking", book, "r-book").await;
    let id = body["id"].as_str().expect("booked").to_owned();
    check(
        Expected {
            route: "POST /api/portal/v1/booking",
            resource: Some(&id),
            status: 201,
        },
        (status, body, line),
        "r-book",
        portal.records(&patient.id).await,
        portal.items(&patient.id).await,
    );
    let one = format!("{API}/appointments/{id}");
    let with_id = |route: &'static str, status: u16| Expected {
        route,
        resource: Some(id.as_str()),
        status,
    };
    step!(
        booking,
        "booking",
        app.get(&format!("{API}/appointments")),
        "r-list",
        Expected {
            route: "GET /api/portal/v1/appointments",
            resource: None,
            status: 200,
        }
    );
    step!(
        booking,
        "booking",
        app.get(&one),
        "r-get",
        with_id("GET /api/portal/v1/appointments/{id}", 200)
    );
    step!(
        booking,
        "booking",
        app.get(&format!("{one}/availabilities")),
        "r-alternatives",
        with_id("GET /api/portal/v1/appointments/{id}/availabilities", 200)
    );
    step!(
        booking,
        "booking",
        app.get(&format!("{one}/video_consultation")),
        "r-video",
        with_id(
            "GET /api/portal/v1/appointments/{id}/video_consultation",
            200
        )
    );

    let asap = &portal.asap;
    step!(
        asap,
        "asap",
        app.post(&format!("{one}/asap_list"), &json!({})),
        "r-subscribe",
        with_id("POST /api/portal/v1/appointments/{id}/asap_list", 200)
    );
    step!(
        asap,
        "asap",
        app.get(&format!("{one}/earlier_availability")),
        "r-earlier",
        with_id(
            "GET /api/portal/v1/appointments/{id}/earlier_availability",
            200
        )
    );
    step!(
        asap,
        "asap",
        app.delete(&format!("{one}/asap_list")),
        "r-unsubscribe",
        with_id("DELETE /api/portal/v1/appointments/{id}/asap_list", 200)
    );

    step!(
        booking,
        "booking",
        app.put(&one, &json!({ "availability_id": free[1] })),
        "r-reschedule",
        with_id("PUT /api/portal/v1/appointments/{id}", 200)
    );
    step!(
        booking,
        "booking",
        app.delete(&one),
        "r-cancel",
        with_id("DELETE /api/portal/v1/appointments/{id}", 200)
    );

    // The records read back newest first.
    let times: Vec<i64> = portal
        .records(&patient.id)
        .await
        .iter()
        .map(|r| r.at_ms)
        .collect();
    assert_eq!(times.len(), 13);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}

#[tokio::test]
async fn catalog_routes_and_the_availability_search_are_not_audited() {
    let portal = Portal::new().await;
    let (patient, app) = patient_and_app(&portal).await;
    for path in [
        format!("{API}/insurances"),
        format!("{API}/appointment_categories"),
        format!("{API}/appointment_types"),
        format!("{API}/availabilities?category_id=53&type_id=198&insurance_id=136"),
    ] {
        let (status, body, line) = run(&portal.booking, "booking", app.get(&path), "r").await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(line.get("audit").is_none(), "{path}");
    }
    // Discovery has no subject at all.
    let (_, _, line) = run(
        &portal.userinfo,
        "userinfo",
        Event::get("/.well-known/openid-configuration"),
        "r",
    )
    .await;
    assert!(line.get("audit").is_none());
    assert!(portal.records(&patient.id).await.is_empty());
}
