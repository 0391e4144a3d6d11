//! The discovery document.

use testkit::oauth;

use super::*;

/// oidcc-discovery-endpoint-verification.
#[tokio::test]
async fn discovery_has_every_required_field_and_the_issuer_matches() {
    let e2e = E2e::new().await;
    let http = http_client();
    let issuer = e2e.issuer();
    let response = http
        .get(e2e.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()["cache-control"].to_str().unwrap();
    assert!(
        cache.contains("public") && cache.contains("max-age"),
        "{cache}"
    );
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["issuer"], issuer);
    for (field, path) in oauth::ENDPOINTS {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    let list = |field: &str| -> BTreeSet<String> {
        doc[field]
            .as_array()
            .unwrap_or_else(|| panic!("{field} is not a list"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(list("scopes_supported").is_superset(&set(oauth::SCOPES)));
    assert_eq!(list("response_types_supported"), set(&["code"]));
    assert!(
        list("grant_types_supported").is_superset(&set(&["authorization_code", "refresh_token"]))
    );
    assert_eq!(list("code_challenge_methods_supported"), set(&["S256"]));
    assert!(list("subject_types_supported").contains("public"));
    assert!(list("id_token_signing_alg_values_supported").contains("RS256"));
    assert!(list("token_endpoint_auth_methods_supported")
        .is_superset(&set(&["client_secret_basic", "client_secret_post"])));
    assert!(list("claims_supported").is_superset(&set(IDENTITY_CLAIMS)));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);

    // RFC 8414 serves the same metadata.
    let oauth: Value = http
        .get(e2e.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(oauth, doc);

    // The library accepts it (it checks the issuer and fetches the JWKS).
    let metadata = discover(&e2e, &http).await;
    assert_eq!(metadata.issuer().as_str(), issuer);
    assert!(!metadata.jwks().keys().is_empty());
    let jwks: Value = http
        .get(e2e.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        // RS256 keys, and the ES256 id_token keys of clients registered for them.
        match key["kty"].as_str() {
            Some("RSA") => assert_eq!(key["alg"], "RS256"),
            _ => assert_eq!(
                (key["kty"].as_str(), key["alg"].as_str()),
                (Some("EC"), Some("ES256"))
            ),
        }
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].is_string());
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "private member {private}");
        }
    }
}
