//! UserInfo: the token in the header (GET and POST) or in the form body.

use super::*;

/// oidcc-userinfo-get.
#[tokio::test]
async fn userinfo_answers_a_get_with_the_token_in_the_header() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let info = rp.userinfo(signed.tokens.access_token()).await;
    assert_eq!(
        info.email().map(|e| e.as_str()),
        Some(rp.patient.email.as_str())
    );
}

/// oidcc-userinfo-post-header.
#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_header() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let request = rp
        .http
        .post(rp.e2e.url("/oauth/userinfo"))
        .bearer_auth(signed.tokens.access_token().secret());
    let (status, body) = rp.userinfo_raw(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], rp.patient.id.as_str());
    assert_eq!(body["email"], rp.patient.email.as_str());
}

/// oidcc-userinfo-post-body.
#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_form_body() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let request = rp
        .http
        .post(rp.e2e.url("/oauth/userinfo"))
        .form(&[("access_token", signed.tokens.access_token().secret())]);
    let (status, body) = rp.userinfo_raw(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], rp.patient.id.as_str());
    assert_eq!(body["email"], rp.patient.email.as_str());
}
