//! `prompt`, `max_age`, hints, unknown parameters and error answers of the authorization
//! endpoint.

use std::time::Duration;

use openidconnect::LoginHint;
use portal_tests::e2e::{error_from, expect_app, expect_page, poll_until, prefilled_email};
use shared::store::now_unix;

use super::*;

/// oidcc-prompt-login.
#[tokio::test]
async fn prompt_login_shows_the_login_page_even_with_a_live_session() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &[], no_tweak).await;
    // A second request without prompt needs no page at all: the session is live.
    let started = rp.start(&[], no_tweak);
    let redirect = expect_app(browser.open(started.url.as_str()).await.unwrap());
    rp.finish(&started, &redirect).await;

    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let (page, status, html) = expect_page(landing.clone());
    assert_eq!(page.path(), "/oauth/login");
    assert_eq!(status, StatusCode::OK, "{html}");
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let second = rp.finish(&started, &redirect).await;
    assert!(second.claims.auth_time().unwrap() >= first.claims.auth_time().unwrap());
}

/// oidcc-prompt-none-not-logged-in.
#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let redirect = expect_app(rp.e2e.browser().open(started.url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &rp.client.redirect_uri,
        Some(started.state.secret()),
        rp.e2e.issuer(),
    );
    assert_eq!(error, "login_required");
}

/// oidcc-prompt-none-logged-in.
#[tokio::test]
async fn prompt_none_with_a_session_returns_a_code_without_any_page() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &["email"], no_tweak).await;
    let started = rp.start(&["email"], |r| r.add_prompt(CoreAuthPrompt::None));
    let redirect = browser
        .authorize_silently(started.url.as_str())
        .await
        .unwrap();
    let second = rp.finish(&started, &redirect).await;
    assert_eq!(second.claims.auth_time(), first.claims.auth_time());
}

/// oidcc-max-age-1.
#[tokio::test]
async fn max_age_1_asks_for_the_password_again_once_a_second_has_passed() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &[], no_tweak).await;
    let auth_time = first.claims.auth_time().unwrap().timestamp();
    // The behaviour under test is about time passing: wait until the sign-in is over 1 s old.
    poll_until("the sign-in to age", Duration::from_secs(10), || {
        now_unix() >= auth_time + 2
    })
    .await;

    let started = rp.start(&[], |r| r.set_max_age(Duration::from_secs(1)));
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let (page, status, _) = expect_page(landing.clone());
    assert_eq!((page.path(), status), ("/oauth/login", StatusCode::OK));
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let second = rp.finish(&started, &redirect).await;
    assert!(second.claims.auth_time().unwrap().timestamp() > auth_time);
}

/// oidcc-max-age-10000.
#[tokio::test]
async fn max_age_10000_reuses_the_session_without_a_login() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &[], no_tweak).await;
    let started = rp.start(&[], |r| r.set_max_age(Duration::from_secs(10_000)));
    let redirect = browser
        .authorize_silently(started.url.as_str())
        .await
        .unwrap();
    let second = rp.finish(&started, &redirect).await;
    assert_eq!(second.claims.auth_time(), first.claims.auth_time());
}

/// oidcc-unknown-parameter.
#[tokio::test]
async fn an_unknown_parameter_is_ignored() {
    let rp = Rp::confidential().await;
    let signed = rp
        .sign_in(&rp.e2e.browser(), &[], |r| {
            r.add_extra_param("extra_unknown_parameter", "any value")
        })
        .await;
    assert_eq!(signed.claims.subject().as_str(), rp.patient.id);
}

/// oidcc-login-hint.
#[tokio::test]
async fn login_hint_prefills_the_email_field() {
    let rp = Rp::confidential().await;
    let hint = rp.patient.email.clone();
    let started = rp.start(&[], |r| r.set_login_hint(LoginHint::new(hint)));
    let browser = rp.e2e.browser();
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let (page, _, html) = expect_page(landing.clone());
    assert_eq!(page.path(), "/oauth/login");
    assert_eq!(prefilled_email(&html).as_deref(), Some(&*rp.patient.email));
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    rp.finish(&started, &redirect).await;
}

/// oidcc-response-type-missing: the client and redirect URI are valid, so the error goes back to
/// the client (RFC 6749 §4.1.2.1) as `invalid_request`, with `state` and `iss`.
#[tokio::test]
async fn a_request_without_response_type_is_redirected_back_with_invalid_request() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], no_tweak);
    let mut url = started.url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(name, _)| name != "response_type")
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    let redirect = expect_app(rp.e2e.browser().open(url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &rp.client.redirect_uri,
        Some(started.state.secret()),
        rp.e2e.issuer(),
    );
    assert_eq!(error, "invalid_request");
}

/// oidcc-ensure-registered-redirect-uri.
#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], |r| {
        r.set_redirect_uri(std::borrow::Cow::Owned(
            RedirectUrl::new("https://attacker.example/callback".into()).unwrap(),
        ))
    });
    let landing = rp.e2e.browser().open(started.url.as_str()).await.unwrap();
    let (page, status, html) = expect_page(landing);
    assert_eq!(page.path(), "/oauth/authorize");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("attacker.example"), "{html}");
}

/// oidcc-ensure-post-request-succeeds.
#[tokio::test]
async fn an_authorization_request_sent_as_a_form_post_succeeds() {
    let rp = Rp::confidential().await;
    let started = rp.start(&["email"], no_tweak);
    let mut endpoint = started.url.clone();
    endpoint.set_query(None);
    let pairs: Vec<(String, String)> = started.url.query_pairs().into_owned().collect();
    let fields: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
    let browser = rp.e2e.browser();
    let landing = browser.post_form(&endpoint, &fields).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let signed = rp.finish(&started, &redirect).await;
    assert_eq!(signed.claims.email().unwrap().as_str(), rp.patient.email);
}
