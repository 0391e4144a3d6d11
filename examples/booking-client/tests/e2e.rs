//! The example client's whole flow against the portal served by `cargo lambda watch` (the one
//! `make test` starts, or one started for this process): its own confidential client with the
//! loopback redirect URI of the example's listener, its own patient, the scripted browser of the
//! portal's tests signing in and allowing, and the browser's final redirect delivered to the
//! example's listener exactly as a real browser would.

use booking_client::{run, sign_in, Config, Error, Loopback};
use portal_tests::browser::{Browser, Decision};
use portal_tests::e2e::{E2e, TestPatient};
use shared::domain::client::{Client, RedirectUri};
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use testkit::catalog;
use url::Url;

/// The portal, with the demo catalog loaded if no catalog is there yet (the walkthrough's ids
/// 136 / 53 / 198 are the demo's), and a patient of this test.
async fn setup() -> (E2e, TestPatient) {
    let e2e = E2e::new().await;
    catalog::ensure_demo(&e2e.store).await;
    let patient = e2e.patient().await;
    (e2e, patient)
}

/// Registers a confidential client whose one redirect URI is `redirect_uri`; returns the config
/// the example runs with.
async fn client_for(e2e: &E2e, redirect_uri: &str) -> Config {
    let (client, secret) = Client::new_confidential(
        "booking-client example (e2e)",
        vec![RedirectUri::parse(redirect_uri).unwrap()],
        Scopes::all(),
    )
    .unwrap();
    ClientRepo::new(e2e.store.clone())
        .create(&client)
        .await
        .unwrap();
    Config::new(e2e.issuer(), client.id.as_str(), Some(secret))
}

/// What the patient does in the browser: sign in, answer consent, and let the browser follow the
/// final redirect to the example's loopback listener.
async fn patient_in_browser(
    base_url: String,
    patient: TestPatient,
    decision: Decision,
    url: Url,
) -> Result<(), String> {
    let redirect = Browser::new(&base_url)?
        .authorize(url.as_str(), &patient.email, &patient.password, decision)
        .await?;
    reqwest::get(redirect.as_str())
        .await
        .map_err(|e| format!("following the redirect to the app: {e}"))?;
    Ok(())
}

#[tokio::test]
async fn the_example_signs_in_books_reschedules_and_cancels() {
    let (e2e, patient) = setup().await;
    let loopback = Loopback::bind(0).await.unwrap();
    let config = client_for(&e2e, &loopback.redirect_uri()).await;
    let base = e2e.portal.base_url.clone();
    let browser_patient = patient.clone();
    let mut out = Vec::new();

    let result = run(
        &config,
        loopback,
        move |url| patient_in_browser(base, browser_patient, Decision::Allow, url),
        &mut out,
    )
    .await;
    let printed = String::from_utf8_lossy(&out).into_owned();
    let done = result.unwrap_or_else(|e| panic!("the example failed: {e}\n{printed}"));

    assert_eq!(done.subject, patient.id, "{printed}");
    assert!(done.asap_subscribed, "booked on the ASAP list\n{printed}");
    assert_ne!(
        done.booked.starts_at, done.rescheduled.starts_at,
        "rescheduled to another time\n{printed}"
    );
    assert_eq!(done.final_status, "cancelled", "{printed}");
    // The ASAP function may not be finished; what it must not do is fail in any other way.
    if let Err(failure) = &done.earlier_availability {
        assert_eq!(
            failure.status,
            Some(501),
            "earlier availability failed unexpectedly: {failure}\n{printed}"
        );
    }
    for step in [
        "id_token verified",
        "1. Insurances",
        "5. Book",
        "7. Reschedule",
        "8. Earlier availability",
        "status now: cancelled",
    ] {
        assert!(printed.contains(step), "`{step}` was printed\n{printed}");
    }
    println!("{printed}");
}

#[tokio::test]
async fn a_denied_consent_is_reported_as_access_denied() {
    let (e2e, patient) = setup().await;
    let loopback = Loopback::bind(0).await.unwrap();
    let config = client_for(&e2e, &loopback.redirect_uri()).await;
    let http = booking_client::http_client().unwrap();
    let base = e2e.portal.base_url.clone();
    let mut out = Vec::new();

    let result = sign_in(
        &config,
        &http,
        loopback,
        move |url| patient_in_browser(base, patient, Decision::Deny, url),
        &mut out,
    )
    .await;
    match result {
        Err(Error::Refused { error, .. }) => assert_eq!(error, "access_denied"),
        other => panic!("expected access_denied, got {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_with_another_state_is_refused_before_any_token_request() {
    let (e2e, _patient) = setup().await;
    let loopback = Loopback::bind(0).await.unwrap();
    let redirect_uri = loopback.redirect_uri();
    let config = client_for(&e2e, &redirect_uri).await;
    let http = booking_client::http_client().unwrap();
    let issuer = e2e.issuer().to_owned();
    let mut out = Vec::new();

    // An attacker's page sends the browser to the app with a code and a state of its own.
    let forged = move |_url: Url| async move {
        let mut forged = Url::parse(&redirect_uri).unwrap();
        forged
            .query_pairs_mut()
            .append_pair("code", "stolen-code")
            .append_pair("state", "not-the-apps-state")
            .append_pair("iss", &issuer);
        reqwest::get(forged.as_str())
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    };
    let result = sign_in(&config, &http, loopback, forged, &mut out).await;
    match result {
        Err(Error::Callback(reason)) => assert!(reason.contains("state"), "{reason}"),
        other => panic!("expected the state check to refuse, got {other:?}"),
    }
}
