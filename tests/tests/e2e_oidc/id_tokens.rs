//! Conformance plans oidcc-server, idtoken-signature and nonce: the id_token the library verifies
//! from discovery and the JWKS.

use openidconnect::ClaimsVerificationError;
use serde_json::json;
use testkit::jws::{jwt_claims, jwt_header, unsigned_jwt, with_claims};

use super::*;

/// oidcc-server.
#[tokio::test]
async fn the_code_flow_yields_an_id_token_the_library_verifies_from_discovery_and_jwks() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &[], no_tweak).await;
    assert_eq!(
        signed.claims.audiences(),
        &vec![openidconnect::Audience::new(rp.client.id.clone())]
    );
    assert_eq!(jwt_header(&signed.id_token_text())["alg"], "RS256");
    let scopes: Vec<String> = signed
        .tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["openid"]);
    let info = rp.userinfo(signed.tokens.access_token()).await;
    assert_eq!(info.subject().as_str(), rp.patient.id);
}

/// oidcc-idtoken-signature.
#[tokio::test]
async fn the_library_verifies_the_id_token_signature_and_rejects_a_tampered_token() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let original = signed.id_token_text();
    let verifier = rp.oidc.id_token_verifier();
    let accept_any_nonce = |_: Option<&Nonce>| Ok(());

    // Claims changed under the original signature.
    let mut claims = jwt_claims(&original);
    claims["sub"] = json!("someone-else");
    let tampered = CoreIdToken::from_str(&with_claims(&original, &claims)).unwrap();
    assert!(matches!(
        tampered.claims(&verifier, accept_any_nonce),
        Err(ClaimsVerificationError::SignatureVerification(_))
    ));

    // The signature itself altered.
    let mut parts: Vec<String> = original.split('.').map(str::to_owned).collect();
    let flipped = if parts[2].starts_with('A') { "B" } else { "A" };
    parts[2].replace_range(0..1, flipped);
    let bad_signature = CoreIdToken::from_str(&parts.join(".")).unwrap();
    assert!(bad_signature.claims(&verifier, accept_any_nonce).is_err());

    // Unsigned.
    let unsigned = unsigned_jwt(&jwt_header(&original), &jwt_claims(&original));
    let refused = CoreIdToken::from_str(&unsigned)
        .map(|token| token.claims(&verifier, accept_any_nonce).is_err())
        .unwrap_or(true);
    assert!(refused, "an alg=none id_token must not verify");

    // The genuine token verifies, and only with the nonce it was issued for.
    assert!(signed
        .id_token()
        .claims(&verifier, &Nonce::new("another nonce".into()))
        .is_err());
    assert!(signed
        .id_token()
        .claims(&verifier, accept_any_nonce)
        .is_ok());
}

/// oidcc-ensure-request-without-nonce-succeeds-for-code-flow.
#[tokio::test]
async fn a_request_without_a_nonce_succeeds_and_its_id_token_has_no_nonce() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], no_tweak);
    let mut url = started.url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(name, _)| name != "nonce")
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    let browser = rp.e2e.browser();
    let landing = browser.open(url.as_str()).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let code = rp.code(&started, &redirect);
    let tokens = rp.exchange(&code, &started.verifier).await.unwrap();
    let claims = rp.verify(&tokens, None);
    assert!(claims.nonce().is_none());
}
