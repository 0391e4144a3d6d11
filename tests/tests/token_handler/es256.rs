//! ES256 id_tokens for a client registered with `id_token_signed_response_alg=ES256`: the code
//! carries the client's choice (the authorization endpoint read the client), the refresh token
//! keeps it, and access tokens stay RS256 (API Gateway's authorizer verifies RSA only). Still one
//! round trip each.

use super::*;
use shared::keys::SigningAlg;
use shared::oauth::access::IdTokenClaims;

fn header(token: &str) -> jsonwebtoken::Header {
    jsonwebtoken::decode_header(token).unwrap()
}

#[tokio::test]
async fn an_es256_client_gets_es256_id_tokens_at_the_exchange_and_on_refresh() {
    let f = fixture().await;
    let code = AuthorizationCode {
        id_token_alg: SigningAlg::ES256,
        ..f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE))
    };
    let reply = f.exchange(&f.seal(&code)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(f.ctx.counter.take(), 1, "still one round trip");
    let keys = f.ctx.keys();
    let issuer = f.issuer();
    let audience = f.confidential.id.as_str();
    for reply in [&reply, &f.refresh(&reply.str("refresh_token"), None).await] {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let id_token = reply.str("id_token");
        let id = header(&id_token);
        assert_eq!(id.alg, jsonwebtoken::Algorithm::ES256);
        let kid = id.kid.unwrap();
        let jwks = keys.jwks();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the id_token key is published in the token JWKS");
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        let claims: IdTokenClaims =
            jwt::verify_id_token(&keys, &id_token, &issuer, audience).unwrap();
        assert_eq!(claims.at_hash, jwt::at_hash(&reply.str("access_token")));
        assert_eq!(
            header(&reply.str("access_token")).alg,
            jsonwebtoken::Algorithm::RS256
        );
        f.access_claims(&reply.str("access_token"));
    }
    assert_eq!(f.ctx.counter.take(), 1, "the refresh: one round trip");
}

#[tokio::test]
async fn codes_sealed_before_es256_existed_still_give_rs256_id_tokens() {
    let f = fixture().await;
    let code = f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE));
    let sealed = f.seal(&code);
    // What an older `authorize` sealed: no `id_token_alg` field at all.
    let json = serde_json::to_value(&code).unwrap();
    assert!(json.get("id_token_alg").is_none());
    let reply = f.exchange(&sealed).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        header(&reply.str("id_token")).alg,
        jsonwebtoken::Algorithm::RS256
    );
}
