//! Revocation (RFC 7009) and introspection (RFC 7662).

use super::*;

#[tokio::test]
async fn revoking_a_refresh_token_stops_refresh_and_introspects_inactive() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let reply = f.revoke(&refresh_token, Some("refresh_token")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, Value::Null, "empty body");
    let refreshed = f.refresh(&refresh_token, None).await;
    assert_eq!(refreshed.error(), "invalid_grant");
    assert_eq!(
        f.introspect(&refresh_token).await.body,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        f.introspect(&tokens.str("access_token")).await.body["active"],
        false
    );
}

#[tokio::test]
async fn revoking_an_access_token_makes_it_introspect_inactive() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let access_token = tokens.str("access_token");
    let active = f.introspect(&access_token).await;
    let claims = f.access_claims(&access_token);
    assert_eq!(active.body["active"], true);
    assert_eq!(active.body["token_type"], "Bearer");
    assert_eq!(active.body["scope"], FULL_SCOPE);
    assert_eq!(active.body["client_id"], f.confidential.id.as_str());
    assert_eq!(active.body["sub"], f.patient.as_str());
    assert_eq!(active.body["jti"], claims.jti.as_str());
    assert_eq!(active.body["exp"], claims.exp);
    assert_eq!(active.body["iat"], claims.iat);
    assert_eq!(active.body["iss"], f.issuer());
    assert_eq!(
        active.body["aud"],
        f.ctx.context.config.api_audience.as_str()
    );

    // A wrong hint still finds the token.
    assert_eq!(
        f.revoke(&access_token, Some("refresh_token")).await.status,
        200
    );
    assert_eq!(
        f.introspect(&access_token).await.body,
        serde_json::json!({"active": false})
    );
    // Only that access token: the refresh token and the grant live on.
    assert_eq!(
        f.introspect(&tokens.str("refresh_token")).await.body["active"],
        true
    );
}

#[tokio::test]
async fn revoking_another_clients_token_or_garbage_has_no_effect() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let other = basic(f.other.id.as_str(), &f.other_secret);
    for token in [
        tokens.str("refresh_token"),
        tokens.str("access_token"),
        "garbage".to_owned(),
    ] {
        let reply = post(&f.app, "/oauth/revoke", &[("token", &token)], Some(&other)).await;
        assert_eq!(reply.status, 200);
    }
    assert_eq!(
        f.introspect(&tokens.str("access_token")).await.body["active"],
        true
    );
    assert_eq!(
        f.introspect(&tokens.str("refresh_token")).await.body["active"],
        true
    );
    assert_eq!(
        f.refresh(&tokens.str("refresh_token"), None).await.status,
        200
    );
}

#[tokio::test]
async fn revocation_needs_client_authentication_and_a_token() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let wrong = basic(f.confidential.id.as_str(), "wrong");
    let reply = post(
        &f.app,
        "/oauth/revoke",
        &[("token", &refresh_token)],
        Some(&wrong),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (401, "invalid_client")
    );
    let anonymous = post(&f.app, "/oauth/revoke", &[("token", &refresh_token)], None).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.error()),
        (401, "invalid_client")
    );
    let no_token = post(&f.app, "/oauth/revoke", &[], Some(&f.basic())).await;
    assert_eq!(
        (no_token.status.as_u16(), no_token.error()),
        (400, "invalid_request")
    );
    // Nothing was revoked by the refused attempts.
    assert_eq!(f.refresh(&refresh_token, None).await.status, 200);
}

#[tokio::test]
async fn a_public_client_revokes_its_own_refresh_token_by_client_id() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.public, "openid offline_access", Some(CHALLENGE)));
    let client_id = f.public.id.as_str();
    let tokens = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", client_id),
        ],
        None,
    )
    .await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    let refresh_token = tokens.str("refresh_token");
    let reply = post(
        &f.app,
        "/oauth/revoke",
        &[("token", &refresh_token), ("client_id", client_id)],
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
    let refresh = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("client_id", client_id),
        ],
        None,
    )
    .await;
    assert_eq!(refresh.error(), "invalid_grant");
}

#[tokio::test]
async fn introspection_by_an_unauthenticated_caller_is_401() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let token = tokens.str("access_token");
    let anonymous = post(&f.app, "/oauth/introspect", &[("token", &token)], None).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.error()),
        (401, "invalid_client")
    );
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let wrong = basic(f.confidential.id.as_str(), "wrong");
    let reply = post(
        &f.app,
        "/oauth/introspect",
        &[("token", &token)],
        Some(&wrong),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (401, "invalid_client")
    );
    assert!(
        reply.body.get("active").is_none(),
        "nothing about the token"
    );
    let unknown = basic("no-such-client", "x");
    let reply = post(
        &f.app,
        "/oauth/introspect",
        &[("token", &token)],
        Some(&unknown),
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn introspection_shows_another_clients_tokens_as_inactive() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let other = basic(f.other.id.as_str(), &f.other_secret);
    for token in [tokens.str("access_token"), tokens.str("refresh_token")] {
        let reply = post(
            &f.app,
            "/oauth/introspect",
            &[("token", &token)],
            Some(&other),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, serde_json::json!({"active": false}));
    }
    for garbage in ["garbage", "a.b.c"] {
        assert_eq!(
            f.introspect(garbage).await.body,
            serde_json::json!({"active": false})
        );
    }
    let missing = post(&f.app, "/oauth/introspect", &[], Some(&f.basic())).await;
    assert_eq!(
        (missing.status.as_u16(), missing.error()),
        (400, "invalid_request")
    );
}
