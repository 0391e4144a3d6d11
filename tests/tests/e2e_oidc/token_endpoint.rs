//! The token endpoint through the library: code reuse, `client_secret_post`, refresh, public
//! clients.

use openidconnect::AuthType;
use serde_json::json;

use super::*;

/// oidcc-codereuse.
#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_the_first_access_token() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], no_tweak);
    let browser = rp.e2e.browser();
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let code = rp.code(&started, &redirect);
    let first = rp.exchange(&code, &started.verifier).await.unwrap();
    rp.verify(&first, Some(&started.nonce));
    let second = rp.exchange(&code, &started.verifier).await;
    assert_eq!(oauth_error(second), CoreErrorResponseType::InvalidGrant);

    let introspection: Value = rp
        .http
        .post(rp.e2e.url("/oauth/introspect"))
        .basic_auth(&rp.client.id, rp.client.secret.as_deref())
        .form(&[("token", first.access_token().secret())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection, json!({"active": false}));
}

/// oidcc-client-secret-post.
#[tokio::test]
async fn client_secret_post_works_with_the_library() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], no_tweak);
    let browser = rp.e2e.browser();
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let code = rp.code(&started, &redirect);
    let post = rp.oidc.clone().set_auth_type(AuthType::RequestBody);
    let tokens = post
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(started.verifier.clone()))
        .request_async(&rp.http)
        .await
        .expect("client_secret_post exchange");
    rp.verify(&tokens, Some(&started.nonce));
}

/// oidcc-refresh-token.
#[tokio::test]
async fn a_refresh_returns_a_new_id_token_the_library_verifies() {
    let rp = Rp::confidential().await;
    let signed = rp
        .sign_in(&rp.e2e.browser(), &["offline_access", "email"], no_tweak)
        .await;
    let refresh = signed.tokens.refresh_token().expect("offline_access");
    let refreshed = rp
        .oidc
        .exchange_refresh_token(refresh)
        .unwrap()
        .request_async(&rp.http)
        .await
        .expect("refresh");
    let verifier = rp.oidc.id_token_verifier();
    let id_token = refreshed.id_token().expect("a new id_token");
    assert_ne!(id_token.to_string(), signed.id_token_text());
    let claims = id_token
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .expect("the library accepts the refreshed id_token");
    // OIDC Core §12.2: same subject, issuer, client and auth_time as the original.
    assert_eq!(claims.subject(), signed.claims.subject());
    assert_eq!(claims.issuer(), signed.claims.issuer());
    assert_eq!(claims.audiences(), signed.claims.audiences());
    assert_eq!(claims.auth_time(), signed.claims.auth_time());
    assert_eq!(claims.email(), signed.claims.email());
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        refresh.secret(),
        "rotated"
    );
    let info = rp.userinfo(refreshed.access_token()).await;
    assert_eq!(info.subject().as_str(), rp.patient.id);
}

/// oidcc-ensure-pkce-code-verifier-valid (valid PKCE with a public client).
#[tokio::test]
async fn a_public_client_with_a_valid_pkce_verifier_succeeds() {
    let rp = Rp::public().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["profile"], no_tweak).await;
    assert_eq!(
        signed
            .claims
            .given_name()
            .and_then(|n| n.get(None))
            .unwrap()
            .as_str(),
        rp.patient.given_name
    );
    // The same request with a wrong verifier fails.
    let started = rp.start(&[], no_tweak);
    let browser = rp.e2e.browser();
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let code = rp.code(&started, &redirect);
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    let refused = rp.exchange(&code, wrong.secret()).await;
    assert_eq!(oauth_error(refused), CoreErrorResponseType::InvalidGrant);
}
