//! Handler tests of the `token` function (`/oauth/token`, `/oauth/revoke`, `/oauth/introspect`)
//! with real API Gateway v2 events, a fresh SQLite store per test (counting round trips) and fresh
//! keys. Authorization codes are made the way the authorization endpoint makes them: by sealing an
//! [`AuthorizationCode`] with the context's keys.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use portal_tests::context::TestContext;
use portal_tests::events::Event;
use serde_json::Value;
use shared::bearer::{self, AccessClaims};
use shared::boot::Handler as _;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::PatientId;
use shared::jwt;
use shared::oauth::access::IdTokenClaims;
use shared::oauth::claims::IdentityClaims;
use shared::oauth::code::AuthorizationCode;
use shared::repo::{ClientRepo, GrantId, GrantRepo};
use shared::scope::Scopes;
use shared::store::{
    now_unix, Condition, Item, Key, Page, Query, Store, StoreError, Update, Write,
};
use token_fn::App;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "https://app.example.com/callback";
const FULL_SCOPE: &str = "openid email offline_access profile_read appointment_read";

struct Fixture {
    ctx: TestContext,
    app: Arc<App>,
    confidential: Client,
    secret: String,
    other: Client,
    other_secret: String,
    public: Client,
    patient: PatientId,
}

async fn fixture() -> Fixture {
    let ctx = TestContext::new();
    let clients = ClientRepo::new(ctx.store());
    let uris = || vec![RedirectUri::parse(REDIRECT).unwrap()];
    let (confidential, secret) =
        Client::new_confidential("Demo app", uris(), Scopes::all()).unwrap();
    let (other, other_secret) =
        Client::new_confidential("Other app", uris(), Scopes::all()).unwrap();
    let public = Client::new_public("Spa", uris(), Scopes::all()).unwrap();
    for client in [&confidential, &other, &public] {
        clients.create(client).await.unwrap();
    }
    ctx.counter.take();
    let app = Arc::new(App::new(ctx.context.clone()));
    Fixture {
        ctx,
        app,
        confidential,
        secret,
        other,
        other_secret,
        public,
        patient: PatientId::generate(),
    }
}

/// A parsed response: every response of this function must be uncacheable, so it is checked here.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<none>")
    }
    fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("`{field}` missing in {}", self.body))
            .to_owned()
    }
}

fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

async fn send(app: &App, event: Event) -> Reply {
    let response = app.handle(event.request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store", "{status}");
    assert_eq!(headers["pragma"], "no-cache", "{status}");
    let bytes = response.body().as_ref();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap()
    };
    Reply {
        status,
        headers,
        body,
    }
}

async fn post(app: &App, path: &str, form: &[(&str, &str)], auth: Option<&str>) -> Reply {
    let mut event = Event::post(path).form(form);
    if let Some(value) = auth {
        event = event.header("authorization", value);
    }
    send(app, event).await
}

impl Fixture {
    fn code(&self, client: &Client, scope: &str, challenge: Option<&str>) -> AuthorizationCode {
        AuthorizationCode {
            grant_id: GrantId::generate().to_string(),
            client_id: client.id.to_string(),
            redirect_uri: REDIRECT.to_owned(),
            code_challenge: challenge.map(str::to_owned),
            scope: scope.to_owned(),
            patient_id: self.patient.to_string(),
            nonce: Some("n-0S6_WzA2Mj".to_owned()),
            auth_time: now_unix() - 30,
            expires_at: now_unix() + AuthorizationCode::TTL_SECONDS,
            claims: IdentityClaims {
                email: Some("ada@example.com".into()),
                email_verified: Some(true),
                ..IdentityClaims::default()
            },
        }
    }

    fn seal(&self, code: &AuthorizationCode) -> String {
        self.ctx
            .context
            .keys
            .sealer()
            .seal_json(AuthorizationCode::PURPOSE, code)
            .unwrap()
    }

    fn basic(&self) -> String {
        basic(self.confidential.id.as_str(), &self.secret)
    }

    fn grants(&self) -> GrantRepo {
        GrantRepo::new(self.ctx.store())
    }

    /// Exchanges `code` as the confidential client with Basic auth and the RFC verifier.
    async fn exchange(&self, code: &str) -> Reply {
        post(
            &self.app,
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some(&self.basic()),
        )
        .await
    }

    /// A successful exchange of a fresh PKCE code for `scope`; returns the token response body.
    async fn tokens(&self, scope: &str) -> Reply {
        let code = self.seal(&self.code(&self.confidential, scope, Some(CHALLENGE)));
        let reply = self.exchange(&code).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply
    }

    async fn refresh(&self, refresh_token: &str, scope: Option<&str>) -> Reply {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        post(&self.app, "/oauth/token", &form, Some(&self.basic())).await
    }

    async fn introspect(&self, token: &str) -> Reply {
        let reply = post(
            &self.app,
            "/oauth/introspect",
            &[("token", token)],
            Some(&self.basic()),
        )
        .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply
    }

    async fn revoke(&self, token: &str, hint: Option<&str>) -> Reply {
        let mut form = vec![("token", token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        post(&self.app, "/oauth/revoke", &form, Some(&self.basic())).await
    }

    fn issuer(&self) -> String {
        self.ctx.context.config.issuer_str().to_owned()
    }

    fn access_claims(&self, token: &str) -> AccessClaims {
        let config = &self.ctx.context.config;
        jwt::verify(
            &self.ctx.context.keys,
            token,
            jwt::TYP_ACCESS_TOKEN,
            config.issuer_str(),
            &config.api_audience,
        )
        .unwrap()
    }
}

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
        &f.ctx.context.keys,
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
    assert_eq!(header["kid"], f.ctx.context.keys.active_kid());
    assert_eq!(jwt_header(&reply.str("id_token"))["typ"], "JWT");

    // The id_token is for the client, bound to the access token, and echoes the nonce.
    let id: IdTokenClaims = jwt::verify(
        &f.ctx.context.keys,
        &reply.str("id_token"),
        jwt::TYP_ID_TOKEN,
        &f.issuer(),
        f.confidential.id.as_str(),
    )
    .unwrap();
    assert_eq!(id.sub, f.patient.as_str());
    assert_eq!(id.aud, f.confidential.id.as_str());
    assert_eq!(id.azp, f.confidential.id.as_str());
    assert_eq!(id.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(id.at_hash, jwt::at_hash(&access_token));
    assert_eq!(id.auth_time, code.auth_time);
    assert_eq!(id.exp - id.iat, 300);
    assert_eq!(id.identity.email.as_deref(), Some("ada@example.com"));
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

/// The decoded JOSE header of a compact JWT.
fn jwt_header(token: &str) -> Value {
    let first = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(first).unwrap()).unwrap()
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
async fn a_reused_code_is_invalid_grant_and_revokes_the_tokens_of_the_first_exchange() {
    let f = fixture().await;
    let sealed = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let first = f.exchange(&sealed).await;
    assert_eq!(first.status, 200);
    let refresh_token = first.str("refresh_token");
    let access_token = first.str("access_token");
    assert_eq!(f.introspect(&access_token).await.body["active"], true);

    let again = f.exchange(&sealed).await;
    assert_eq!(
        (again.status.as_u16(), again.error()),
        (400, "invalid_grant")
    );
    assert!(again.str("error_description").contains("already used"));

    let refreshed = f.refresh(&refresh_token, None).await;
    assert_eq!(
        (refreshed.status.as_u16(), refreshed.error()),
        (400, "invalid_grant")
    );
    assert_eq!(
        f.introspect(&refresh_token).await.body,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        f.introspect(&access_token).await.body,
        serde_json::json!({"active": false})
    );
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_invalid_grant() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let wrong = "a".repeat(43);
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &wrong),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
}

#[tokio::test]
async fn a_verifier_for_a_code_without_a_challenge_is_a_refused_pkce_downgrade() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", None));
    let reply = f.exchange(&code).await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert!(reply.str("error_description").contains("no code_challenge"));
}

#[tokio::test]
async fn a_missing_verifier_for_a_code_with_a_challenge_is_invalid_grant() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let reply = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert!(reply
        .str("error_description")
        .contains("code_verifier is required"));
}

#[tokio::test]
async fn a_malformed_verifier_is_invalid_request() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    for verifier in ["short", &format!("{}!", "a".repeat(50))] {
        let reply = post(
            &f.app,
            "/oauth/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
            Some(&f.basic()),
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "invalid_request")
        );
    }
}

#[tokio::test]
async fn a_different_redirect_uri_is_invalid_grant_and_a_missing_one_invalid_request() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let other = format!("{REDIRECT}/");
    let different = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &other),
            ("code_verifier", VERIFIER),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (different.status.as_u16(), different.error()),
        (400, "invalid_grant")
    );
    let missing = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (missing.status.as_u16(), missing.error()),
        (400, "invalid_request")
    );
    // Neither attempt used the code up.
    assert_eq!(f.exchange(&code).await.status, 200);
}

#[tokio::test]
async fn a_code_redeemed_by_another_client_is_invalid_grant() {
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
        ],
        Some(&basic(f.other.id.as_str(), &f.other_secret)),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert!(reply.str("error_description").contains("another client"));
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let f = fixture().await;
    let mut code = f.code(&f.confidential, "openid", Some(CHALLENGE));
    code.expires_at = now_unix() - 1;
    let reply = f.exchange(&f.seal(&code)).await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (400, "invalid_grant")
    );
    assert_eq!(
        reply.str("error_description"),
        "the authorization code is invalid or expired"
    );
}

#[tokio::test]
async fn a_tampered_or_foreign_code_is_invalid_grant() {
    let f = fixture().await;
    let sealed = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let (id, payload) = sealed.split_once('.').unwrap();
    let mut bytes: Vec<u8> = payload.bytes().collect();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{id}.{}", String::from_utf8(bytes).unwrap());

    // Same content sealed for another purpose (a refresh token can never pass for a code).
    let code = f.code(&f.confidential, "openid", Some(CHALLENGE));
    let other_purpose = f
        .ctx
        .context
        .keys
        .sealer()
        .seal_json("refresh_token", &code)
        .unwrap();
    for text in [
        tampered.as_str(),
        other_purpose.as_str(),
        "garbage",
        "k.",
        &"x".repeat(9000),
    ] {
        let reply = f.exchange(text).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "invalid_grant"),
            "{text:.20}"
        );
    }
}

#[tokio::test]
async fn every_rfc_6749_section_5_2_error_code_is_produced_with_its_status() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.confidential, "openid profile_read", Some(CHALLENGE)));
    let tokens = f.tokens("openid profile_read").await;
    let refresh_token = tokens.str("refresh_token");
    let pkce_less_public = f.seal(&f.code(&f.public, "openid", None));

    // (expected error, form, Authorization header, status)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<String>, u16);
    let cases: Vec<Case> = vec![
        (
            "invalid_request",
            vec![("code", &code)],
            Some(f.basic()),
            400,
        ),
        (
            "invalid_client",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
            None,
            401,
        ),
        (
            "invalid_grant",
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "not-a-token"),
            ],
            Some(f.basic()),
            400,
        ),
        (
            "unauthorized_client",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &pkce_less_public),
                ("redirect_uri", REDIRECT),
                ("client_id", f.public.id.as_str()),
            ],
            None,
            400,
        ),
        (
            "unsupported_grant_type",
            vec![("grant_type", "password")],
            Some(f.basic()),
            400,
        ),
        (
            "invalid_scope",
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
                ("scope", "openid profile_read appointment_write"),
            ],
            Some(f.basic()),
            400,
        ),
    ];
    for (expected, form, auth, status) in cases {
        let reply = post(&f.app, "/oauth/token", &form, auth.as_deref()).await;
        assert_eq!(reply.error(), expected, "{:?}", reply.body);
        assert_eq!(reply.status.as_u16(), status, "{expected}");
        assert!(reply.body["error_description"].is_string());
        assert_eq!(
            reply.headers.contains_key("www-authenticate"),
            status == 401
        );
    }
}

#[tokio::test]
async fn grant_types_other_than_code_and_refresh_are_unsupported() {
    let f = fixture().await;
    for grant_type in [
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
        "implicit",
    ] {
        let reply = post(
            &f.app,
            "/oauth/token",
            &[("grant_type", grant_type)],
            Some(&f.basic()),
        )
        .await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, "unsupported_grant_type")
        );
    }
}

#[tokio::test]
async fn a_refresh_rotates_the_token_in_exactly_one_round_trip() {
    let f = fixture().await;
    let first = f.tokens(FULL_SCOPE).await;
    let old = first.str("refresh_token");
    f.ctx.counter.take();
    let second = f.refresh(&old, None).await;
    assert_eq!(f.ctx.counter.take(), 1, "a refresh is one round trip");
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["scope"], FULL_SCOPE);
    let newer = second.str("refresh_token");
    assert_ne!(newer, old);
    let claims = f.access_claims(&second.str("access_token"));
    assert_eq!(claims.gid, f.access_claims(&first.str("access_token")).gid);
    let id: IdTokenClaims = jwt::verify(
        &f.ctx.context.keys,
        &second.str("id_token"),
        jwt::TYP_ID_TOKEN,
        &f.issuer(),
        f.confidential.id.as_str(),
    )
    .unwrap();
    assert!(id.nonce.is_none(), "no nonce on refresh");
    assert_eq!(id.at_hash, jwt::at_hash(&second.str("access_token")));
    // The new token works in turn; the old one introspects inactive.
    assert_eq!(f.introspect(&old).await.body["active"], false);
    let introspected = f.introspect(&newer).await;
    assert_eq!(introspected.body["active"], true);
    assert_eq!(introspected.body["token_type"], "refresh_token");
    assert_eq!(f.refresh(&newer, None).await.status, 200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_is_invalid_grant_and_revokes_the_newest_token() {
    let f = fixture().await;
    let first = f.tokens(FULL_SCOPE).await;
    let old = first.str("refresh_token");
    let second = f.refresh(&old, None).await;
    assert_eq!(second.status, 200);
    let newest = second.str("refresh_token");
    let newest_access = second.str("access_token");

    let replay = f.refresh(&old, None).await;
    assert_eq!(
        (replay.status.as_u16(), replay.error()),
        (400, "invalid_grant")
    );
    let after = f.refresh(&newest, None).await;
    assert_eq!(
        (after.status.as_u16(), after.error()),
        (400, "invalid_grant")
    );
    assert_eq!(f.introspect(&newest).await.body["active"], false);
    assert_eq!(f.introspect(&newest_access).await.body["active"], false);
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let f = fixture().await;
    let first = f.tokens(FULL_SCOPE).await;
    let narrow = f
        .refresh(&first.str("refresh_token"), Some("profile_read"))
        .await;
    assert_eq!(narrow.status, 200, "{:?}", narrow.body);
    assert_eq!(narrow.body["scope"], "profile_read");
    assert!(
        narrow.body.get("id_token").is_none(),
        "no openid, no id_token"
    );
    assert_eq!(
        f.access_claims(&narrow.str("access_token")).scope,
        "profile_read"
    );
    // The new refresh token keeps the grant's scope (RFC 6749 §6).
    let full_again = f.refresh(&narrow.str("refresh_token"), None).await;
    assert_eq!(full_again.body["scope"], FULL_SCOPE);

    for scope in ["appointment_write", "profile_read admin"] {
        let wider = f
            .refresh(&full_again.str("refresh_token"), Some(scope))
            .await;
        assert_eq!(
            (wider.status.as_u16(), wider.error()),
            (400, "invalid_scope"),
            "{scope}"
        );
    }
    // Refused scopes did not use the token up.
    assert_eq!(
        f.refresh(&full_again.str("refresh_token"), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_refresh_token_of_another_client_or_a_forged_one_is_invalid_grant() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let stolen = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
        Some(&basic(f.other.id.as_str(), &f.other_secret)),
    )
    .await;
    assert_eq!(
        (stolen.status.as_u16(), stolen.error()),
        (400, "invalid_grant")
    );
    let as_code = f.exchange(&refresh_token).await;
    assert_eq!(as_code.error(), "invalid_grant");
    let access_as_refresh = f.refresh(&tokens.str("access_token"), None).await;
    assert_eq!(access_as_refresh.error(), "invalid_grant");
    // None of that touched the legitimate token.
    assert_eq!(f.refresh(&refresh_token, None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_redemptions_of_one_code_give_exactly_one_200() {
    let f = Arc::new(fixture().await);
    let sealed = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let f = f.clone();
            let sealed = sealed.clone();
            tokio::spawn(async move { f.exchange(&sealed).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status.as_u16() {
            200 => ok += 1,
            400 => assert_eq!(reply.error(), "invalid_grant"),
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!(ok, 1, "exactly one redemption wins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_refreshes_of_one_token_give_at_most_one_200_and_no_5xx() {
    let f = Arc::new(fixture().await);
    let refresh_token = f.tokens(FULL_SCOPE).await.str("refresh_token");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let f = f.clone();
            let token = refresh_token.clone();
            tokio::spawn(async move { f.refresh(&token, None).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert!(reply.status.as_u16() < 500, "{:?}", reply.body);
        match reply.status.as_u16() {
            200 => ok += 1,
            _ => assert_eq!(reply.error(), "invalid_grant"),
        }
    }
    assert!(ok <= 1, "{ok} refreshes succeeded");
}

#[tokio::test]
async fn revoking_a_refresh_token_stops_refresh_and_introspects_inactive() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let reply = f.revoke(&refresh_token, Some("refresh_token")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, Value::Null, "empty body");
    let refreshed = f.refresh(&refresh_token, None).await;
    assert_eq!(refreshed.error(), "invalid_grant");
    assert_eq!(
        f.introspect(&refresh_token).await.body,
        serde_json::json!({"active": false})
    );
    assert_eq!(
        f.introspect(&tokens.str("access_token")).await.body["active"],
        false
    );
}

#[tokio::test]
async fn revoking_an_access_token_makes_it_introspect_inactive() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let access_token = tokens.str("access_token");
    let active = f.introspect(&access_token).await;
    let claims = f.access_claims(&access_token);
    assert_eq!(active.body["active"], true);
    assert_eq!(active.body["token_type"], "Bearer");
    assert_eq!(active.body["scope"], FULL_SCOPE);
    assert_eq!(active.body["client_id"], f.confidential.id.as_str());
    assert_eq!(active.body["sub"], f.patient.as_str());
    assert_eq!(active.body["jti"], claims.jti.as_str());
    assert_eq!(active.body["exp"], claims.exp);
    assert_eq!(active.body["iat"], claims.iat);
    assert_eq!(active.body["iss"], f.issuer());
    assert_eq!(
        active.body["aud"],
        f.ctx.context.config.api_audience.as_str()
    );

    // A wrong hint still finds the token.
    assert_eq!(
        f.revoke(&access_token, Some("refresh_token")).await.status,
        200
    );
    assert_eq!(
        f.introspect(&access_token).await.body,
        serde_json::json!({"active": false})
    );
    // Only that access token: the refresh token and the grant live on.
    assert_eq!(
        f.introspect(&tokens.str("refresh_token")).await.body["active"],
        true
    );
}

#[tokio::test]
async fn revoking_another_clients_token_or_garbage_has_no_effect() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let other = basic(f.other.id.as_str(), &f.other_secret);
    for token in [
        tokens.str("refresh_token"),
        tokens.str("access_token"),
        "garbage".to_owned(),
    ] {
        let reply = post(&f.app, "/oauth/revoke", &[("token", &token)], Some(&other)).await;
        assert_eq!(reply.status, 200);
    }
    assert_eq!(
        f.introspect(&tokens.str("access_token")).await.body["active"],
        true
    );
    assert_eq!(
        f.introspect(&tokens.str("refresh_token")).await.body["active"],
        true
    );
    assert_eq!(
        f.refresh(&tokens.str("refresh_token"), None).await.status,
        200
    );
}

#[tokio::test]
async fn revocation_needs_client_authentication_and_a_token() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let wrong = basic(f.confidential.id.as_str(), "wrong");
    let reply = post(
        &f.app,
        "/oauth/revoke",
        &[("token", &refresh_token)],
        Some(&wrong),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (401, "invalid_client")
    );
    let anonymous = post(&f.app, "/oauth/revoke", &[("token", &refresh_token)], None).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.error()),
        (401, "invalid_client")
    );
    let no_token = post(&f.app, "/oauth/revoke", &[], Some(&f.basic())).await;
    assert_eq!(
        (no_token.status.as_u16(), no_token.error()),
        (400, "invalid_request")
    );
    // Nothing was revoked by the refused attempts.
    assert_eq!(f.refresh(&refresh_token, None).await.status, 200);
}

#[tokio::test]
async fn a_public_client_revokes_its_own_refresh_token_by_client_id() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.public, "openid offline_access", Some(CHALLENGE)));
    let client_id = f.public.id.as_str();
    let tokens = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", client_id),
        ],
        None,
    )
    .await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    let refresh_token = tokens.str("refresh_token");
    let reply = post(
        &f.app,
        "/oauth/revoke",
        &[("token", &refresh_token), ("client_id", client_id)],
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
    let refresh = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("client_id", client_id),
        ],
        None,
    )
    .await;
    assert_eq!(refresh.error(), "invalid_grant");
}

#[tokio::test]
async fn introspection_by_an_unauthenticated_caller_is_401() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let token = tokens.str("access_token");
    let anonymous = post(&f.app, "/oauth/introspect", &[("token", &token)], None).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.error()),
        (401, "invalid_client")
    );
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let wrong = basic(f.confidential.id.as_str(), "wrong");
    let reply = post(
        &f.app,
        "/oauth/introspect",
        &[("token", &token)],
        Some(&wrong),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (401, "invalid_client")
    );
    assert!(
        reply.body.get("active").is_none(),
        "nothing about the token"
    );
    let unknown = basic("no-such-client", "x");
    let reply = post(
        &f.app,
        "/oauth/introspect",
        &[("token", &token)],
        Some(&unknown),
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn introspection_shows_another_clients_tokens_as_inactive() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let other = basic(f.other.id.as_str(), &f.other_secret);
    for token in [tokens.str("access_token"), tokens.str("refresh_token")] {
        let reply = post(
            &f.app,
            "/oauth/introspect",
            &[("token", &token)],
            Some(&other),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, serde_json::json!({"active": false}));
    }
    for garbage in ["garbage", "a.b.c"] {
        assert_eq!(
            f.introspect(garbage).await.body,
            serde_json::json!({"active": false})
        );
    }
    let missing = post(&f.app, "/oauth/introspect", &[], Some(&f.basic())).await;
    assert_eq!(
        (missing.status.as_u16(), missing.error()),
        (400, "invalid_request")
    );
}

#[tokio::test]
async fn no_refresh_token_is_issued_when_only_openid_is_granted() {
    let f = fixture().await;
    let reply = f.tokens("openid").await;
    assert!(
        reply.body.get("refresh_token").is_none(),
        "{:?}",
        reply.body
    );
    assert!(reply.body["id_token"].is_string());
    assert_eq!(reply.body["scope"], "openid");
    // Its access token still introspects active while it lives (the short-lived grant exists).
    assert_eq!(
        f.introspect(&reply.str("access_token")).await.body["active"],
        true
    );
    let identity_only = f.tokens("openid profile email phone").await;
    assert!(identity_only.body.get("refresh_token").is_none());
    let offline = f.tokens("openid offline_access").await;
    assert!(offline.body["refresh_token"].is_string());
}

#[tokio::test]
async fn the_body_must_be_a_form_of_bounded_size() {
    let f = fixture().await;
    let json = send(
        &f.app,
        Event::post("/oauth/token").json(&serde_json::json!({"grant_type": "refresh_token"})),
    )
    .await;
    assert_eq!(
        (json.status.as_u16(), json.error()),
        (400, "invalid_request")
    );
    let big = "x".repeat(shared::http::request::MAX_BODY_BYTES + 1);
    let oversized = post(
        &f.app,
        "/oauth/token",
        &[("grant_type", &big)],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (oversized.status.as_u16(), oversized.error()),
        (413, "invalid_request")
    );
    let repeated = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("grant_type", "refresh_token"),
        ],
        Some(&f.basic()),
    )
    .await;
    assert_eq!(
        (repeated.status.as_u16(), repeated.error()),
        (400, "invalid_request")
    );
}

#[tokio::test]
async fn every_response_is_uncacheable_including_routing_errors() {
    // `send` asserts `Cache-Control: no-store` and `Pragma: no-cache` on every response.
    let f = fixture().await;
    let wrong_method = send(&f.app, Event::get("/oauth/token")).await;
    assert_eq!(wrong_method.status, 405);
    let unknown = send(&f.app, Event::post("/oauth/nothing").form(&[])).await;
    assert_eq!(unknown.status, 404);
    let two_headers = send(
        &f.app,
        Event::post("/oauth/token")
            .form(&[("grant_type", "refresh_token")])
            .header("authorization", &f.basic())
            .header("authorization", &f.basic()),
    )
    .await;
    assert!(
        two_headers.status.is_client_error(),
        "{:?}",
        two_headers.body
    );
}

/// A store that is down: every call fails as an unreachable DynamoDB would.
struct DownStore;

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

fn down<'a, T: 'a>() -> Fut<'a, T> {
    Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
}

impl Store for DownStore {
    fn get<'l0, 'l1, 'at>(&'l0 self, _key: &'l1 Key) -> Fut<'at, Option<Item>>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn put<'l0, 'at>(&'l0 self, _item: Item, _condition: Condition) -> Fut<'at, Option<Item>>
    where
        'l0: 'at,
        Self: 'at,
    {
        down()
    }
    fn update<'l0, 'l1, 'at>(
        &'l0 self,
        _key: &'l1 Key,
        _update: Update,
        _condition: Condition,
    ) -> Fut<'at, Item>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn delete<'l0, 'l1, 'at>(
        &'l0 self,
        _key: &'l1 Key,
        _condition: Condition,
    ) -> Fut<'at, Option<Item>>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn transact<'l0, 'at>(&'l0 self, _writes: Vec<Write>) -> Fut<'at, ()>
    where
        'l0: 'at,
        Self: 'at,
    {
        down()
    }
    fn query<'l0, 'at>(&'l0 self, _query: Query) -> Fut<'at, Page>
    where
        'l0: 'at,
        Self: 'at,
    {
        down()
    }
}

#[tokio::test]
async fn an_unavailable_store_is_a_503_temporarily_unavailable_never_a_500() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let mut context = f.ctx.context.clone();
    context.store = Arc::new(DownStore);
    let app = App::new(context);
    let code = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/oauth/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        ),
        (
            "/oauth/token",
            vec![
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    tokens.body["refresh_token"].as_str().unwrap(),
                ),
            ],
        ),
        (
            "/oauth/revoke",
            vec![("token", tokens.body["access_token"].as_str().unwrap())],
        ),
        (
            "/oauth/introspect",
            vec![("token", tokens.body["access_token"].as_str().unwrap())],
        ),
    ];
    for (path, form) in attempts {
        let reply = post(&app, path, &form, Some(&f.basic())).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (503, "temporarily_unavailable"),
            "{path}"
        );
        assert!(reply.headers.contains_key("retry-after"));
        assert!(!reply.body.to_string().contains("connection refused"));
    }
}

#[tokio::test]
async fn the_other_paths_cost_the_round_trips_their_documentation_states() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let access_token = tokens.str("access_token");
    let refresh_token = tokens.str("refresh_token");
    let count = |what: &str, expected: u64| {
        assert_eq!(f.ctx.counter.take(), expected, "{what}");
    };
    f.ctx.counter.take();

    // In-memory refusals cost nothing.
    f.exchange("garbage").await;
    f.refresh(&refresh_token, Some("appointment_write")).await;
    count("refusals before the transaction", 0);

    f.introspect(&access_token).await;
    count(
        "introspect an access token: client + revocation list + grant",
        3,
    );
    f.introspect(&refresh_token).await;
    count("introspect a refresh token: client + grant", 2);
    f.revoke(&access_token, None).await;
    count("revoke an access token: client + revocation record", 2);

    let rotated = f.refresh(&refresh_token, None).await;
    count("refresh", 1);
    f.refresh(&refresh_token, None).await;
    count(
        "refresh token reuse: failed rotation + revoking the grant",
        2,
    );
    f.revoke(&rotated.str("refresh_token"), None).await;
    count("revoke a refresh token: client + grant", 2);

    let sealed = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    f.exchange(&sealed).await;
    count("code exchange", 1);
    f.exchange(&sealed).await;
    count("code replay: failed creation + revoking the grant", 2);
}

#[tokio::test]
async fn browser_apps_get_cors_on_token_and_revoke_but_not_on_introspect() {
    let f = fixture().await;
    let origin = "http://localhost:5173";
    let preflight = send(
        &f.app,
        Event::new("OPTIONS", "/oauth/token")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type"),
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.headers["access-control-allow-origin"], origin);
    assert!(preflight.headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));

    // The actual request, an error included, is readable by the page.
    let code = f.seal(&f.code(&f.public, "openid offline_access", Some(CHALLENGE)));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", f.public.id.as_str()),
    ];
    let ok = send(
        &f.app,
        Event::post("/oauth/token")
            .form(&form)
            .header("origin", origin),
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.headers["access-control-allow-origin"], origin);
    let replay = send(
        &f.app,
        Event::post("/oauth/token")
            .form(&form)
            .header("origin", origin),
    )
    .await;
    assert_eq!(replay.error(), "invalid_grant");
    assert_eq!(replay.headers["access-control-allow-origin"], origin);
    let revoke = send(
        &f.app,
        Event::post("/oauth/revoke")
            .form(&[("token", "x"), ("client_id", f.public.id.as_str())])
            .header("origin", origin),
    )
    .await;
    assert_eq!(revoke.headers["access-control-allow-origin"], origin);

    let foreign = send(
        &f.app,
        Event::post("/oauth/revoke")
            .form(&[("token", "x"), ("client_id", f.public.id.as_str())])
            .header("origin", "https://evil.example"),
    )
    .await;
    assert!(!foreign.headers.contains_key("access-control-allow-origin"));
    let introspect = send(
        &f.app,
        Event::post("/oauth/introspect")
            .form(&[("token", "x")])
            .header("authorization", &f.basic())
            .header("origin", origin),
    )
    .await;
    assert_eq!(introspect.status, 200);
    assert!(!introspect
        .headers
        .contains_key("access-control-allow-origin"));
}
