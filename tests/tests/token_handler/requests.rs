//! What every answer obeys: refresh tokens only for `offline_access` or portal scopes, bounded
//! form bodies, `Cache-Control: no-store` even on routing errors.

use super::*;

#[tokio::test]
async fn no_refresh_token_is_issued_when_only_openid_is_granted() {
    let f = fixture().await;
    let reply = f.tokens("openid").await;
    assert!(
        reply.body.get("refresh_token").is_none(),
        "{:?}",
        reply.body
    );
    assert!(reply.body["id_token"].is_string());
    assert_eq!(reply.body["scope"], "openid");
    // Its access token still introspects active while it lives (the short-lived grant exists).
    assert_eq!(
        f.introspect(&reply.str("access_token")).await.body["active"],
        true
    );
    let identity_only = f.tokens("openid profile email phone").await;
    assert!(identity_only.body.get("refresh_token").is_none());
    let offline = f.tokens("openid offline_access").await;
    assert!(offline.body["refresh_token"].is_string());
}

#[tokio::test]
async fn the_body_must_be_a_form_of_bounded_size() {
    let f = fixture().await;
    let json = send(
        &f.app,
        Event::post("/oauth/token").json(&serde_json::json!({"grant_type": "refresh_token"})),
    )
    .await;
    assert_eq!(
        (json.status.as_u16(), json.error()),
        (400, "invalid_request")
    );
    let big = "x".repeat(shared::http::request::MAX_BODY_BYTES + 1);
    let oversized = post(
        &f.app,
        "/oauth/token",
        &[("grant_type", &big)],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (oversized.status.as_u16(), oversized.error()),
        (413, "invalid_request")
    );
    let repeated = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("grant_type", "refresh_token"),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (repeated.status.as_u16(), repeated.error()),
        (400, "invalid_request")
    );
}

#[tokio::test]
async fn every_response_is_uncacheable_including_routing_errors() {
    // `send` asserts `Cache-Control: no-store` and `Pragma: no-cache` on every response.
    let f = fixture().await;
    let wrong_method = send(&f.app, Event::get("/oauth/token")).await;
    assert_eq!(wrong_method.status, 405);
    let unknown = send(&f.app, Event::post("/oauth/nothing").form(&[])).await;
    assert_eq!(unknown.status, 404);
    let two_headers = send(
        &f.app,
        Event::post("/oauth/token")
            .form(&[("grant_type", "refresh_token")])
            .header("authorization", &f.basic())
            .header("authorization", &f.basic()),
    )
    .await;
    assert!(
        two_headers.status.is_client_error(),
        "{:?}",
        two_headers.body
    );
}
