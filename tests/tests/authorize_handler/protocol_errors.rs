//! Protocol errors once the client is known: redirects with `error`, `state` and `iss` (RFC 9207).

use super::*;

#[tokio::test]
async fn a_missing_response_type_is_an_invalid_request_redirect_with_state_and_iss() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("response_type", "")])),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
}

#[tokio::test]
async fn response_type_token_is_unsupported() {
    let w = world().await;
    for response_type in ["token", "code id_token", "id_token"] {
        let reply = send(
            &w.app,
            Event::get(&authorize_path(
                &w.client,
                &[("response_type", response_type)],
            )),
        )
        .await;
        reply.assert_error_redirect(REDIRECT, "unsupported_response_type", Some("st-123"));
    }
}

#[tokio::test]
async fn an_unknown_missing_or_unallowed_scope_is_invalid_scope() {
    let w = world().await;
    for scope in ["openid admin", "", "OPENID"] {
        let reply = send(
            &w.app,
            Event::get(&authorize_path(&w.client, &[("scope", scope)])),
        )
        .await;
        reply.assert_error_redirect(REDIRECT, "invalid_scope", Some("st-123"));
    }
    let reply = send(
        &w.app,
        Event::get(&authorize_path(
            &w.narrow,
            &[("scope", "openid appointment_write")],
        )),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "invalid_scope", Some("st-123"));
    assert!(reply.redirect_params()["error_description"].contains("appointment_write"));
}

#[tokio::test]
async fn plain_or_malformed_pkce_is_an_invalid_request() {
    let w = world().await;
    for extra in [
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge_method", "")],
        vec![("code_challenge", "")],
        vec![("code_challenge", "too-short")],
    ] {
        let reply = send(&w.app, Event::get(&authorize_path(&w.client, &extra))).await;
        reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
    }
}

#[tokio::test]
async fn a_public_client_without_pkce_is_an_invalid_request() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(
            &w.public,
            &[
                ("redirect_uri", "https://spa.example/cb"),
                ("code_challenge", ""),
                ("code_challenge_method", ""),
            ],
        )),
    )
    .await;
    reply.assert_error_redirect("https://spa.example/cb", "invalid_request", Some("st-123"));
    assert!(reply.redirect_params()["error_description"].contains("PKCE"));
}

#[tokio::test]
async fn oidc_parameters_are_checked() {
    let w = world().await;
    for extra in [
        ("prompt", "none login"),
        ("prompt", "sometimes"),
        ("max_age", "-1"),
        ("max_age", "soon"),
    ] {
        let reply = send(&w.app, Event::get(&authorize_path(&w.client, &[extra]))).await;
        reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
    }
    let long_nonce = "n".repeat(513);
    let reply = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("nonce", &long_nonce)])),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
}

#[tokio::test]
async fn a_repeated_parameter_is_an_invalid_request_and_an_oversized_state_is_not_echoed() {
    let w = world().await;
    let path = format!("{}&scope=phone", authorize_path(&w.client, &[]));
    send(&w.app, Event::get(&path)).await.assert_error_redirect(
        REDIRECT,
        "invalid_request",
        Some("st-123"),
    );
    let long_state = "s".repeat(1025);
    send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("state", &long_state)])),
    )
    .await
    .assert_error_redirect(REDIRECT, "invalid_request", None);
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")])),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(
            &w.client,
            &[("ui_locales", "de"), ("foo", "bar"), ("display", "page")],
        )),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location().path(), "/oauth/login");
}
