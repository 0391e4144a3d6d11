//! The whole flow: sign-in, consent (remembered, asked again, denied) and a code bound to the
//! request.

use shared::keys::SigningAlg;
use shared::scope::Scope;
use testkit::oauth::CHALLENGE;

use super::*;

#[tokio::test]
async fn the_full_flow_signs_in_asks_consent_and_returns_a_code_bound_to_the_request() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let started = now_unix();

    let reply = b.get(&authorize_path(&w.client, &[])).await;
    assert_eq!(reply.status, 303);
    assert!(reply
        .location()
        .as_str()
        .starts_with("http://127.0.0.1:9000/oauth/login?request="));

    let login = b.get(&reply.next_path()).await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("Demo &#60;Health&#62; App"),
        "client name, escaped: {}",
        login.body
    );
    let csrf_cookie = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("portal_csrf="))
        .expect("a CSRF cookie");
    assert!(
        csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Lax")
            && csrf_cookie.contains("Path=/")
    );
    assert_eq!(login.hidden("csrf_token"), b.jar["portal_csrf"]);

    let after_login = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("email", "  Anna.Muster@Example.org "),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(after_login.status, 303, "{}", after_login.body);
    assert_eq!(after_login.location().path(), "/oauth/consent");
    let session_cookie = after_login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("portal_session="))
        .expect("a session cookie");
    assert!(
        session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax")
            && session_cookie.contains("Path=/")
    );

    let consent = b.get(&after_login.next_path()).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    for scope in Scopes::parse("openid profile email appointment_read")
        .unwrap()
        .iter()
    {
        assert!(
            consent.body.contains(&scope.description()),
            "{}",
            scope.as_str()
        );
    }
    assert!(consent.body.contains(r#"name="decision" value="allow""#));
    assert!(consent.body.contains(r#"name="decision" value="deny""#));

    let done = b
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &consent.hidden("csrf_token")),
                ("request", &consent.hidden("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done
        .location()
        .as_str()
        .starts_with("https://app.example/cb?code="));
    let params = done.redirect_params();
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], ISSUER);

    let code = open_code(&w, &done);
    assert_eq!(code.client_id, w.client.id.as_str());
    assert_eq!(code.redirect_uri, REDIRECT);
    assert_eq!(code.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(code.scope, "openid profile email appointment_read");
    assert_eq!(code.patient_id, w.patient.id.as_str());
    assert_eq!(code.nonce.as_deref(), Some(oauth::NONCE));
    let now = now_unix();
    assert!((started..=now).contains(&code.auth_time));
    assert!((now + 55..=now + 60).contains(&code.expires_at));
    assert_eq!(code.claims.name.as_deref(), Some("Anna Muster"));
    assert_eq!(code.claims.given_name.as_deref(), Some("Anna"));
    assert_eq!(code.claims.birthdate.as_deref(), Some("1985-02-28"));
    assert_eq!(code.claims.email.as_deref(), Some(EMAIL));
    assert_eq!(code.claims.email_verified, Some(true));
    assert_eq!(code.claims.phone_number, None, "phone was not granted");
    assert!(!code.grant_id.is_empty());
}

#[tokio::test]
async fn a_code_redirect_keeps_the_query_of_the_registered_uri() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let done = b
        .authorize_fully(&authorize_path(
            &w.client,
            &[("redirect_uri", "https://app.example/cb?tenant=7")],
        ))
        .await;
    assert!(done
        .location()
        .as_str()
        .starts_with("https://app.example/cb?tenant=7&code="));
    assert_eq!(
        open_code(&w, &done).redirect_uri,
        "https://app.example/cb?tenant=7"
    );
}

#[tokio::test]
async fn remembered_consent_skips_the_page_and_costs_only_reads() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let first = b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let first_code = open_code(&w, &first);

    w.ctx.counter.take();
    let again = b
        .get(&authorize_path(
            &w.client,
            &[("state", "second"), ("scope", "openid email")],
        ))
        .await;
    assert_eq!(again.status, 302, "{}", again.body);
    assert_eq!(again.redirect_params()["state"], "second");
    let code = open_code(&w, &again);
    assert_eq!(code.scope, "openid email");
    assert_ne!(code.grant_id, first_code.grant_id);
    assert_eq!(
        code.claims.name, None,
        "profile was not asked for this time"
    );
    // Client and session in one round trip, consent and profile in another; no write.
    assert_eq!(w.ctx.counter.take(), 2);

    let silent = b
        .get(&authorize_path(&w.client, &[("prompt", "none")]))
        .await;
    assert_eq!(silent.status, 302);
    assert!(silent.redirect_params().contains_key("code"));
    assert_eq!(w.ctx.counter.take(), 2, "prompt=none costs the same");

    // Scopes without identity claims: the consent alone, still two round trips.
    let bare = b
        .get(&oauth::authorize_path(
            w.client.id.as_str(),
            REDIRECT,
            "openid",
            &[],
        ))
        .await;
    assert_eq!(bare.status, 302, "{}", bare.body);
    assert_eq!(open_code(&w, &bare).claims.name, None);
    assert_eq!(w.ctx.counter.take(), 2);
}

#[tokio::test]
async fn without_a_session_cookie_an_authorization_request_is_one_read() {
    let w = world().await;
    w.ctx.counter.take();
    let reply = Browser::new(&w).get(&authorize_path(&w.client, &[])).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/login");
    assert_eq!(w.ctx.counter.take(), 1, "the client alone");

    // An unknown client with a session cookie: one round trip, answered as before.
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    w.ctx.counter.take();
    let unknown = b
        .get(&oauth::authorize_path("nobody", REDIRECT, "openid", &[]))
        .await;
    unknown.assert_error_page(400);
    assert!(unknown.body.contains("not registered"), "{}", unknown.body);
    assert_eq!(w.ctx.counter.take(), 1);
}

#[tokio::test]
async fn prompt_consent_shows_the_consent_page_again() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let reply = b
        .get(&authorize_path(&w.client, &[("prompt", "consent")]))
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/consent");
    let done = b.answer_consent(&reply, "allow").await;
    assert!(done.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn a_new_scope_asks_for_consent_again_and_prompt_none_then_fails() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let wider = authorize_path(&w.client, &[("scope", "openid appointment_write")]);
    let reply = b.get(&wider).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/consent");
    let consent = b.get(&reply.next_path()).await;
    assert!(consent
        .body
        .contains(&Scope::AppointmentWrite.description()));

    let silent = authorize_path(
        &w.client,
        &[("scope", "openid appointment_write"), ("prompt", "none")],
    );
    b.get(&silent)
        .await
        .assert_error_redirect(REDIRECT, "consent_required", Some("st-123"));
}

#[tokio::test]
async fn denying_consent_sends_access_denied() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let reply = b.answer_consent(&after_login, "deny").await;
    reply.assert_error_redirect(REDIRECT, "access_denied", Some("st-123"));
    // Nothing was remembered: the next request asks again.
    let again = b.get(&authorize_path(&w.client, &[])).await;
    assert_eq!(again.location().path(), "/oauth/consent");
}

#[tokio::test]
async fn a_consent_form_without_a_decision_is_refused() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let page = b.get(&after_login.next_path()).await;
    let reply = b
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("decision", "maybe"),
            ],
        )
        .await;
    reply.assert_error_page(400);
}

#[tokio::test]
async fn post_to_the_authorization_endpoint_works_like_get() {
    let w = world().await;
    let path = authorize_path(&w.client, &[]);
    let query = path.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let form: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = send(&w.app, Event::post("/oauth/authorize").form(&form)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location().path(), "/oauth/login");
}

#[tokio::test]
async fn the_login_hint_prefills_the_email_field() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b
        .get(&authorize_path(&w.client, &[("login_hint", EMAIL)]))
        .await;
    let page = b.get(&reply.next_path()).await;
    assert!(
        page.body
            .contains(&format!(r#"name="email" value="{EMAIL}""#)),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_client_registered_for_es256_id_tokens_gets_codes_that_say_so() {
    let w = world().await;
    let uri = RedirectUri::parse(REDIRECT).unwrap();
    let (es256, _) = Client::new_confidential("ES256 app", vec![uri], Scopes::all()).unwrap();
    let es256 = es256.with_id_token_alg(SigningAlg::ES256);
    ClientRepo::new(w.ctx.store()).create(&es256).await.unwrap();
    let mut b = Browser::new(&w);
    // Through the pages (the request is sealed across them), then again with the live session.
    let done = b.authorize_fully(&authorize_path(&es256, &[])).await;
    assert_eq!(open_code(&w, &done).id_token_alg, SigningAlg::ES256);
    let again = b.get(&authorize_path(&es256, &[])).await;
    assert_eq!(again.status, 302, "{}", again.body);
    assert_eq!(open_code(&w, &again).id_token_alg, SigningAlg::ES256);
    let other = Browser::new(&w)
        .authorize_fully(&authorize_path(&w.client, &[]))
        .await;
    assert_eq!(open_code(&w, &other).id_token_alg, SigningAlg::RS256);
}
