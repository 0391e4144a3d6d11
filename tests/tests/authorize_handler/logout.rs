//! RP-initiated logout, and the methods and paths the function refuses.

use super::*;

#[tokio::test]
async fn logout_with_a_valid_hint_returns_to_the_registered_uri_and_ends_the_session() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let sid = b.session_cookie().expect("signed in");
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
            ("state", "bye-1"),
        ])
        .finish();
    let reply = b.get(&format!("/oauth/logout?{query}")).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(
        reply.location().as_str(),
        "https://app.example/bye?state=bye-1"
    );
    assert!(reply
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("portal_session=;") && c.contains("Max-Age=0")));
    // The old cookie no longer names a session on the server.
    let silent = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")]))
            .cookie("portal_session", &sid),
    )
    .await;
    silent.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn logout_accepts_an_expired_hint_and_client_id_and_post() {
    let w = world().await;
    let expired = id_token(&w, w.client.id.as_str(), -86_400);
    let reply = send(
        &w.app,
        Event::post("/oauth/logout").form(&[
            ("id_token_hint", &expired),
            ("client_id", w.client.id.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ]),
    )
    .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location().as_str(), LOGOUT_REDIRECT);
    // client_id alone proves the client for its own registered URI.
    let reply = send(
        &w.app,
        Event::get(&format!(
            "/oauth/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fspa.example%2Fbye",
            w.public.id
        )),
    )
    .await;
    assert_eq!(reply.location().as_str(), "https://spa.example/bye");
}

#[tokio::test]
async fn logout_with_a_bad_hint_is_a_400_page_but_still_signs_out() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let sid = b.session_cookie().unwrap();
    let other_keys = testkit::tokens::foreign_keys();
    let forged = other_keys
        .sign_jwt(
            "JWT",
            &json!({"iss": ISSUER, "aud": w.client.id.as_str(), "exp": now_unix() + 300}),
        )
        .unwrap();
    for hint in ["garbage", forged.as_str()] {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", LOGOUT_REDIRECT),
            ])
            .finish();
        let reply = send(
            &w.app,
            Event::get(&format!("/oauth/logout?{query}")).cookie("portal_session", &sid),
        )
        .await;
        reply.assert_error_page(400);
        assert!(reply.body.contains("id_token_hint"), "{}", reply.body);
        assert!(reply.set_cookies().iter().any(|c| c.contains("Max-Age=0")));
    }
    let silent = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")]))
            .cookie("portal_session", &sid),
    )
    .await;
    silent.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_or_unproven_uri() {
    let w = world().await;
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        // Not registered for this client.
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://evil.example/bye"),
        ],
        // Registered, but for another client than the hint's.
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://spa.example/bye"),
        ],
        // No way to know the client.
        vec![("post_logout_redirect_uri", LOGOUT_REDIRECT)],
        // client_id and hint disagree.
        vec![
            ("id_token_hint", &hint),
            ("client_id", w.public.id.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ],
        // A redirect URI is not a post-logout URI.
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", REDIRECT),
        ],
    ];
    for case in cases {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&case)
            .finish();
        let reply = send(&w.app, Event::get(&format!("/oauth/logout?{query}"))).await;
        reply.assert_error_page(400);
    }
}

#[tokio::test]
async fn logout_without_a_redirect_uri_shows_the_signed_out_page() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let reply = b.get("/oauth/logout").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("You are signed out"));
    assert!(reply.headers.get("location").is_none());
    assert!(b.session_cookie().is_none(), "the cookie was expired");
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let reply = send(
        &w.app,
        Event::get(&format!("/oauth/logout?id_token_hint={hint}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn other_methods_and_paths_are_refused() {
    let w = world().await;
    let reply = send(&w.app, Event::new("DELETE", "/oauth/login")).await;
    assert_eq!(reply.status, 405);
    let reply = send(
        &w.app,
        Event::post("/oauth/login").json(&json!({"email": EMAIL})),
    )
    .await;
    assert_eq!(reply.status, 415);
}
