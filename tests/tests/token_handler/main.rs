//! Handler tests of the `token` function (`/oauth/token`, `/oauth/revoke`, `/oauth/introspect`)
//! with real API Gateway v2 events, a fresh SQLite store per test (counting round trips) and fresh
//! keys. Authorization codes are made the way the authorization endpoint makes them: by sealing an
//! [`AuthorizationCode`] with the context's keys.

use std::sync::Arc;

use http::{HeaderMap, StatusCode};
use serde_json::Value;
use shared::bearer::AccessClaims;
use shared::boot::Handler as _;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::PatientId;
use shared::jwt;
use shared::keys::Role;
use shared::oauth::code::AuthorizationCode;
use shared::repo::{ClientRepo, GrantRepo};
use shared::scope::Scopes;
use testkit::oauth::{self, basic, CHALLENGE, REDIRECT, VERIFIER};
use testkit::{Event, TestContext};
use token_fn::App;

mod client_auth_first;
mod codes;
mod cors;
mod costs;
mod es256;
mod exchange;
mod partitions;
mod refresh;
mod requests;
mod revocation;

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
    let app = Arc::new(App::new(ctx.function(Role::Token)));
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
        oauth::code(client.id.as_str(), self.patient.as_str(), scope, challenge)
    }

    fn seal(&self, code: &AuthorizationCode) -> String {
        oauth::seal(&self.ctx.keys(), code)
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
            &self.ctx.keys(),
            token,
            jwt::TYP_ACCESS_TOKEN,
            config.issuer_str(),
            &config.api_audience,
        )
        .unwrap()
    }
}
