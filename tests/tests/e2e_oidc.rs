//! End-to-end tests of OpenID Connect (issue 4) through `cargo lambda watch`, with a stock relying
//! party library (`openidconnect`) that learns everything from the discovery document and verifies
//! id_tokens against the published JWKS. The tests follow the OpenID conformance suite's "Basic OP"
//! plan (test names in each test's comment), plus RP-initiated logout and key rotation.
//!
//! Every test registers its own client and patient, so the tests run in parallel on one server.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreErrorResponseType,
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreProviderMetadata, CoreResponseType, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError,
    IssuerUrl, LoginHint, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, StandardErrorResponse, SubjectIdentifier, TokenResponse,
};
use portal_tests::browser::{Browser, Decision};
use portal_tests::context::TestContext;
use portal_tests::e2e::{
    code_from, error_from, expect_app, expect_page, finish_sign_in, http_client, jwt_claims,
    jwt_header, poll_until, prefilled_email, query_params, unsigned_jwt, with_claims, E2e,
    TestClient, TestPatient,
};
use portal_tests::events::Event;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::boot::Handler as _;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::{BirthDate, Email, Name, Patient};
use shared::keys::KeySet;
use shared::oauth::claims::IdentityClaims;
use shared::oauth::code::AuthorizationCode as SealedCode;
use shared::repo::{ClientRepo, GrantId, PatientRepo};
use shared::scope::Scopes;
use shared::store::now_unix;
use url::Url;

/// The client the library builds from discovery: authorization endpoint set; token and userinfo
/// endpoints "maybe" set (they come from the document).
type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

type AuthRequest<'a> =
    openidconnect::AuthorizationRequest<'a, CoreAuthDisplay, CoreAuthPrompt, CoreResponseType>;

type TokenError = RequestTokenError<
    HttpClientError<reqwest::Error>,
    StandardErrorResponse<CoreErrorResponseType>,
>;

/// Every identity claim a scope can release (OIDC Core §5.4).
const IDENTITY_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "locale",
    "email",
    "email_verified",
    "phone_number",
];

/// A relying party: discovery, its client, and the test's patient.
struct Rp {
    e2e: E2e,
    client: TestClient,
    oidc: OidcClient,
    http: reqwest::Client,
    patient: TestPatient,
}

/// An authorization request as the library built it.
struct Started {
    url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: String,
}

/// A completed sign-in: the token response and the id_token's verified claims.
struct SignedIn {
    tokens: CoreTokenResponse,
    claims: CoreIdTokenClaims,
}

impl SignedIn {
    fn id_token(&self) -> &CoreIdToken {
        self.tokens.id_token().expect("an id_token")
    }

    fn id_token_text(&self) -> String {
        self.id_token().to_string()
    }
}

async fn discover(e2e: &E2e, http: &reqwest::Client) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(e2e.issuer().to_owned()).unwrap();
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .expect("discovery")
}

impl Rp {
    /// A confidential client (`client_secret_basic`) set up from discovery, and a patient.
    async fn confidential() -> Rp {
        let e2e = E2e::new().await;
        let client = e2e.confidential_client().await;
        Self::with(e2e, client).await
    }

    /// A public client (PKCE, no secret) set up from discovery, and a patient.
    async fn public() -> Rp {
        let e2e = E2e::new().await;
        let client = e2e.public_client().await;
        Self::with(e2e, client).await
    }

    async fn with(e2e: E2e, client: TestClient) -> Rp {
        let http = http_client();
        let metadata = discover(&e2e, &http).await;
        let oidc = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client.id.clone()),
            client.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());
        let patient = e2e.patient().await;
        Rp {
            e2e,
            client,
            oidc,
            http,
            patient,
        }
    }

    /// An authorization request for `scopes` (plus `openid`) with state, nonce and PKCE S256,
    /// adjusted by `tweak`.
    fn start(&self, scopes: &[&str], tweak: impl FnOnce(AuthRequest) -> AuthRequest) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = self
            .oidc
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge);
        let (url, state, nonce) = tweak(request).url();
        Started {
            url,
            state,
            nonce,
            verifier: verifier.secret().clone(),
        }
    }

    /// The code of a successful authorization response to `started`.
    fn code(&self, started: &Started, redirect: &Url) -> String {
        code_from(
            redirect,
            &self.client.redirect_uri,
            Some(started.state.secret()),
            self.e2e.issuer(),
        )
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<CoreTokenResponse, TokenError> {
        self.oidc
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint from discovery")
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
    }

    /// Exchanges the code of `redirect` and verifies the id_token with the library: signature
    /// against the JWKS, `iss`, `aud`, `exp`, the nonce, and `at_hash` against the access token.
    async fn finish(&self, started: &Started, redirect: &Url) -> SignedIn {
        let code = self.code(started, redirect);
        let tokens = self
            .exchange(&code, &started.verifier)
            .await
            .expect("code exchange");
        let claims = self.verify(&tokens, Some(&started.nonce));
        SignedIn { tokens, claims }
    }

    /// Verifies the id_token of `tokens` (expecting `nonce`, or no nonce claim at all).
    fn verify(&self, tokens: &CoreTokenResponse, nonce: Option<&Nonce>) -> CoreIdTokenClaims {
        let id_token = tokens.id_token().expect("an id_token with openid");
        let verifier = self.oidc.id_token_verifier();
        let claims = match nonce {
            Some(nonce) => id_token.claims(&verifier, nonce),
            None => id_token.claims(&verifier, |n: Option<&Nonce>| match n {
                None => Ok(()),
                Some(_) => Err("a nonce claim that was never sent".to_owned()),
            }),
        }
        .expect("the library accepts the id_token")
        .clone();
        assert_eq!(claims.subject().as_str(), self.patient.id);
        assert_eq!(claims.issuer().as_str(), self.e2e.issuer());
        assert!(claims.auth_time().is_some(), "auth_time");
        assert_eq!(
            claims.authorized_party().map(|p| p.as_str()),
            Some(self.client.id.as_str())
        );
        let expected_hash = claims.access_token_hash().expect("at_hash");
        let actual_hash = AccessTokenHash::from_token::<CoreJsonWebKey>(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(expected_hash, &actual_hash, "at_hash");
        claims
    }

    /// A whole sign-in in `browser` (login and consent pages as they come).
    async fn sign_in(
        &self,
        browser: &Browser,
        scopes: &[&str],
        tweak: impl FnOnce(AuthRequest) -> AuthRequest,
    ) -> SignedIn {
        let started = self.start(scopes, tweak);
        let landing = browser.open(started.url.as_str()).await.unwrap();
        let redirect = finish_sign_in(browser, landing, &self.patient, Decision::Allow).await;
        self.finish(&started, &redirect).await
    }

    /// UserInfo through the library (GET, token in the header), checking `sub`.
    async fn userinfo(&self, access_token: &AccessToken) -> CoreUserInfoClaims {
        self.oidc
            .user_info(
                access_token.clone(),
                Some(SubjectIdentifier::new(self.patient.id.clone())),
            )
            .expect("userinfo endpoint from discovery")
            .request_async(&self.http)
            .await
            .expect("userinfo")
    }

    /// A raw call to the UserInfo endpoint.
    async fn userinfo_raw(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}

fn no_tweak(request: AuthRequest) -> AuthRequest {
    request
}

fn identity_claims_of(claims: &Value) -> BTreeSet<String> {
    IDENTITY_CLAIMS
        .iter()
        .filter(|name| claims.get(**name).is_some())
        .map(|name| (*name).to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn oauth_error<T: std::fmt::Debug>(result: Result<T, TokenError>) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(error)) => error.error().clone(),
        other => panic!("expected an RFC 6749 error response, got {other:?}"),
    }
}

// ----- oidcc-server, idtoken-signature, nonce -----

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

// ----- userinfo -----

/// oidcc-userinfo-get.
#[tokio::test]
async fn userinfo_answers_a_get_with_the_token_in_the_header() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let info = rp.userinfo(signed.tokens.access_token()).await;
    assert_eq!(
        info.email().map(|e| e.as_str()),
        Some(rp.patient.email.as_str())
    );
}

/// oidcc-userinfo-post-header.
#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_header() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let request = rp
        .http
        .post(rp.e2e.url("/oauth/userinfo"))
        .bearer_auth(signed.tokens.access_token().secret());
    let (status, body) = rp.userinfo_raw(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], rp.patient.id.as_str());
    assert_eq!(body["email"], rp.patient.email.as_str());
}

/// oidcc-userinfo-post-body.
#[tokio::test]
async fn userinfo_answers_a_post_with_the_token_in_the_form_body() {
    let rp = Rp::confidential().await;
    let signed = rp.sign_in(&rp.e2e.browser(), &["email"], no_tweak).await;
    let request = rp
        .http
        .post(rp.e2e.url("/oauth/userinfo"))
        .form(&[("access_token", signed.tokens.access_token().secret())]);
    let (status, body) = rp.userinfo_raw(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sub"], rp.patient.id.as_str());
    assert_eq!(body["email"], rp.patient.email.as_str());
}

// ----- scopes and claims -----

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

// ----- prompt, max_age, hints, unknown parameters -----

/// oidcc-prompt-login.
#[tokio::test]
async fn prompt_login_shows_the_login_page_even_with_a_live_session() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &[], no_tweak).await;
    // A second request without prompt needs no page at all: the session is live.
    let started = rp.start(&[], no_tweak);
    let redirect = expect_app(browser.open(started.url.as_str()).await.unwrap());
    rp.finish(&started, &redirect).await;

    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::Login));
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let (page, status, html) = expect_page(landing.clone());
    assert_eq!(page.path(), "/oauth/login");
    assert_eq!(status, StatusCode::OK, "{html}");
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let second = rp.finish(&started, &redirect).await;
    assert!(second.claims.auth_time().unwrap() >= first.claims.auth_time().unwrap());
}

/// oidcc-prompt-none-not-logged-in.
#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let redirect = expect_app(rp.e2e.browser().open(started.url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &rp.client.redirect_uri,
        Some(started.state.secret()),
        rp.e2e.issuer(),
    );
    assert_eq!(error, "login_required");
}

/// oidcc-prompt-none-logged-in.
#[tokio::test]
async fn prompt_none_with_a_session_returns_a_code_without_any_page() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &["email"], no_tweak).await;
    let started = rp.start(&["email"], |r| r.add_prompt(CoreAuthPrompt::None));
    let redirect = browser
        .authorize_silently(started.url.as_str())
        .await
        .unwrap();
    let second = rp.finish(&started, &redirect).await;
    assert_eq!(second.claims.auth_time(), first.claims.auth_time());
}

/// oidcc-max-age-1.
#[tokio::test]
async fn max_age_1_asks_for_the_password_again_once_a_second_has_passed() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &[], no_tweak).await;
    let auth_time = first.claims.auth_time().unwrap().timestamp();
    // The behaviour under test is about time passing: wait until the sign-in is over 1 s old.
    poll_until("the sign-in to age", Duration::from_secs(10), || {
        now_unix() >= auth_time + 2
    })
    .await;

    let started = rp.start(&[], |r| r.set_max_age(Duration::from_secs(1)));
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let (page, status, _) = expect_page(landing.clone());
    assert_eq!((page.path(), status), ("/oauth/login", StatusCode::OK));
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let second = rp.finish(&started, &redirect).await;
    assert!(second.claims.auth_time().unwrap().timestamp() > auth_time);
}

/// oidcc-max-age-10000.
#[tokio::test]
async fn max_age_10000_reuses_the_session_without_a_login() {
    let rp = Rp::confidential().await;
    let browser = rp.e2e.browser();
    let first = rp.sign_in(&browser, &[], no_tweak).await;
    let started = rp.start(&[], |r| r.set_max_age(Duration::from_secs(10_000)));
    let redirect = browser
        .authorize_silently(started.url.as_str())
        .await
        .unwrap();
    let second = rp.finish(&started, &redirect).await;
    assert_eq!(second.claims.auth_time(), first.claims.auth_time());
}

/// oidcc-unknown-parameter.
#[tokio::test]
async fn an_unknown_parameter_is_ignored() {
    let rp = Rp::confidential().await;
    let signed = rp
        .sign_in(&rp.e2e.browser(), &[], |r| {
            r.add_extra_param("extra_unknown_parameter", "any value")
        })
        .await;
    assert_eq!(signed.claims.subject().as_str(), rp.patient.id);
}

/// oidcc-login-hint.
#[tokio::test]
async fn login_hint_prefills_the_email_field() {
    let rp = Rp::confidential().await;
    let hint = rp.patient.email.clone();
    let started = rp.start(&[], |r| r.set_login_hint(LoginHint::new(hint)));
    let browser = rp.e2e.browser();
    let landing = browser.open(started.url.as_str()).await.unwrap();
    let (page, _, html) = expect_page(landing.clone());
    assert_eq!(page.path(), "/oauth/login");
    assert_eq!(prefilled_email(&html).as_deref(), Some(&*rp.patient.email));
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    rp.finish(&started, &redirect).await;
}

/// oidcc-response-type-missing: the client and redirect URI are valid, so the error goes back to
/// the client (RFC 6749 §4.1.2.1) as `invalid_request`, with `state` and `iss`.
#[tokio::test]
async fn a_request_without_response_type_is_redirected_back_with_invalid_request() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], no_tweak);
    let mut url = started.url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(name, _)| name != "response_type")
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    let redirect = expect_app(rp.e2e.browser().open(url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &rp.client.redirect_uri,
        Some(started.state.secret()),
        rp.e2e.issuer(),
    );
    assert_eq!(error, "invalid_request");
}

/// oidcc-ensure-registered-redirect-uri.
#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect() {
    let rp = Rp::confidential().await;
    let started = rp.start(&[], |r| {
        r.set_redirect_uri(std::borrow::Cow::Owned(
            RedirectUrl::new("https://attacker.example/callback".into()).unwrap(),
        ))
    });
    let landing = rp.e2e.browser().open(started.url.as_str()).await.unwrap();
    let (page, status, html) = expect_page(landing);
    assert_eq!(page.path(), "/oauth/authorize");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("attacker.example"), "{html}");
}

/// oidcc-ensure-post-request-succeeds.
#[tokio::test]
async fn an_authorization_request_sent_as_a_form_post_succeeds() {
    let rp = Rp::confidential().await;
    let started = rp.start(&["email"], no_tweak);
    let mut endpoint = started.url.clone();
    endpoint.set_query(None);
    let pairs: Vec<(String, String)> = started.url.query_pairs().into_owned().collect();
    let fields: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
    let browser = rp.e2e.browser();
    let landing = browser.post_form(&endpoint, &fields).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &rp.patient, Decision::Allow).await;
    let signed = rp.finish(&started, &redirect).await;
    assert_eq!(signed.claims.email().unwrap().as_str(), rp.patient.email);
}

// ----- token endpoint -----

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

// ----- discovery -----

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
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("userinfo_endpoint", "/oauth/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("end_session_endpoint", "/oauth/logout"),
        ("service_documentation", "/api-docs"),
    ] {
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
    assert!(list("scopes_supported").is_superset(&set(&[
        "openid",
        "profile",
        "email",
        "phone",
        "offline_access",
        "profile_read",
        "appointment_read",
        "appointment_write"
    ])));
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
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], "RS256");
        assert!(key["kid"].is_string());
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "private member {private}");
        }
    }
}

// ----- RP-initiated logout -----

async fn signed_in_browser(rp: &Rp) -> (Browser, SignedIn) {
    let browser = rp.e2e.browser();
    let signed = rp.sign_in(&browser, &[], no_tweak).await;
    (browser, signed)
}

/// `prompt=none` in `browser`: `login_required` once the session is gone.
async fn assert_signed_out(rp: &Rp, browser: &Browser) {
    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    let redirect = expect_app(browser.open(started.url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &rp.client.redirect_uri,
        Some(started.state.secret()),
        rp.e2e.issuer(),
    );
    assert_eq!(error, "login_required");
}

/// oidcc-rp-initiated-logout.
#[tokio::test]
async fn rp_initiated_logout_ends_the_session_and_returns_to_the_app_with_state() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    // Signed in: prompt=none gets a code.
    let started = rp.start(&[], |r| r.add_prompt(CoreAuthPrompt::None));
    browser
        .authorize_silently(started.url.as_str())
        .await
        .unwrap();

    let hint = signed.id_token_text();
    let landing = browser
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
            ("state", "logout-state-42"),
        ])
        .await
        .unwrap();
    let back = expect_app(landing);
    let mut bare = back.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), rp.client.post_logout_redirect_uri);
    assert_eq!(
        query_params(&back).get("state").map(String::as_str),
        Some("logout-state-42")
    );
    assert_signed_out(&rp, &browser).await;
}

#[tokio::test]
async fn logout_with_a_forged_id_token_hint_is_a_400_page_and_still_signs_out() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let original = signed.id_token_text();
    let mut claims = jwt_claims(&original);
    claims["aud"] = json!("some-other-client");
    let forged = with_claims(&original, &claims);
    let landing = browser
        .logout(&[
            ("id_token_hint", &forged),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
            ("state", "s"),
        ])
        .await
        .unwrap();
    let (_, status, _) = expect_page(landing);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_signed_out(&rp, &browser).await;
}

#[tokio::test]
async fn logout_to_an_unregistered_post_logout_redirect_uri_is_a_400_page() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let hint = signed.id_token_text();
    let landing = browser
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                "https://attacker.example/signed-out",
            ),
            ("state", "s"),
        ])
        .await
        .unwrap();
    let (_, status, html) = expect_page(landing);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("attacker.example"));
    assert_signed_out(&rp, &browser).await;
}

#[tokio::test]
async fn logout_without_state_returns_to_the_app_without_state() {
    let rp = Rp::confidential().await;
    let (browser, signed) = signed_in_browser(&rp).await;
    let hint = signed.id_token_text();
    let landing = browser
        .logout(&[
            ("id_token_hint", &hint),
            (
                "post_logout_redirect_uri",
                &rp.client.post_logout_redirect_uri,
            ),
        ])
        .await
        .unwrap();
    let back = expect_app(landing);
    assert_eq!(back.as_str(), rp.client.post_logout_redirect_uri);
    assert!(back.query().is_none(), "{back}");
    assert_signed_out(&rp, &browser).await;
}

// ----- forged tokens and key rotation -----

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
    let foreign_keys = KeySet::from_material(&shared::keys::KeyMaterial::generate().unwrap())
        .expect("foreign keys");
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
    let store = ctx.store();
    let redirect = "https://rp.example/callback";
    let (client, secret) = Client::new_confidential(
        "Rotation app",
        vec![RedirectUri::parse(redirect).unwrap()],
        Scopes::all(),
    )
    .unwrap();
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .unwrap();
    let patient = Patient::new(
        Email::parse("rotation@example.org").unwrap(),
        Name::parse("Rita", "first name").unwrap(),
        Name::parse("Rotor", "last name").unwrap(),
        BirthDate::parse("1990-01-01").unwrap(),
        None,
    );
    PatientRepo::new(store.clone())
        .create(&patient, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
        .await
        .unwrap();

    // Tokens from the token function with the keys before the rotation.
    let code = SealedCode {
        grant_id: GrantId::generate().to_string(),
        client_id: client.id.to_string(),
        redirect_uri: redirect.to_owned(),
        code_challenge: None,
        scope: "openid email".to_owned(),
        patient_id: patient.id.to_string(),
        nonce: Some("rotation-nonce".to_owned()),
        auth_time: now_unix(),
        expires_at: now_unix() + SealedCode::TTL_SECONDS,
        claims: IdentityClaims {
            email: Some("rotation@example.org".into()),
            email_verified: Some(false),
            ..IdentityClaims::default()
        },
    };
    let sealed = ctx
        .context
        .keys
        .sealer()
        .seal_json(SealedCode::PURPOSE, &code)
        .unwrap();
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", client.id, secret))
    );
    let response = token_fn::App::new(ctx.context.clone())
        .handle(
            Event::post("/oauth/token")
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &sealed),
                    ("redirect_uri", redirect),
                ])
                .header("authorization", &basic)
                .request(),
        )
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let old_kid = ctx.context.keys.active_kid().to_owned();
    assert_eq!(jwt_header(&id_token)["kid"], old_kid.as_str());

    // Rotate, and serve from a context built on the rotated material.
    let mut material = ctx.material.clone();
    material.rotate(now_unix()).unwrap();
    let rotated_keys = KeySet::from_material(&material).unwrap();
    assert_ne!(rotated_keys.active_kid(), old_kid);
    let rotated = shared::boot::context((*ctx.context.config).clone(), store, rotated_keys);
    let userinfo = userinfo_fn::App::new(rotated.clone());

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
    assert!(kids.contains(&old_kid) && kids.contains(rotated.keys.active_kid()));
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client.id.to_string()),
        IssuerUrl::new(ctx.context.config.issuer_str().to_owned()).unwrap(),
        jwks,
    );
    let parsed = CoreIdToken::from_str(&id_token).unwrap();
    let claims = parsed
        .claims(&verifier, &Nonce::new("rotation-nonce".into()))
        .expect("an id_token of the previous key verifies against the rotated JWKS");
    assert_eq!(claims.subject().as_str(), patient.id.as_str());

    // New tokens are signed with the new key.
    let fresh = rotated
        .keys
        .sign_jwt("JWT", &jwt_claims(&id_token))
        .unwrap();
    assert_eq!(jwt_header(&fresh)["kid"], rotated.keys.active_kid());
    let fresh = CoreIdToken::from_str(&fresh).unwrap();
    assert!(fresh
        .claims(&verifier, &Nonce::new("rotation-nonce".into()))
        .is_ok());
}
