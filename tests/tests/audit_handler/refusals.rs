//! Refused requests that name a patient (401 for a patient who is gone, 403, 404, 409) are
//! audited with their error code; requests whose token names no patient we can trust are not.

use serde_json::json;
use shared::booking::AppointmentId;

use super::*;

/// The record of request `request_id`, which must have added exactly one to `patient`'s
/// (found by its id: records of the same millisecond are not ordered).
async fn only_new_record(
    portal: &Portal,
    patient: &PatientId,
    before: usize,
    request_id: &str,
) -> AccessRecord {
    let records = portal.records(patient).await;
    assert_eq!(records.len(), before + 1, "{records:?}");
    records
        .into_iter()
        .find(|r| r.request_id.as_deref() == Some(request_id))
        .expect("the request's record")
}

#[tokio::test]
async fn refusals_naming_a_patient_are_stored_with_their_error_code() {
    let portal = Portal::new().await;
    let (patient, app) = patient_and_app(&portal).await;
    let secrets = secrets(&patient, &app);

    // 404: an appointment id that is not theirs (or anyone's).
    let foreign = AppointmentId::generate().to_string();
    let event = app.get(&format!("{API}/appointments/{foreign}"));
    let (status, _, line) = run(&portal.booking, "booking", event, "r-404").await;
    assert_eq!(status, 404);
    let record = only_new_record(&portal, &patient.id, 0, "r-404").await;
    assert_eq!(record.outcome(), "4xx not_found");
    assert_eq!(record.resource.as_deref(), Some(foreign.as_str()));
    assert_eq!(line["audit"]["outcome"], "4xx not_found");
    assert_clean_item(&portal.items(&patient.id).await[0], &secrets);

    // 403: a valid token of the patient without the route's scopes.
    let narrow = App::new(&portal.ctx.context, &patient.id, "openid profile_read");
    let event = narrow.get(&format!("{API}/appointments"));
    let (status, _, _) = run(&portal.booking, "booking", event, "r-403").await;
    assert_eq!(status, 403);
    let record = only_new_record(&portal, &patient.id, 1, "r-403").await;
    assert_eq!(record.outcome(), "4xx insufficient_scope");
    assert_eq!(record.client_id, narrow.client_id);
    let event = narrow.post(
        &format!("{API}/appointments/{foreign}/asap_list"),
        &json!({}),
    );
    let (status, _, _) = run(&portal.asap, "asap", event, "r-403-asap").await;
    assert_eq!(status, 403);
    let record = only_new_record(&portal, &patient.id, 2, "r-403-asap").await;
    assert_eq!(
        record.route,
        "POST /api/portal/v1/appointments/{id}/asap_list"
    );
    assert_eq!(record.outcome(), "4xx insufficient_scope");

    // 409: the slot another patient just took (a failed transaction: the record is its own put).
    let free = portal.free(&app, 198).await;
    let other = App::full(&portal.ctx.context, &PatientId::generate());
    portal.book(&other, &free[0]).await;
    let event = app.post(&format!("{API}/booking"), &book_request(&free[0]));
    let (status, body, _) = run(&portal.booking, "booking", event, "r-409").await;
    assert_eq!(status, 409, "{body}");
    let record = only_new_record(&portal, &patient.id, 3, "r-409").await;
    assert_eq!(record.outcome(), "4xx slot_unavailable");
    assert_eq!(record.resource, None, "nothing was booked");
}

#[tokio::test]
async fn a_token_of_a_patient_who_is_gone_is_audited_on_userinfo() {
    let portal = Portal::new().await;
    let gone = PatientId::generate();
    let app = App::full(&portal.ctx.context, &gone);
    let (status, body, line) = run(
        &portal.userinfo,
        "userinfo",
        app.get("/oauth/userinfo"),
        "r-401",
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let record = only_new_record(&portal, &gone, 0, "r-401").await;
    assert_eq!(record.outcome(), "4xx invalid_token");
    assert_eq!(record.route, "GET /oauth/userinfo");
    assert_eq!(line["audit"]["patient_id"], gone.as_str());
}

#[tokio::test]
async fn requests_without_a_trustworthy_token_are_not_audited() {
    let portal = Portal::new().await;
    let (patient, _) = patient_and_app(&portal).await;
    let path = format!("{API}/appointments");

    // No token at all.
    let (status, _, line) = run(&portal.booking, "booking", Event::get(&path), "r-none").await;
    assert_eq!(status, 401);
    assert!(line.get("audit").is_none());

    // A token naming the patient, signed with a key that is not ours: anyone could make one, so
    // it must not fill the patient's audit log.
    let stranger = TestContext::new();
    let forged = App::full(&stranger.context, &patient.id);
    let event = Event::get(&path).bearer(&forged.token);
    let (status, _, line) = run(&portal.booking, "booking", event, "r-forged").await;
    assert_eq!(status, 401);
    assert!(line.get("audit").is_none());

    // An expired token of ours.
    let claims = access_claims(
        &portal.ctx.context.config,
        patient.id.as_str(),
        PORTAL_SCOPE,
    );
    let now = shared::store::now_unix();
    let expired = testkit::tokens::sign(
        &portal.ctx.context.keys.current(),
        &shared::bearer::AccessClaims {
            iat: now - 900,
            exp: now - 600,
            ..claims
        },
    );
    let (status, _, line) = run(
        &portal.booking,
        "booking",
        Event::get(&path).bearer(&expired),
        "r-exp",
    )
    .await;
    assert_eq!(status, 401);
    assert!(line.get("audit").is_none());

    assert!(portal.records(&patient.id).await.is_empty());
}
