//! CORS for browser apps on the token and revocation endpoints, never on introspection.

use super::*;

#[tokio::test]
async fn browser_apps_get_cors_on_token_and_revoke_but_not_on_introspect() {
    let f = fixture().await;
    let origin = "http://localhost:5173";
    let preflight = send(
        &f.app,
        Event::new("OPTIONS", "/oauth/token")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type"),
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.headers["access-control-allow-origin"], origin);
    assert!(preflight.headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));

    // The actual request, an error included, is readable by the page.
    let code = f.seal(&f.code(&f.public, "openid offline_access", Some(CHALLENGE)));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", f.public.id.as_str()),
    ];
    let ok = send(
        &f.app,
        Event::post("/oauth/token")
            .form(&form)
            .header("origin", origin),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.headers["access-control-allow-origin"], origin);
    let replay = send(
        &f.app,
        Event::post("/oauth/token")
            .form(&form)
            .header("origin", origin),
    )
    .await;
    assert_eq!(replay.error(), "invalid_grant");
    assert_eq!(replay.headers["access-control-allow-origin"], origin);
    let revoke = send(
        &f.app,
        Event::post("/oauth/revoke")
            .form(&[("token", "x"), ("client_id", f.public.id.as_str())])
            .header("origin", origin),
    )
    .await;
    assert_eq!(revoke.headers["access-control-allow-origin"], origin);

    let foreign = send(
        &f.app,
        Event::post("/oauth/revoke")
            .form(&[("token", "x"), ("client_id", f.public.id.as_str())])
            .header("origin", "https://evil.example"),
    )
    .await;
    assert!(!foreign.headers.contains_key("access-control-allow-origin"));
    let introspect = send(
        &f.app,
        Event::post("/oauth/introspect")
            .form(&[("token", "x")])
            .header("authorization", &f.basic())
            .header("origin", origin),
    )
    .await;
    assert_eq!(introspect.status, 200);
    assert!(!introspect
        .headers
        .contains_key("access-control-allow-origin"));
}
