//! Code exchange and client authentication (RFC 6749 §4.1.3 and §2.3.1, RFC 7636).

use shared::bearer;
use shared::oauth::access::IdTokenClaims;
use shared::repo::GrantId;
use testkit::jws::jwt_header;

use super::*;

#[tokio::test]
async fn a_code_with_pkce_is_exchanged_for_verifiable_tokens_in_exactly_one_round_trip() {
    let f = fixture().await;
    let code = f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE));
    let sealed = f.seal(&code);
    f.ctx.counter.take();
    let reply = f.exchange(&sealed).await;
    assert_eq!(f.ctx.counter.take(), 1, "a code exchange is one round trip");
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 300);
    assert_eq!(reply.body["scope"], FULL_SCOPE);
    assert!(reply.body["refresh_token"].is_string());

    // The access token passes the resource servers' own check.
    let access_token = reply.str("access_token");
    let config = &f.ctx.context.config;
    let api_request = Event::get("/api/portal/v1/appointments")
        .header("authorization", &format!("Bearer {access_token}"))
        .request();
    let claims = bearer::authenticate(
        &api_request,
        &f.ctx.keys(),
        config.issuer_str(),
        &config.api_audience,
        &["profile_read", "appointment_read"],
        false,
    )
    .unwrap();
    assert_eq!(claims.sub, f.patient.as_str());
    assert_eq!(claims.client_id, f.confidential.id.as_str());
    assert_eq!(claims.gid, code.grant_id);
    assert_eq!(claims.auth_time, code.auth_time);
    assert_eq!(claims.exp - claims.iat, 300);
    assert!(!claims.jti.is_empty());
    assert_eq!(f.access_claims(&access_token), claims);
    let header = jwt_header(&access_token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], f.ctx.keys().active_kid().unwrap());
    assert_eq!(jwt_header(&reply.str("id_token"))["typ"], "JWT");

    // The id_token is for the client, bound to the access token, and echoes the nonce.
    let id: IdTokenClaims = jwt::verify(
        &f.ctx.keys(),
        &reply.str("id_token"),
        jwt::TYP_ID_TOKEN,
        &f.issuer(),
        f.confidential.id.as_str(),
    )
    .unwrap();
    assert_eq!(id.sub, f.patient.as_str());
    assert_eq!(id.aud, f.confidential.id.as_str());
    assert_eq!(id.azp, f.confidential.id.as_str());
    assert_eq!(id.nonce.as_deref(), Some(oauth::NONCE));
    assert_eq!(id.at_hash, jwt::at_hash(&access_token));
    assert_eq!(id.auth_time, code.auth_time);
    assert_eq!(id.exp - id.iat, 300);
    assert_eq!(id.identity.email.as_deref(), Some(oauth::EMAIL));
    assert_eq!(id.identity.email_verified, Some(true));

    let grant = f
        .grants()
        .get(&GrantId::parse(&code.grant_id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.generation, 0);
    assert!(!grant.revoked);
}

#[tokio::test]
async fn a_public_client_exchanges_a_pkce_code_with_its_client_id_only() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.public, "openid appointment_read", Some(CHALLENGE)));
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", f.public.id.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        f.access_claims(&reply.str("access_token")).client_id,
        f.public.id.as_str()
    );
}

#[tokio::test]
async fn client_secret_post_works_as_well_as_client_secret_basic() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid profile_read", Some(CHALLENGE)));
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", f.confidential.id.as_str()),
            ("client_secret", &f.secret),
        ],
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let basic = f.tokens("openid profile_read").await;
    assert_eq!(basic.status, 200);
}

#[tokio::test]
async fn basic_and_a_body_secret_at_once_is_invalid_request() {
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
            ("client_secret", &f.secret),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_request")
    );

    let mismatch = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", f.other.id.as_str()),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (mismatch.status.as_u16(), mismatch.error()),
        (400, "invalid_request")
    );
}

#[tokio::test]
async fn a_wrong_secret_is_a_401_invalid_client_and_writes_no_grant() {
    let f = fixture().await;
    let code = f.code(&f.confidential, "openid profile_read", Some(CHALLENGE));
    let sealed = f.seal(&code);
    for auth in [
        basic(f.confidential.id.as_str(), "not-the-secret"),
        basic(f.confidential.id.as_str(), &f.other_secret),
    ] {
        let reply = post(
            &f.app,
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &sealed),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&auth),
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (401, "invalid_client")
        );
        assert!(reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm="));
    }
    let grant_id = GrantId::parse(&code.grant_id).unwrap();
    assert!(
        f.grants().get(&grant_id).await.unwrap().is_none(),
        "no grant written"
    );
    // The code is still good for its real client.
    assert_eq!(f.exchange(&sealed).await.status, 200);
}

#[tokio::test]
async fn a_confidential_client_presenting_no_secret_is_invalid_client() {
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
            ("client_id", f.confidential.id.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (401, "invalid_client")
    );
}

#[tokio::test]
async fn tokens_carry_how_the_patient_signed_in_and_refreshes_keep_it() {
    use shared::domain::assurance::Amr;
    let f = fixture().await;
    for (amr, acr, values) in [
        (Amr::password(), "urn:mypatientportal:loa:1", vec!["pwd"]),
        (
            Amr::password_and_code(),
            "urn:mypatientportal:loa:2",
            vec!["pwd", "otp", "mfa"],
        ),
    ] {
        let code = AuthorizationCode {
            amr,
            ..f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE))
        };
        let reply = f.exchange(&f.seal(&code)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let access = f.access_claims(&reply.str("access_token"));
        assert_eq!(access.acr.as_deref(), Some(acr));
        let id: IdTokenClaims = jwt::verify(
            &f.ctx.keys(),
            &reply.str("id_token"),
            jwt::TYP_ID_TOKEN,
            &f.issuer(),
            f.confidential.id.as_str(),
        )
        .unwrap();
        assert_eq!(id.acr, acr);
        assert_eq!(id.amr, values);

        let refreshed = f.refresh(&reply.str("refresh_token"), None).await;
        assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
        let access = f.access_claims(&refreshed.str("access_token"));
        assert_eq!(
            access.acr.as_deref(),
            Some(acr),
            "a refresh keeps the level"
        );
    }
}
