//! Refused codes: reuse, PKCE, redirect URI, another client, expiry, tampering; every RFC 6749
//! §5.2 error code and unsupported grant types.

use shared::store::now_unix;

use super::*;

#[tokio::test]
async fn a_reused_code_is_invalid_grant_and_revokes_the_tokens_of_the_first_exchange() {
    let f = fixture().await;
    let sealed = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let first = f.exchange(&sealed).await;
    assert_eq!(first.status, 200);
    let refresh_token = first.str("refresh_token");
    let access_token = first.str("access_token");
    assert_eq!(f.introspect(&access_token).await.body["active"], true);

    let again = f.exchange(&sealed).await;
    assert_eq!(
        (again.status.as_u16(), again.error()),
        (400, "invalid_grant")
    );
    assert!(again.str("error_description").contains("already used"));

    let refreshed = f.refresh(&refresh_token, None).await;
    assert_eq!(
        (refreshed.status.as_u16(), refreshed.error()),
        (400, "invalid_grant")
    );
    assert_eq!(
        f.introspect(&refresh_token).await.body,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        f.introspect(&access_token).await.body,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_invalid_grant() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let wrong = "a".repeat(43);
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &wrong),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
}

#[tokio::test]
async fn a_verifier_for_a_code_without_a_challenge_is_a_refused_pkce_downgrade() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", None));
    let reply = f.exchange(&code).await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert!(reply.str("error_description").contains("no code_challenge"));
}

#[tokio::test]
async fn a_missing_verifier_for_a_code_with_a_challenge_is_invalid_grant() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert!(reply
        .str("error_description")
        .contains("code_verifier is required"));
}

#[tokio::test]
async fn a_malformed_verifier_is_invalid_request() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    for verifier in ["short", &format!("{}!", "a".repeat(50))] {
        let reply = post(
            &f.app,
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
            Some(&f.basic()),
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "invalid_request")
        );
    }
}

#[tokio::test]
async fn a_different_redirect_uri_is_invalid_grant_and_a_missing_one_invalid_request() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let other = format!("{REDIRECT}/");
    let different = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &other),
            ("code_verifier", VERIFIER),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (different.status.as_u16(), different.error()),
        (400, "invalid_grant")
    );
    let missing = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (missing.status.as_u16(), missing.error()),
        (400, "invalid_request")
    );
    // Neither attempt used the code up.
    assert_eq!(f.exchange(&code).await.status, 200);
}

#[tokio::test]
async fn a_code_redeemed_by_another_client_is_invalid_grant() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic(f.other.id.as_str(), &f.other_secret)),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert!(reply.str("error_description").contains("another client"));
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let f = fixture().await;
    let mut code = f.code(&f.confidential, "openid", Some(CHALLENGE));
    code.expires_at = now_unix() - 1;
    let reply = f.exchange(&f.seal(&code)).await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert_eq!(
        reply.str("error_description"),
        "the authorization code is invalid or expired"
    );
}

#[tokio::test]
async fn a_tampered_or_foreign_code_is_invalid_grant() {
    let f = fixture().await;
    let sealed = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let (id, payload) = sealed.split_once('.').unwrap();
    let mut bytes: Vec<u8> = payload.bytes().collect();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{id}.{}", String::from_utf8(bytes).unwrap());

    // Same content sealed for another purpose (a refresh token can never pass for a code).
    let code = f.code(&f.confidential, "openid", Some(CHALLENGE));
    let other_purpose = f
        .ctx
        .keys()
        .sealer(shared::keys::Purpose::RefreshToken)
        .seal_json(&code)
        .unwrap();
    for text in [
        tampered.as_str(),
        other_purpose.as_str(),
        "garbage",
        "k.",
        &"x".repeat(9000),
    ] {
        let reply = f.exchange(text).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "invalid_grant"),
            "{text:.20}"
        );
    }
}

#[tokio::test]
async fn every_rfc_6749_section_5_2_error_code_is_produced_with_its_status() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid profile_read", Some(CHALLENGE)));
    let tokens = f.tokens("openid profile_read").await;
    let refresh_token = tokens.str("refresh_token");
    let pkce_less_public = f.seal(&f.code(&f.public, "openid", None));

    // (expected error, form, Authorization header, status)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<String>, u16);
    let cases: Vec<Case> = vec![
        (
            "invalid_request",
            vec![("code", &code)],
            Some(f.basic()),
            400,
        ),
        (
            "invalid_client",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
            None,
            401,
        ),
        (
            "invalid_grant",
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "not-a-token"),
            ],
            Some(f.basic()),
            400,
        ),
        (
            "unauthorized_client",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &pkce_less_public),
                ("redirect_uri", REDIRECT),
                ("client_id", f.public.id.as_str()),
            ],
            None,
            400,
        ),
        (
            "unsupported_grant_type",
            vec![("grant_type", "password")],
            Some(f.basic()),
            400,
        ),
        (
            "invalid_scope",
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
                ("scope", "openid profile_read appointment_write"),
            ],
            Some(f.basic()),
            400,
        ),
    ];
    for (expected, form, auth, status) in cases {
        let reply = post(&f.app, "/oauth/token", &form, auth.as_deref()).await;
        assert_eq!(reply.error(), expected, "{:?}", reply.body);
        assert_eq!(reply.status.as_u16(), status, "{expected}");
        assert!(reply.body["error_description"].is_string());
        assert_eq!(
            reply.headers.contains_key("www-authenticate"),
            status == 401
        );
    }
}

#[tokio::test]
async fn grant_types_other_than_code_and_refresh_are_unsupported() {
    let f = fixture().await;
    for grant_type in [
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
        "implicit",
    ] {
        let reply = post(
            &f.app,
            "/oauth/token",
            &[("grant_type", grant_type)],
            Some(&f.basic()),
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "unsupported_grant_type")
        );
    }
}
