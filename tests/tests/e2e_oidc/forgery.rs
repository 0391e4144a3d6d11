//! Forged tokens, and key rotation.

use openidconnect::core::{CoreIdTokenVerifier, CoreJsonWebKeySet};
use serde_json::json;
use shared::keys::Role;
use testkit::jws::{jwt_claims, jwt_header, unsigned_jwt, with_claims};
use testkit::{oauth, Event, TestContext};

use super::*;

/// `alg: none` and forged signatures are refused at the UserInfo endpoint of the running server.
#[tokio::test]
async fn unsigned_forged_and_foreign_tokens_are_refused_at_userinfo() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let genuine = signed.tokens.access_token().secret().clone();
    let victim = rp.e2e.patient().await;

    let mut claims = jwt_claims(&genuine);
    claims["sub"] = json!(victim.id);
    let forged = with_claims(&genuine, &claims);
    let unsigned = unsigned_jwt(&jwt_header(&genuine), &jwt_claims(&genuine));
    let foreign_keys = testkit::tokens::foreign_keys();
    let foreign = foreign_keys
        .sign_jwt("at+jwt", &jwt_claims(&genuine))
        .unwrap();
    for (what, token) in [
        ("alg none", unsigned),
        ("forged claims", forged),
        ("foreign key", foreign),
    ] {
        let response = rp
            .http
            .get(rp.e2e.url("/oauth/userinfo"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("invalid_token"), "{what}: {challenge}");
    }
    // The genuine token still works.
    let (status, body) = rp
        .userinfo_raw(
            rp.http
                .get(rp.e2e.url("/oauth/userinfo"))
                .bearer_auth(&genuine),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Key rotation, at handler level (rotating the shared server's keys would disturb parallel
/// tests): tokens issued by the real token function before `KeyMaterial::rotate` still verify
/// after it — the access token at UserInfo, the id_token with the library against the new JWKS.
#[tokio::test]
async fn tokens_signed_by_the_previous_key_still_verify_after_a_rotation() {
    let ctx = TestContext::new();
    let (client, secret) = ctx.client().await;
    let patient = ctx.patient().await;

    // Tokens from the token function with the keys before the rotation.
    let response = token_fn::App::new(ctx.function(Role::Token))
        .handle(
            Event::post("/oauth/token")
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &ctx.code(&client, &patient, "openid email")),
                    ("redirect_uri", oauth::REDIRECT),
                    ("code_verifier", oauth::VERIFIER),
                ])
                .header("authorization", &oauth::basic(client.id.as_str(), &secret))
                .request(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let old_kid = ctx.keys().active_kid().unwrap().to_owned();
    assert_eq!(jwt_header(&id_token)["kid"], old_kid.as_str());

    // Rotate, and serve from a context built on the rotated material.
    let rotated = ctx.rotated();
    let new_kid = rotated.keys.current().active_kid().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let userinfo = userinfo_fn::App::new(ctx.function(Role::Userinfo));

    let response = userinfo
        .handle(
            Event::get("/oauth/userinfo")
                .header("authorization", &format!("Bearer {access_token}"))
                .request(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let info: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(info["sub"], patient.id.as_str());

    let response = userinfo
        .handle(Event::get("/.well-known/jwks.json").request())
        .await;
    assert_eq!(response.status(), 200);
    let jwks: CoreJsonWebKeySet = serde_json::from_slice(response.body().as_ref()).unwrap();
    let kids: BTreeSet<String> = jwks
        .keys()
        .iter()
        .filter_map(|k| {
            use openidconnect::JsonWebKey as _;
            k.key_id().map(|id| id.as_str().to_owned())
        })
        .collect();
    assert!(kids.contains(&old_kid) && kids.contains(&new_kid));
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client.id.to_string()),
        IssuerUrl::new(ctx.context.config.issuer_str().to_owned()).unwrap(),
        jwks,
    );
    let parsed = CoreIdToken::from_str(&id_token).unwrap();
    let claims = parsed
        .claims(&verifier, &Nonce::new(oauth::NONCE.into()))
        .expect("an id_token of the previous key verifies against the rotated JWKS");
    assert_eq!(claims.subject().as_str(), patient.id.as_str());

    // New tokens are signed with the new key.
    let fresh = rotated
        .keys
        .current()
        .sign_jwt("JWT", &jwt_claims(&id_token))
        .unwrap();
    assert_eq!(jwt_header(&fresh)["kid"], new_kid.as_str());
    let fresh = CoreIdToken::from_str(&fresh).unwrap();
    assert!(fresh
        .claims(&verifier, &Nonce::new(oauth::NONCE.into()))
        .is_ok());
}
