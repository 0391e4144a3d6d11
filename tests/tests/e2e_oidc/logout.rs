//! RP-initiated logout.

use portal_tests::e2e::{error_from, expect_app, expect_page, query_params};
use serde_json::json;
use testkit::jws::{jwt_claims, with_claims};

use super::*;

async fn signed_in_browser(rp: &Rp) -> (Browser, SignedIn) {
    let browser = rp.e2e.browser();
    let signed = rp.sign_in(&browser, &[], no_tweak).await;
    (browser, signed)
}

/// `prompt=none` in `browser`: `login_required` once the session is gone.
async fn assert_signed_out(rp: &Rp, browser: &Browser) {
    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let redirect = expect_app(browser.open(started.url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &rp.client.redirect_uri,
        Some(started.state.secret()),
        rp.e2e.issuer(),
    );
    assert_eq!(error, "login_required");
}

/// oidcc-rp-initiated-logout.
#[tokio::test]
async fn rp_initiated_logout_ends_the_session_and_returns_to_the_app_with_state() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    // Signed in: prompt=none gets a code.
    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    browser
        .authorize_silently(started.url.as_str())
        .await
        .unwrap();

    let hint = signed.id_token_text();
    let landing = browser
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
            ("state", "logout-state-42"),
        ])
        .await
        .unwrap();
    let back = expect_app(landing);
    let mut bare = back.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), rp.client.post_logout_redirect_uri);
    assert_eq!(
        query_params(&back).get("state").map(String::as_str),
        Some("logout-state-42")
    );
    assert_signed_out(&rp, &browser).await;
}

#[tokio::test]
async fn logout_with_a_forged_id_token_hint_is_a_400_page_and_still_signs_out() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let original = signed.id_token_text();
    let mut claims = jwt_claims(&original);
    claims["aud"] = json!("some-other-client");
    let forged = with_claims(&original, &claims);
    let landing = browser
        .logout(&[
            ("id_token_hint", &forged),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
            ("state", "s"),
        ])
        .await
        .unwrap();
    let (_, status, _) = expect_page(landing);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_signed_out(&rp, &browser).await;
}

#[tokio::test]
async fn logout_to_an_unregistered_post_logout_redirect_uri_is_a_400_page() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let hint = signed.id_token_text();
    let landing = browser
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                "https://attacker.example/signed-out",
            ),
            ("state", "s"),
        ])
        .await
        .unwrap();
    let (_, status, html) = expect_page(landing);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("attacker.example"));
    assert_signed_out(&rp, &browser).await;
}

#[tokio::test]
async fn logout_without_state_returns_to_the_app_without_state() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let hint = signed.id_token_text();
    let landing = browser
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
        ])
        .await
        .unwrap();
    let back = expect_app(landing);
    assert_eq!(back.as_str(), rp.client.post_logout_redirect_uri);
    assert!(back.query().is_none(), "{back}");
    assert_signed_out(&rp, &browser).await;
}

/// A client's cross-site logout carries no session cookie: the id_token's `sid` ends the session.
#[tokio::test]
async fn a_hint_ends_its_session_even_from_a_browser_without_the_cookie() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let hint = signed.id_token_text();
    assert!(jwt_claims(&hint)["sid"].is_string(), "id_tokens carry sid");
    let landing = rp
        .e2e
        .browser()
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
        ])
        .await
        .unwrap();
    expect_app(landing);
    assert_signed_out(&rp, &browser).await;
}
