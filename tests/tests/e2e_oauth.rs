//! End-to-end tests of the authorization server (issue 3) through `cargo lambda watch`: the real
//! functions as separate processes on one SQLite store, driven by a real OAuth 2.0 client library
//! (`oauth2` with its reqwest backend) and a scripted patient ([`Browser`]) for the pages.
//!
//! Every test registers its own client(s) and patient, so the tests run in parallel on one server.

use std::borrow::Cow;
use std::sync::Arc;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpClientError, IntrospectionUrl, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, RevocationUrl, Scope,
    StandardRevocableToken, TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use portal_tests::browser::{Browser, Decision};
use portal_tests::e2e::{
    alert_text, code_from, error_from, expect_app, expect_page, finish_sign_in, http_client, E2e,
    LoopbackTls, TestClient, TestPatient,
};
use reqwest::StatusCode;
use serde_json::Value;
use shared::i18n::catalog::message;
use shared::i18n::Locale;
use shared::pages::{BAD_CREDENTIALS, TOO_MANY_ATTEMPTS};
use testkit::jws::{jwt_claims, jwt_header};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

/// An `oauth2` client with the authorization, token, revocation and introspection endpoints set.
type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

/// The error of a token request made by the library.
type TokenError = RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>;

/// Scopes that come with a refresh token and that `/api/portal/v1/profile` accepts.
const API_SCOPES: &[&str] = &["profile_read", "appointment_read"];

/// A relying party: one registered client, its `oauth2` client, and the test's patient.
struct App {
    e2e: E2e,
    client: TestClient,
    oauth: OAuthClient,
    http: reqwest::Client,
    /// For the library's revocation requests (https only), see [`LoopbackTls`].
    tls: LoopbackTls,
    patient: TestPatient,
}

/// The result of an authorization request the patient approved.
struct Authorized {
    code: String,
    /// The PKCE verifier, when the request had a challenge.
    verifier: Option<String>,
}

fn oauth_client(e2e: &E2e, client: &TestClient) -> OAuthClient {
    let mut oauth = BasicClient::new(ClientId::new(client.id.clone()))
        .set_auth_uri(AuthUrl::new(e2e.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(e2e.url("/oauth/token")).unwrap())
        // `oauth2` sends revocation requests to https URLs only: see `LoopbackTls`.
        .set_revocation_url(RevocationUrl::new(e2e.https_url("/oauth/revoke")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(e2e.url("/oauth/introspect")).unwrap())
        .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());
    if let Some(secret) = &client.secret {
        oauth = oauth.set_client_secret(ClientSecret::new(secret.clone()));
    }
    oauth
}

impl App {
    /// A confidential client (secret, `client_secret_basic`) and a patient of their own.
    async fn confidential() -> App {
        let e2e = E2e::new().await;
        let client = e2e.confidential_client().await;
        Self::with(e2e, client).await
    }

    /// A public client (no secret, PKCE) and a patient of their own.
    async fn public() -> App {
        let e2e = E2e::new().await;
        let client = e2e.public_client().await;
        Self::with(e2e, client).await
    }

    async fn with(e2e: E2e, client: TestClient) -> App {
        let oauth = oauth_client(&e2e, &client);
        let patient = e2e.patient().await;
        App {
            oauth,
            http: http_client(),
            tls: LoopbackTls::new(),
            patient,
            client,
            e2e,
        }
    }

    /// Builds the authorization URL with the library (PKCE S256 when `pkce`), lets the patient sign
    /// in and allow in a fresh browser, and returns the code after checking `state` and `iss`.
    async fn authorize(&self, scopes: &[&str], pkce: bool) -> Authorized {
        self.authorize_in(&self.e2e.browser(), scopes, pkce).await
    }

    async fn authorize_in(&self, browser: &Browser, scopes: &[&str], pkce: bool) -> Authorized {
        let mut request = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
        let mut verifier = None;
        if pkce {
            let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(pkce_verifier.secret().clone());
        }
        let (url, state) = request.url();
        let landing = browser.open(url.as_str()).await.unwrap();
        let redirect = finish_sign_in(browser, landing, &self.patient, Decision::Allow).await;
        let code = code_from(
            &redirect,
            &self.client.redirect_uri,
            Some(state.secret()),
            self.e2e.issuer(),
        );
        Authorized { code, verifier }
    }

    /// Exchanges a code with the library (the client's own credentials and redirect URI).
    async fn exchange(
        &self,
        code: &str,
        verifier: Option<&str>,
    ) -> Result<BasicTokenResponse, TokenError> {
        exchange_with(&self.oauth, &self.http, code, verifier).await
    }

    /// A successful exchange of a fresh PKCE code for `scopes`.
    async fn tokens(&self, scopes: &[&str]) -> BasicTokenResponse {
        let authorized = self.authorize(scopes, true).await;
        self.exchange(&authorized.code, authorized.verifier.as_deref())
            .await
            .expect("code exchange")
    }

    async fn refresh(&self, token: &RefreshToken) -> Result<BasicTokenResponse, TokenError> {
        self.oauth
            .exchange_refresh_token(token)
            .request_async(&self.http)
            .await
    }

    /// RFC 7662 introspection (as this client) of `token`: whether it is active.
    async fn is_active(&self, token: &str, hint: &str) -> bool {
        let answer = self
            .oauth
            .introspect(&AccessToken::new(token.to_owned()))
            .set_token_type_hint(hint)
            .request_async(&self.http)
            .await
            .expect("introspection");
        answer.active()
    }

    /// `GET /api/portal/v1/profile` with `access_token`: status and body.
    async fn profile(&self, access_token: &AccessToken) -> (StatusCode, Value) {
        let response = self
            .http
            .get(self.e2e.url("/api/portal/v1/profile"))
            .bearer_auth(access_token.secret())
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

async fn exchange_with(
    oauth: &OAuthClient,
    http: &reqwest::Client,
    code: &str,
    verifier: Option<&str>,
) -> Result<BasicTokenResponse, TokenError> {
    let mut request = oauth.exchange_code(AuthorizationCode::new(code.to_owned()));
    if let Some(verifier) = verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
    }
    request.request_async(http).await
}

/// The OAuth error code of a failed token request (panics on a transport or parse failure, which
/// would mean the server answered something that is not RFC 6749 §5.2).
fn oauth_error<T: std::fmt::Debug>(result: Result<T, TokenError>) -> BasicErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(error)) => error.error().clone(),
        other => panic!("expected an RFC 6749 error response, got {other:?}"),
    }
}

fn refresh_token_of(tokens: &BasicTokenResponse) -> RefreshToken {
    tokens
        .refresh_token()
        .cloned()
        .expect("a refresh token for these scopes")
}

// ----- the authorization code flow -----

#[tokio::test]
async fn a_public_client_completes_the_code_flow_with_pkce_and_its_token_works_at_the_api() {
    let app = App::public().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let tokens = app
        .exchange(&authorized.code, authorized.verifier.as_deref())
        .await
        .expect("code exchange");

    assert_eq!(tokens.token_type().as_ref(), "bearer");
    let lifetime = tokens.expires_in().expect("expires_in").as_secs();
    assert!((1..=3600).contains(&lifetime), "expires_in {lifetime}");
    let granted: Vec<String> = tokens
        .scopes()
        .expect("scope")
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(granted, API_SCOPES);
    assert!(tokens.refresh_token().is_some());

    // RFC 9068: a JWT for the API's own audience, not for the client.
    let at = tokens.access_token().secret();
    assert_eq!(jwt_header(at)["typ"], "at+jwt");
    let claims = jwt_claims(at);
    assert_eq!(claims["iss"], app.e2e.issuer());
    assert_eq!(claims["sub"], app.patient.id.as_str());
    assert_eq!(claims["client_id"], app.client.id.as_str());
    assert_ne!(claims["aud"], app.client.id.as_str());

    let (status, profile) = app.profile(tokens.access_token()).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["id"], app.patient.id.as_str());
    assert_eq!(profile["email"], app.patient.email.as_str());
}

#[tokio::test]
async fn a_code_used_twice_is_invalid_grant_and_revokes_the_tokens_of_the_first_use() {
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let verifier = authorized.verifier.as_deref();
    let first = app.exchange(&authorized.code, verifier).await.unwrap();
    let refresh = refresh_token_of(&first);
    assert!(app.is_active(refresh.secret(), "refresh_token").await);
    assert!(
        app.is_active(first.access_token().secret(), "access_token")
            .await
    );

    let second = app.exchange(&authorized.code, verifier).await;
    assert_eq!(oauth_error(second), BasicErrorResponseType::InvalidGrant);

    let refreshed = app.refresh(&refresh).await;
    assert_eq!(oauth_error(refreshed), BasicErrorResponseType::InvalidGrant);
    assert!(!app.is_active(refresh.secret(), "refresh_token").await);
    assert!(
        !app.is_active(first.access_token().secret(), "access_token")
            .await
    );
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_invalid_grant() {
    let app = App::public().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
    let wrong = app
        .exchange(&authorized.code, Some(other_verifier.secret()))
        .await;
    assert_eq!(oauth_error(wrong), BasicErrorResponseType::InvalidGrant);
    let missing = app.exchange(&authorized.code, None).await;
    assert_eq!(oauth_error(missing), BasicErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn a_verifier_sent_for_a_code_issued_without_a_challenge_is_a_refused_pkce_downgrade() {
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, false).await;
    assert!(authorized.verifier.is_none());
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    let downgrade = app
        .exchange(&authorized.code, Some(verifier.secret()))
        .await;
    assert_eq!(oauth_error(downgrade), BasicErrorResponseType::InvalidGrant);
    // The confidential client's own PKCE-less exchange is what the code was issued for.
    app.exchange(&authorized.code, None)
        .await
        .expect("exchange without PKCE");
}

#[tokio::test]
async fn a_redirect_uri_other_than_the_authorization_requests_is_invalid_grant() {
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    // Registered for the client, but not the one the code was issued for.
    let other = RedirectUrl::new(app.client.other_redirect_uri.clone()).unwrap();
    let mismatch = app
        .oauth
        .exchange_code(AuthorizationCode::new(authorized.code.clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(authorized.verifier.clone().unwrap()))
        .set_redirect_uri(Cow::Borrowed(&other))
        .request_async(&app.http)
        .await;
    assert_eq!(oauth_error(mismatch), BasicErrorResponseType::InvalidGrant);
}

#[tokio::test]
async fn a_code_presented_by_another_client_is_invalid_grant() {
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let thief = app.e2e.confidential_client().await;
    // The thief even uses the victim's redirect URI; its own credentials are valid.
    let thief_oauth = oauth_client(&app.e2e, &thief)
        .set_redirect_uri(RedirectUrl::new(app.client.redirect_uri.clone()).unwrap());
    let stolen = exchange_with(
        &thief_oauth,
        &app.http,
        &authorized.code,
        authorized.verifier.as_deref(),
    )
    .await;
    assert_eq!(oauth_error(stolen), BasicErrorResponseType::InvalidGrant);
    // The attempt did not burn the code for its rightful client.
    app.exchange(&authorized.code, authorized.verifier.as_deref())
        .await
        .expect("the client the code was issued to can still redeem it");
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client_with_401_and_a_challenge() {
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let verifier = authorized.verifier.clone().unwrap();
    let impostor = app
        .oauth
        .clone()
        .set_client_secret(ClientSecret::new("not-the-secret".into()));
    let refused = exchange_with(&impostor, &app.http, &authorized.code, Some(&verifier)).await;
    assert_eq!(oauth_error(refused), BasicErrorResponseType::InvalidClient);

    // The same request on the wire: 401 with WWW-Authenticate (RFC 6749 §5.2).
    let response = app
        .http
        .post(app.e2e.url("/oauth/token"))
        .basic_auth(&app.client.id, Some("not-the-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", authorized.code.as_str()),
            ("redirect_uri", app.client.redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic"), "{challenge}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");

    // Failed client authentication did not use up the code.
    app.exchange(&authorized.code, Some(&verifier))
        .await
        .expect("exchange with the right secret");
}

#[tokio::test]
async fn client_secret_post_authenticates_a_confidential_client() {
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let post = app.oauth.clone().set_auth_type(AuthType::RequestBody);
    let tokens = exchange_with(
        &post,
        &app.http,
        &authorized.code,
        authorized.verifier.as_deref(),
    )
    .await
    .expect("client_secret_post exchange");
    let refreshed = post
        .exchange_refresh_token(&refresh_token_of(&tokens))
        .request_async(&app.http)
        .await
        .expect("client_secret_post refresh");
    let (status, _) = app.profile(refreshed.access_token()).await;
    assert_eq!(status, 200);

    // A wrong secret in the body is refused like one in the header.
    let wrong = post
        .set_client_secret(ClientSecret::new("wrong".into()))
        .exchange_refresh_token(&refresh_token_of(&refreshed))
        .request_async(&app.http)
        .await;
    assert_eq!(oauth_error(wrong), BasicErrorResponseType::InvalidClient);
}

// ----- refresh, revocation, introspection -----

#[tokio::test]
async fn refresh_tokens_rotate_and_reusing_an_old_one_revokes_the_whole_family() {
    let app = App::confidential().await;
    let tokens = app.tokens(API_SCOPES).await;
    let first = refresh_token_of(&tokens);

    let second_response = app.refresh(&first).await.expect("first refresh");
    let second = refresh_token_of(&second_response);
    assert_ne!(
        second.secret(),
        first.secret(),
        "rotation issues a new token"
    );
    let (status, _) = app.profile(second_response.access_token()).await;
    assert_eq!(status, 200);
    assert!(!app.is_active(first.secret(), "refresh_token").await);

    let third_response = app.refresh(&second).await.expect("second refresh");
    let third = refresh_token_of(&third_response);
    assert!(app.is_active(third.secret(), "refresh_token").await);

    // Replaying a rotated token: refused, and the newest token dies with the family.
    let replay = app.refresh(&first).await;
    assert_eq!(oauth_error(replay), BasicErrorResponseType::InvalidGrant);
    assert!(!app.is_active(third.secret(), "refresh_token").await);
    let newest = app.refresh(&third).await;
    assert_eq!(oauth_error(newest), BasicErrorResponseType::InvalidGrant);
    assert!(
        !app.is_active(third_response.access_token().secret(), "access_token")
            .await
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_no_longer_refreshes_or_introspects_active() {
    let app = App::confidential().await;
    let tokens = app.tokens(API_SCOPES).await;
    let refresh = refresh_token_of(&tokens);
    app.oauth
        .revoke_token(StandardRevocableToken::RefreshToken(refresh.clone()))
        .unwrap()
        .request_async(&app.tls)
        .await
        .expect("revocation");
    assert!(!app.is_active(refresh.secret(), "refresh_token").await);
    let refused = app.refresh(&refresh).await;
    assert_eq!(oauth_error(refused), BasicErrorResponseType::InvalidGrant);
    // RFC 7009 §2.2: revoking again (or revoking garbage) still succeeds.
    app.oauth
        .revoke_token(StandardRevocableToken::RefreshToken(refresh))
        .unwrap()
        .request_async(&app.tls)
        .await
        .expect("second revocation");
}

#[tokio::test]
async fn introspection_reports_live_tokens_active_and_others_inactive() {
    let app = App::confidential().await;
    let tokens = app.tokens(API_SCOPES).await;
    let at = tokens.access_token().secret();

    let answer = app
        .oauth
        .introspect(tokens.access_token())
        .set_token_type_hint("access_token")
        .request_async(&app.http)
        .await
        .unwrap();
    assert!(answer.active());
    assert_eq!(
        answer.client_id().map(|c| c.as_str()),
        Some(&*app.client.id)
    );
    assert_eq!(answer.sub(), Some(app.patient.id.as_str()));
    let scopes: Vec<String> = answer
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, API_SCOPES);
    assert!(answer.exp().is_some());
    assert!(
        app.is_active(refresh_token_of(&tokens).secret(), "refresh_token")
            .await
    );

    // Garbage, and this client's token seen by another client, are inactive.
    assert!(!app.is_active("not-a-token", "access_token").await);
    let other = App::confidential().await;
    assert!(!other.is_active(at, "access_token").await);

    // An access token revoked through RFC 7009 introspects inactive at once.
    app.oauth
        .revoke_token(StandardRevocableToken::AccessToken(
            tokens.access_token().clone(),
        ))
        .unwrap()
        .request_async(&app.tls)
        .await
        .unwrap();
    assert!(!app.is_active(at, "access_token").await);
}

// ----- concurrency -----
//
// `cargo lambda watch` runs `--concurrency` instances per function (default 1, which queues
// concurrent requests); started with more, the racers below really race across processes on the
// SQLite store. Either way each must get a clean answer.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_redemptions_of_one_code_yield_exactly_one_token_response() {
    const RACERS: usize = 10;
    let app = App::confidential().await;
    let authorized = app.authorize(API_SCOPES, true).await;
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let (oauth, http, barrier) = (app.oauth.clone(), app.http.clone(), barrier.clone());
        let (code, verifier) = (authorized.code.clone(), authorized.verifier.clone());
        racers.spawn(async move {
            barrier.wait().await;
            exchange_with(&oauth, &http, &code, verifier.as_deref()).await
        });
    }
    let mut winners = Vec::new();
    while let Some(result) = racers.join_next().await {
        match result.unwrap() {
            Ok(tokens) => winners.push(tokens),
            // Every loser is a clean invalid_grant: no 5xx, no transport error.
            failure => assert_eq!(oauth_error(failure), BasicErrorResponseType::InvalidGrant),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption succeeds");
    // The replays revoked what the winner got.
    assert!(
        !app.is_active(refresh_token_of(&winners[0]).secret(), "refresh_token")
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_of_one_token_succeed_at_most_once_without_server_errors() {
    const RACERS: usize = 6;
    let app = App::confidential().await;
    let tokens = app.tokens(API_SCOPES).await;
    let refresh = refresh_token_of(&tokens);
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let (oauth, http, barrier) = (app.oauth.clone(), app.http.clone(), barrier.clone());
        let refresh = refresh.clone();
        racers.spawn(async move {
            barrier.wait().await;
            oauth
                .exchange_refresh_token(&refresh)
                .request_async(&http)
                .await
        });
    }
    let mut winners = Vec::new();
    while let Some(result) = racers.join_next().await {
        match result.unwrap() {
            Ok(tokens) => winners.push(tokens),
            failure => assert_eq!(oauth_error(failure), BasicErrorResponseType::InvalidGrant),
        }
    }
    assert!(winners.len() <= 1, "{} refreshes succeeded", winners.len());
    // The token all of them presented is spent either way.
    assert!(!app.is_active(refresh.secret(), "refresh_token").await);
}

// ----- the login page -----
//
// Under `cargo lambda watch` every request's source IP is 127.0.0.1, so all end-to-end tests share
// one per-address failure counter (20 per 15-minute window, see `shared::repo::throttle`): the
// tests below fail 7 sign-ins in all and the browser test (`e2e_browser.rs`) one more: 8 of the
// 20; any new test that fails a sign-in must fit in what is left.

/// Opens a fresh authorization request and returns the browser standing on the login page.
/// The English text of catalog message `id` (the end-to-end browsers send no language preference).
fn english(id: &str) -> String {
    message(Locale::ENGLISH, id, &[])
}

async fn login_page(app: &App) -> (Browser, url::Url, String) {
    let browser = app.e2e.browser();
    let (url, _) = app
        .oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile_read".into()))
        .url();
    let (page, status, html) = expect_page(browser.open(url.as_str()).await.unwrap());
    assert_eq!(page.path(), "/oauth/login");
    assert_eq!(status, StatusCode::OK);
    (browser, page, html)
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_against_the_right_password() {
    let app = App::confidential().await;
    let (browser, mut page, mut html) = login_page(&app).await;
    for attempt in 1..=5 {
        let fields = [
            ("email", app.patient.email.as_str()),
            ("password", "definitely-wrong-password"),
        ];
        let (url, status, body) = expect_page(browser.submit(&page, &html, &fields).await.unwrap());
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert_eq!(alert_text(&body), Some(english(BAD_CREDENTIALS)));
        (page, html) = (url, body);
    }
    let fields = [
        ("email", app.patient.email.as_str()),
        ("password", app.patient.password.as_str()),
    ];
    let (_, status, body) = expect_page(browser.submit(&page, &html, &fields).await.unwrap());
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(alert_text(&body), Some(english(TOO_MANY_ATTEMPTS)));
}

#[tokio::test]
async fn a_login_post_without_the_csrf_cookie_or_field_is_refused_with_403() {
    let app = App::confidential().await;
    let (browser, page, html) = login_page(&app).await;
    let request = testkit::forms::hidden_field(&html, "request").unwrap();
    let csrf = testkit::forms::hidden_field(&html, "csrf_token").unwrap();
    let login = page.join("login").unwrap();
    let credentials = [
        ("email", app.patient.email.as_str()),
        ("password", app.patient.password.as_str()),
    ];

    // The cookie but no field.
    let mut fields = vec![("request", request.as_str())];
    fields.extend_from_slice(&credentials);
    let (_, status, _) = expect_page(browser.post_form(&login, &fields).await.unwrap());
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The field but no cookie: another browser replaying the form (a cross-site post).
    let mut fields = vec![("request", request.as_str()), ("csrf_token", csrf.as_str())];
    fields.extend_from_slice(&credentials);
    let attacker = app.e2e.browser();
    let (_, status, _) = expect_page(attacker.post_form(&login, &fields).await.unwrap());
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The genuine form still works: the refusals were about CSRF, not the credentials.
    let landing = browser.submit(&page, &html, &credentials).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &app.patient, Decision::Allow).await;
    assert!(portal_tests::e2e::query_params(&redirect).contains_key("code"));
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = App::confidential().await;
    let (browser, page, html) = login_page(&app).await;
    let unknown = format!("nobody.{}@example.org", portal_tests::e2e::unique());
    let (_, unknown_status, unknown_page) = expect_page(
        browser
            .submit(
                &page,
                &html,
                &[("email", &unknown), ("password", "some-password-1")],
            )
            .await
            .unwrap(),
    );
    let (_, wrong_status, wrong_page) = expect_page(
        browser
            .submit(
                &page,
                &html,
                &[
                    ("email", app.patient.email.as_str()),
                    ("password", "some-password-1"),
                ],
            )
            .await
            .unwrap(),
    );
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, wrong_status);
    let message = alert_text(&unknown_page);
    assert_eq!(message, Some(english(BAD_CREDENTIALS)));
    assert_eq!(message, alert_text(&wrong_page));
}

// ----- error redirects -----

#[tokio::test]
async fn error_redirects_carry_the_clients_state_and_the_issuer() {
    let app = App::confidential().await;

    // A scope the server does not know: invalid_scope, no page shown.
    let (url, state) = app
        .oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("not_a_scope".into()))
        .url();
    let redirect = expect_app(app.e2e.browser().open(url.as_str()).await.unwrap());
    let error = error_from(
        &redirect,
        &app.client.redirect_uri,
        Some(state.secret()),
        app.e2e.issuer(),
    );
    assert_eq!(error, "invalid_scope");

    // The patient denies: access_denied.
    let (url, state) = app
        .oauth
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("profile_read".into()))
        .url();
    let browser = app.e2e.browser();
    let landing = browser.open(url.as_str()).await.unwrap();
    let redirect = finish_sign_in(&browser, landing, &app.patient, Decision::Deny).await;
    let error = error_from(
        &redirect,
        &app.client.redirect_uri,
        Some(state.secret()),
        app.e2e.issuer(),
    );
    assert_eq!(error, "access_denied");
}
