//! The `userinfo` function through real API Gateway v2 events: discovery, JWKS, UserInfo, the
//! portal profile and CORS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use shared::bearer::AccessClaims;
use shared::boot::Handler as _;
use shared::domain::patient::Patient;
use shared::i18n::Locale;
use shared::keys::Role;
use shared::repo::PatientRepo;
use shared::store::now_unix;
use testkit::api::{body, header};
use testkit::tokens::{access_claims, sign};
use testkit::{oauth, patients};
use testkit::{Event, TestContext};
use userinfo_fn::App;

const LOOPBACK_ORIGIN: &str = "http://localhost:5173";
const EVIL_ORIGIN: &str = "https://evil.example";
/// The patient's email as they typed it at sign-up (released as typed).
const EMAIL: &str = "Anna.Muster@Example.org";

/// A stored patient with a verified email and `phone`.
async fn create_patient(ctx: &TestContext, phone: Option<&str>) -> Patient {
    // German, so the released `locale` claim is not merely the default.
    let mut patient = patients::patient(EMAIL, phone).with_locale(Locale::parse("de").unwrap());
    patient.email_verified = true;
    patients::register(&ctx.store(), &patient, None).await;
    patient
}

fn claims(ctx: &TestContext, sub: &str, scope: &str) -> AccessClaims {
    access_claims(&ctx.context.config, sub, scope)
}

async fn call(ctx: &TestContext, event: Event) -> Response<Body> {
    App::new(ctx.function(Role::Userinfo))
        .handle(event.request())
        .await
}

fn challenge(response: &Response<Body>) -> &str {
    header(response, "www-authenticate")
}

async fn userinfo_with_scope(ctx: &TestContext, patient: &Patient, scope: &str) -> Value {
    let token = ctx.access_token(patient.id.as_str(), scope);
    let response = call(ctx, Event::get("/oauth/userinfo").bearer(&token)).await;
    assert_eq!(response.status(), 200, "{scope}");
    body(&response)
}

// ----- discovery and JWKS -----

#[tokio::test]
async fn discovery_has_every_required_field_and_every_endpoint_under_the_issuer() {
    let ctx = TestContext::new();
    let response = call(&ctx, Event::get("/.well-known/openid-configuration")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    let doc = body(&response);
    let issuer = "http://127.0.0.1:9000";
    assert_eq!(doc["issuer"], issuer);

    for (field, path) in oauth::ENDPOINTS {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }

    let expected = json!({
        "scopes_supported": ["openid", "profile", "email", "phone", "offline_access",
                             "profile_read", "appointment_read", "appointment_write"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "subject_types_supported": ["public"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "sid", "at_hash", "azp",
                             "name", "given_name", "family_name", "birthdate", "locale", "email",
                             "email_verified", "phone_number"],
        "ui_locales_supported": ["en", "de"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": ["urn:mypatientportal:loa:1", "urn:mypatientportal:loa:2"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
    });
    for (field, value) in expected.as_object().unwrap() {
        assert_eq!(&doc[field], value, "{field}");
    }
}

#[tokio::test]
async fn both_well_known_metadata_paths_serve_the_same_cacheable_document() {
    let ctx = TestContext::new();
    let openid = call(&ctx, Event::get("/.well-known/openid-configuration")).await;
    let rfc8414 = call(&ctx, Event::get("/.well-known/oauth-authorization-server")).await;
    assert_eq!(rfc8414.status(), 200);
    assert_eq!(body(&openid), body(&rfc8414));
    for response in [&openid, &rfc8414] {
        assert_eq!(header(response, "cache-control"), "public, max-age=300");
    }
}

#[tokio::test]
async fn the_jwks_publishes_only_public_rsa_signing_keys_and_is_cacheable() {
    let ctx = TestContext::new();
    let response = call(&ctx, Event::get("/.well-known/jwks.json")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
    let jwks = body(&response);
    // The RS256 keys (the ES256 id_token family is published beside them).
    let keys: Vec<&serde_json::Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .collect();
    // The active key, and the next one published ahead of its use.
    assert_eq!(keys.len(), 2);
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        4,
        "and the ES256 pair"
    );
    let active = ctx.keys().active_kid().unwrap().to_owned();
    assert!(keys.iter().any(|k| k["kid"] == active.as_str()));
    for key in keys {
        let key = key.as_object().unwrap();
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], "RS256");
        assert_eq!(key["e"], "AQAB");
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(key["n"].as_str().unwrap())
                .unwrap()
                .len(),
            256
        );
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(!key.contains_key(private), "private member {private}");
        }
        let mut members: Vec<&str> = key.keys().map(String::as_str).collect();
        members.sort_unstable();
        assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    }
}

#[tokio::test]
async fn the_video_jwks_is_a_separate_set_of_public_ec_keys() {
    let ctx = TestContext::new();
    let token_kids: Vec<Value> = body(&call(&ctx, Event::get("/.well-known/jwks.json")).await)
        ["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    let response = call(&ctx, Event::get("/.well-known/video-jwks.json")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
    let jwks = body(&response);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "active and next");
    for key in keys {
        let key = key.as_object().unwrap();
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["crv"], "P-256");
        assert_eq!(key["alg"], "ES256");
        assert!(!key.contains_key("d"), "no private member");
        assert!(
            !token_kids.contains(&key["kid"]),
            "shared with the token JWKS"
        );
    }
}

#[tokio::test]
async fn after_a_rotation_the_jwks_publishes_old_active_and_next_kids_and_old_tokens_still_work() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let old_kid = ctx.keys().active_kid().unwrap().to_owned();
    let old_token = ctx.access_token(patient.id.as_str(), "openid");

    let rotated = ctx.rotated();
    let new_kid = rotated.keys.current().active_kid().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    let app = App::new(ctx.function(Role::Userinfo));

    let jwks = body(
        &app.handle(Event::get("/.well-known/jwks.json").request())
            .await,
    );
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    // The retired key (its tokens still live), the active one, and the one the next rotation
    // activates.
    assert_eq!(kids.len(), 3, "{kids:?}");
    assert!(kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()));

    let new_token = sign(
        &rotated.keys.current(),
        &claims(&ctx, patient.id.as_str(), "openid"),
    );
    for token in [&old_token, &new_token] {
        let response = app
            .handle(Event::get("/oauth/userinfo").bearer(token).request())
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(body(&response)["sub"], patient.id.as_str());
    }
}

// ----- UserInfo: where the token may come from -----

#[tokio::test]
async fn userinfo_answers_a_get_with_the_token_in_the_authorization_header() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(patient.id.as_str(), "openid");
    let response = call(&ctx, Event::get("/oauth/userinfo").bearer(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(body(&response), json!({ "sub": patient.id.as_str() }));
}

#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_authorization_header() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(patient.id.as_str(), "openid email");
    let response = call(&ctx, Event::post("/oauth/userinfo").bearer(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(body(&response)["email"], "Anna.Muster@Example.org");
}

#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_form_body() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(patient.id.as_str(), "openid");
    let response = call(
        &ctx,
        Event::post("/oauth/userinfo").form(&[("access_token", &token)]),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(body(&response)["sub"], patient.id.as_str());
}

#[tokio::test]
async fn a_token_in_the_query_string_is_not_accepted() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(patient.id.as_str(), "openid");
    let response = call(
        &ctx,
        Event::get(&format!("/oauth/userinfo?access_token={token}")),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).starts_with("Bearer realm="));
}

#[tokio::test]
async fn a_request_without_a_token_gets_401_and_a_bearer_challenge() {
    let ctx = TestContext::new();
    for event in [
        Event::get("/oauth/userinfo"),
        Event::post("/oauth/userinfo"),
    ] {
        let response = call(&ctx, event).await;
        assert_eq!(response.status(), 401);
        // CONTRACT.md: every 401 names `invalid_token`, so clients know to re-authenticate.
        let challenge = challenge(&response);
        assert!(
            challenge.starts_with("Bearer realm=\"MyPatientPortal\""),
            "{challenge}"
        );
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert_eq!(body(&response)["error"], "invalid_token");
        assert_eq!(header(&response, "cache-control"), "no-store");
    }
}

// ----- UserInfo: which tokens are refused -----

async fn assert_invalid_token(ctx: &TestContext, token: &str, why: &str) {
    let response = call(ctx, Event::get("/oauth/userinfo").bearer(token)).await;
    assert_eq!(response.status(), 401, "{why}");
    assert!(
        challenge(&response).contains("error=\"invalid_token\""),
        "{why}: {}",
        challenge(&response)
    );
    assert_eq!(body(&response)["error"], "invalid_token", "{why}");
}

#[tokio::test]
async fn expired_forged_and_unsigned_tokens_are_invalid_tokens() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let sub = patient.id.as_str();

    let expired = AccessClaims {
        exp: now_unix() - 120,
        ..claims(&ctx, sub, "openid")
    };
    let expired = sign(&ctx.keys(), &expired);
    assert_invalid_token(&ctx, &expired, "expired").await;

    // Same header and signature, different claims: the signature no longer matches.
    let good = ctx.access_token(sub, "openid");
    let parts: Vec<&str> = good.split('.').collect();
    let mut widened = claims(&ctx, sub, "openid profile email phone");
    widened.exp += 1;
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&widened).unwrap());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_invalid_token(&ctx, &forged, "forged signature").await;

    // Signed by a key this server never issued, under a kid it knows.
    let stranger = testkit::tokens::foreign_keys();
    let foreign = sign(&stranger, &claims(&ctx, sub, "openid"));
    let foreign_parts: Vec<&str> = foreign.split('.').collect();
    let spliced = format!("{}.{}.{}", parts[0], foreign_parts[1], foreign_parts[2]);
    assert_invalid_token(&ctx, &spliced, "signature by another key").await;

    // `alg: none` with our kid and no signature.
    let header = json!({ "alg": "none", "typ": "at+jwt", "kid": ctx.keys().active_kid().unwrap() });
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(&ctx, sub, "openid")).unwrap())
    );
    assert_invalid_token(&ctx, &unsigned, "alg none").await;

    // An id_token (typ JWT) is not an access token.
    let id_token = ctx
        .keys()
        .sign_jwt("JWT", &claims(&ctx, sub, "openid"))
        .unwrap();
    assert_invalid_token(&ctx, &id_token, "id_token").await;
}

#[tokio::test]
async fn a_token_without_openid_is_forbidden_with_insufficient_scope() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(patient.id.as_str(), "profile email profile_read");
    let response = call(&ctx, Event::get("/oauth/userinfo").bearer(&token)).await;
    assert_eq!(response.status(), 403);
    let challenge = challenge(&response);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.ends_with("scope=\"openid\""), "{challenge}");
    assert_eq!(body(&response)["error"], "insufficient_scope");
}

#[tokio::test]
async fn a_token_whose_patient_no_longer_exists_is_an_invalid_token() {
    let ctx = TestContext::new();
    let token = ctx.access_token("NoSuchPatient000000000000000", "openid profile_read");
    for event in [
        Event::get("/oauth/userinfo"),
        Event::get("/api/portal/v1/profile"),
    ] {
        let response = call(&ctx, event.bearer(&token)).await;
        assert_eq!(response.status(), 401);
        assert!(challenge(&response).starts_with(
            "Bearer realm=\"MyPatientPortal\", error=\"invalid_token\", error_description=\""
        ));
        assert_eq!(body(&response)["error"], "invalid_token");
    }
}

// ----- UserInfo: which claims each scope releases -----

#[tokio::test]
async fn the_profile_scope_releases_exactly_the_name_birth_date_and_locale_claims() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, Some("+49 30 1234567")).await;
    assert_eq!(
        userinfo_with_scope(&ctx, &patient, "openid profile").await,
        json!({
            "sub": patient.id.as_str(),
            "name": "Anna Muster",
            "given_name": "Anna",
            "family_name": "Muster",
            "birthdate": "1985-02-28",
            "locale": "de",
        })
    );
}

#[tokio::test]
async fn the_email_scope_releases_exactly_the_email_claims() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, Some("+49 30 1234567")).await;
    assert_eq!(
        userinfo_with_scope(&ctx, &patient, "openid email").await,
        json!({
            "sub": patient.id.as_str(),
            "email": "Anna.Muster@Example.org",
            "email_verified": true,
        })
    );
}

#[tokio::test]
async fn the_phone_scope_releases_the_phone_number_only_when_there_is_one() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, Some("+49 30 1234567")).await;
    assert_eq!(
        userinfo_with_scope(&ctx, &patient, "openid phone").await,
        json!({ "sub": patient.id.as_str(), "phone_number": "+49301234567" })
    );

    let other = TestContext::new();
    let without_phone = create_patient(&other, None).await;
    assert_eq!(
        userinfo_with_scope(&other, &without_phone, "openid phone").await,
        json!({ "sub": without_phone.id.as_str() })
    );
}

#[tokio::test]
async fn all_identity_scopes_release_every_claim_and_portal_scopes_release_none() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, Some("+49 30 1234567")).await;
    assert_eq!(
        userinfo_with_scope(
            &ctx,
            &patient,
            "openid profile email phone offline_access profile_read appointment_read"
        )
        .await,
        json!({
            "sub": patient.id.as_str(),
            "name": "Anna Muster",
            "given_name": "Anna",
            "family_name": "Muster",
            "birthdate": "1985-02-28",
            "locale": "de",
            "email": "Anna.Muster@Example.org",
            "email_verified": true,
            "phone_number": "+49301234567",
        })
    );
    assert_eq!(
        userinfo_with_scope(&ctx, &patient, "openid profile_read appointment_write").await,
        json!({ "sub": patient.id.as_str() })
    );
}

// ----- the portal profile -----

#[tokio::test]
async fn the_profile_endpoint_returns_the_token_owners_own_profile() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, Some("+49 30 1234567")).await;
    let token = ctx.access_token(patient.id.as_str(), "profile_read");
    let response = call(&ctx, Event::get("/api/portal/v1/profile").bearer(&token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(
        body(&response),
        json!({
            "id": patient.id.as_str(),
            "first_name": "Anna",
            "last_name": "Muster",
            "email": "Anna.Muster@Example.org",
            "email_verified": true,
            "birth_date": "1985-02-28",
            "phone": "+49301234567",
            "locale": "de",
        })
    );
    // The language the patient switches to on the account page.
    PatientRepo::new(ctx.store())
        .set_locale(&patient.id, Locale::ENGLISH)
        .await
        .unwrap();
    let response = call(&ctx, Event::get("/api/portal/v1/profile").bearer(&token)).await;
    assert_eq!(body(&response)["locale"], "en");
}

#[tokio::test]
async fn the_profile_endpoint_needs_profile_read() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(
        patient.id.as_str(),
        "openid profile email phone appointment_read",
    );
    let response = call(&ctx, Event::get("/api/portal/v1/profile").bearer(&token)).await;
    assert_eq!(response.status(), 403);
    assert!(challenge(&response).ends_with("scope=\"profile_read\""));

    let missing = call(&ctx, Event::get("/api/portal/v1/profile")).await;
    assert_eq!(missing.status(), 401);
}

#[tokio::test]
async fn userinfo_and_profile_cost_exactly_one_store_round_trip_and_refusals_none() {
    let ctx = TestContext::new();
    let patient = create_patient(&ctx, Some("+49 30 1234567")).await;
    let token = ctx.access_token(
        patient.id.as_str(),
        "openid profile email phone profile_read",
    );
    let app = App::new(ctx.function(Role::Userinfo));
    ctx.counter.take();

    for event in [
        Event::get("/oauth/userinfo").bearer(&token),
        Event::post("/oauth/userinfo").form(&[("access_token", &token)]),
        Event::get("/api/portal/v1/profile").bearer(&token),
    ] {
        let response = app.handle(event.request()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(ctx.counter.take(), 1);
    }

    let refused = app
        .handle(Event::get("/api/portal/v1/profile").request())
        .await;
    assert_eq!(refused.status(), 401);
    let discovery = app
        .handle(Event::get("/.well-known/openid-configuration").request())
        .await;
    assert_eq!(discovery.status(), 200);
    assert_eq!(ctx.counter.take(), 0);
}

// ----- CORS -----

fn preflight(path: &str, origin: &str, method: &str) -> Event {
    Event::preflight(path, origin, method).header("access-control-request-headers", "authorization")
}

#[tokio::test]
async fn a_preflight_from_a_loopback_origin_is_allowed() {
    let ctx = TestContext::new();
    for (path, method) in [
        ("/oauth/userinfo", "POST"),
        ("/oauth/userinfo", "GET"),
        ("/api/portal/v1/profile", "GET"),
        ("/.well-known/jwks.json", "GET"),
    ] {
        let response = call(&ctx, preflight(path, LOOPBACK_ORIGIN, method)).await;
        assert_eq!(response.status(), 204, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            LOOPBACK_ORIGIN
        );
        assert!(header(&response, "access-control-allow-methods").contains(method));
        assert!(header(&response, "access-control-allow-headers").contains("authorization"));
        assert_eq!(header(&response, "access-control-max-age"), "600");
        assert!(!response
            .headers()
            .contains_key("access-control-allow-credentials"));
    }
}

#[tokio::test]
async fn a_preflight_from_another_origin_gets_no_cors_headers() {
    let ctx = TestContext::new();
    let response = call(&ctx, preflight("/oauth/userinfo", EVIL_ORIGIN, "GET")).await;
    assert_eq!(response.status(), 204);
    let cors_headers: Vec<&str> = response
        .headers()
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("access-control-"))
        .collect();
    assert!(cors_headers.is_empty(), "{cors_headers:?}");

    // A GET from that origin is answered, but the browser is not allowed to read it.
    let patient = create_patient(&ctx, None).await;
    let token = ctx.access_token(patient.id.as_str(), "openid");
    let response = call(
        &ctx,
        Event::get("/oauth/userinfo")
            .header("origin", EVIL_ORIGIN)
            .bearer(&token),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn discovery_requested_from_a_loopback_origin_carries_cors_headers() {
    let ctx = TestContext::new();
    let response = call(
        &ctx,
        Event::get("/.well-known/openid-configuration").header("origin", LOOPBACK_ORIGIN),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        LOOPBACK_ORIGIN
    );
    assert_eq!(header(&response, "vary"), "Origin");
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
}

#[tokio::test]
async fn a_refusal_seen_by_a_browser_app_exposes_its_challenge() {
    let ctx = TestContext::new();
    let response = call(
        &ctx,
        Event::get("/oauth/userinfo").header("origin", "http://127.0.0.1:3000"),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        "http://127.0.0.1:3000"
    );
    assert!(header(&response, "access-control-expose-headers").contains("www-authenticate"));
}

#[tokio::test]
async fn the_api_docs_routes_answer_and_other_methods_are_405() {
    // More on the documentation in api_docs_handler.rs.
    let ctx = TestContext::new();
    for path in ["/api-docs", "/api-docs/openapi.json"] {
        assert_eq!(call(&ctx, Event::get(path)).await.status(), 200, "{path}");
        let post = call(&ctx, Event::post(path)).await;
        assert_eq!(post.status(), 405, "{path}");
        assert_eq!(header(&post, "allow"), "GET", "{path}");
    }
    let response = call(&ctx, Event::new("DELETE", "/oauth/userinfo")).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "GET, POST");
    // An OPTIONS that is not a preflight is routed like any other method.
    let plain = call(&ctx, Event::new("OPTIONS", "/oauth/userinfo")).await;
    assert_eq!(plain.status(), 405);
}
