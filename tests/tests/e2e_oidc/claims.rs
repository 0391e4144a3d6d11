//! Which claims each scope releases.

use serde_json::json;
use testkit::jws::jwt_claims;

use super::*;

/// Signs in with `scopes` and checks that the id_token and UserInfo carry exactly `expected` of the
/// identity claims, with the patient's values.
async fn assert_claims_for(scopes: &[&str], expected: &[&str]) {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), scopes, no_tweak).await;
    let id_claims = jwt_claims(&signed.id_token_text());
    assert_eq!(identity_claims_of(&id_claims), set(expected), "id_token");
    let response = rp
        .http
        .get(rp.e2e.url("/oauth/userinfo"))
        .bearer_auth(signed.tokens.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let userinfo: Value = response.json().await.unwrap();
    assert_eq!(identity_claims_of(&userinfo), set(expected), "userinfo");
    assert_eq!(userinfo["sub"], rp.patient.id.as_str());

    // The values, as the library reads them.
    let info = rp.userinfo(signed.tokens.access_token()).await;
    let p = &rp.patient;
    let full_name = format!("{} {}", p.given_name, p.family_name);
    for claims in [&id_claims, &userinfo] {
        for name in expected {
            let want = match *name {
                "name" => json!(full_name),
                "given_name" => json!(p.given_name),
                "family_name" => json!(p.family_name),
                "birthdate" => json!(p.birthdate),
                // The test patients keep the default language.
                "locale" => json!("en"),
                "email" => json!(p.email),
                "email_verified" => json!(true),
                "phone_number" => json!(p.phone),
                other => panic!("unexpected claim {other}"),
            };
            assert_eq!(claims[*name], want, "{name}");
        }
    }
    if expected.contains(&"name") {
        let name = signed.claims.name().and_then(|n| n.get(None)).unwrap();
        assert_eq!(name.as_str(), full_name);
        assert_eq!(
            info.given_name()
                .and_then(|n| n.get(None))
                .unwrap()
                .as_str(),
            p.given_name
        );
    }
    if expected.contains(&"email") {
        assert_eq!(signed.claims.email().unwrap().as_str(), p.email);
        assert_eq!(info.email_verified(), Some(true));
    }
    if expected.contains(&"phone_number") {
        assert_eq!(signed.claims.phone_number().unwrap().as_str(), p.phone);
    }
}

/// oidcc-scope-profile.
#[tokio::test]
async fn the_profile_scope_releases_exactly_the_profile_claims() {
    assert_claims_for(
        &["profile"],
        &["name", "given_name", "family_name", "birthdate", "locale"],
    )
    .await;
}

/// oidcc-scope-email.
#[tokio::test]
async fn the_email_scope_releases_exactly_the_email_claims() {
    assert_claims_for(&["email"], &["email", "email_verified"]).await;
}

/// oidcc-scope-phone.
#[tokio::test]
async fn the_phone_scope_releases_exactly_the_phone_number() {
    assert_claims_for(&["phone"], &["phone_number"]).await;
}

/// oidcc-scope-all.
#[tokio::test]
async fn all_identity_scopes_release_every_identity_claim() {
    assert_claims_for(&["profile", "email", "phone"], IDENTITY_CLAIMS).await;
}

/// openid alone releases no identity claim.
#[tokio::test]
async fn openid_alone_releases_only_the_subject() {
    assert_claims_for(&[], &[]).await;
}
