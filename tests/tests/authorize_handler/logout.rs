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
    // client_id alone proves the client for its own registered URI (after the patient confirms,
    // since nothing proves the request comes from the patient).
    let mut b = Browser::new(&w);
    let question = b
        .get(&format!(
            "/oauth/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fspa.example%2Fbye",
            w.public.id
        ))
        .await;
    assert_eq!(question.status, 200, "{}", question.body);
    let reply = confirm(&mut b, &question).await;
    assert_eq!(reply.location().as_str(), "https://spa.example/bye");
}

/// Submits the logout question's form as the patient's button would.
async fn confirm(b: &mut Browser<'_>, question: &Reply) -> Reply {
    let mut form = vec![
        ("csrf_token".to_owned(), question.hidden("csrf_token")),
        ("confirm".to_owned(), question.hidden("confirm")),
    ];
    for name in ["post_logout_redirect_uri", "client_id", "state"] {
        if let Some(value) = hidden_field(&question.body, name) {
            form.push((name.to_owned(), value));
        }
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    b.post("/oauth/logout", &form).await
}

#[tokio::test]
async fn a_cross_site_logout_with_a_hint_ends_the_session_without_the_cookie() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let code = open_code(&w, &reply);
    let sid = code.sid.expect("codes carry the sign-in session");
    let cookie = b.session_cookie().expect("signed in");
    assert_ne!(sid, cookie, "the sid is not the cookie's secret");
    let hint = id_token_of_session(&w, w.client.id.as_str(), 300, Some(&sid));
    // The app's page posts cross-site: the SameSite=Lax cookie stays behind.
    let reply = send(
        &w.app,
        Event::post("/oauth/logout").form(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ]),
    )
    .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location().as_str(), LOGOUT_REDIRECT);
    let silent = b
        .get(&authorize_path(&w.client, &[("prompt", "none")]))
        .await;
    silent.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn a_hint_for_another_session_leaves_this_one_alone() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let hint = id_token_of_session(&w, w.client.id.as_str(), 300, Some("another-session"));
    let reply = send(
        &w.app,
        Event::get(&format!("/oauth/logout?id_token_hint={hint}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let silent = b
        .get(&authorize_path(&w.client, &[("prompt", "none")]))
        .await;
    assert!(
        silent.redirect_params().contains_key("code"),
        "still signed in"
    );
}

#[tokio::test]
async fn a_logout_without_hint_or_cookie_asks_the_patient_in_their_language() {
    let w = world().await;
    for (accept, question_text, button) in [
        ("en", "Sign out of MyPatientPortal?", "Sign out</button>"),
        ("de", "Von MyPatientPortal abmelden?", "Abmelden</button>"),
    ] {
        let mut b = Browser::new(&w).accepting(accept);
        let query = format!(
            "/oauth/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=s1",
            w.client.id
        );
        let question = b.get(&query).await;
        assert_eq!(question.status, 200, "{}", question.body);
        assert!(question.body.contains(question_text), "{}", question.body);
        assert!(question.body.contains(button));
        assert!(
            question.headers.get("location").is_none(),
            "nothing happened yet"
        );
        assert_eq!(question.hidden("state"), "s1");
        // A confirmation without the CSRF token is only asked again.
        let forged = b
            .post(
                "/oauth/logout",
                &[
                    ("confirm", "yes"),
                    ("client_id", w.client.id.as_str()),
                    ("post_logout_redirect_uri", LOGOUT_REDIRECT),
                ],
            )
            .await;
        assert_eq!(forged.status, 200);
        assert!(forged.body.contains(question_text));
        let reply = confirm(&mut b, &question).await;
        assert_eq!(reply.status, 302, "{}", reply.body);
        assert_eq!(
            reply.location().as_str(),
            "https://app.example/bye?state=s1"
        );
    }
    // The same-origin confirmation carries the cookie, and so ends the session.
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let cookie = b.session_cookie().unwrap();
    let question = send(&w.app, Event::get("/oauth/logout")).await;
    assert!(question.body.contains("Sign out of MyPatientPortal?"));
    let csrf = b
        .jar
        .get("portal_csrf")
        .cloned()
        .expect("the login form set one");
    let reply = b
        .post(
            "/oauth/logout",
            &[("csrf_token", csrf.as_str()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("You are signed out"));
    let silent = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")]))
            .cookie("portal_session", &cookie),
    )
    .await;
    silent.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
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
        // No way to know the client (an error page, not the question: it cannot succeed).
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
