//! Handler tests of the `authorize` function: `/oauth/authorize`, `/oauth/login`, `/oauth/consent`,
//! `/oauth/logout`, the account pages (`accounts`, `recovery`) and the second factor (`/oauth/mfa`,
//! `/account/mfa/totp`), driven with real API Gateway v2 events against a fresh store and keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use authorize_fn::App;
use http::HeaderMap;
use serde_json::json;
use shared::boot::{Context, Handler};
use shared::config::Config;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::Patient;
use shared::keys::Role;
use shared::oauth::code::AuthorizationCode;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::now_unix;
use testkit::forms::hidden_field;
use testkit::oauth;
use testkit::patients::{self, PHONE};
use testkit::{Event, TestContext, ISSUER};
use url::Url;

mod accounts;
mod console;
mod console_deletion;
mod console_email;
mod flow;
mod headers;
mod language;
mod login;
mod logout;
mod partitions;
mod passkeys;
mod protocol_errors;
mod reauthentication;
mod recovery;
mod sealed_request;
mod second_factor;
mod untrusted;

const REDIRECT: &str = "https://app.example/cb";
const LOGOUT_REDIRECT: &str = "https://app.example/bye";
const EMAIL: &str = "anna.muster@example.org";
const PASSWORD: &str = "correct horse battery staple";

/// A test world: a store with one confidential client, one public client and one patient.
struct World {
    ctx: TestContext,
    app: App,
    client: Client,
    public: Client,
    narrow: Client,
    patient: Patient,
}

async fn world() -> World {
    world_with(TestContext::new(), None).await
}

/// A world whose context may use another configuration (the https issuer test).
async fn world_with(ctx: TestContext, config: Option<Config>) -> World {
    let authorize = ctx.function(Role::Authorize);
    let context = match config {
        Some(config) => Context {
            config: Arc::new(config),
            ..authorize
        },
        None => authorize,
    };
    let clients = ClientRepo::new(ctx.store());
    let uri = |u: &str| RedirectUri::parse(u).unwrap();
    let (client, _secret) = Client::new_confidential(
        "Demo <Health> App",
        vec![uri(REDIRECT), uri("https://app.example/cb?tenant=7")],
        Scopes::all(),
    )
    .unwrap();
    let client = client
        .with_post_logout_redirect_uris(vec![uri(LOGOUT_REDIRECT)])
        .unwrap();
    clients.create(&client).await.unwrap();
    let public = Client::new_public("Spa", vec![uri("https://spa.example/cb")], Scopes::all())
        .unwrap()
        .with_post_logout_redirect_uris(vec![uri("https://spa.example/bye")])
        .unwrap();
    clients.create(&public).await.unwrap();
    let (narrow, _) = Client::new_confidential(
        "Narrow",
        vec![uri(REDIRECT)],
        Scopes::parse("openid profile").unwrap(),
    )
    .unwrap();
    clients.create(&narrow).await.unwrap();
    let mut patient = patients::patient(EMAIL, Some(PHONE));
    patient.email_verified = true;
    patients::register(&ctx.store(), &patient, Some(PASSWORD)).await;
    World {
        app: App::new(context),
        ctx,
        client,
        public,
        narrow,
        patient,
    }
}

/// A response, read.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn location(&self) -> Url {
        let text = self
            .headers
            .get("location")
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
            .to_str()
            .unwrap();
        Url::parse(text).unwrap()
    }

    /// The query of the Location, as a map.
    fn redirect_params(&self) -> HashMap<String, String> {
        self.location().query_pairs().into_owned().collect()
    }

    /// Path and query of the Location (for the next event).
    fn next_path(&self) -> String {
        let url = self.location();
        assert_eq!(url.origin().ascii_serialization(), ISSUER, "{url}");
        format!("{}?{}", url.path(), url.query().unwrap_or(""))
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    fn hidden(&self, name: &str) -> String {
        hidden_field(&self.body, name).unwrap_or_else(|| panic!("no {name} field: {}", self.body))
    }

    fn assert_error_page(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.headers.get("location").is_none(),
            "an error page never redirects"
        );
        assert!(self.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(self.body.contains("role=\"alert\""), "{}", self.body);
    }

    /// Asserts an error redirect to `redirect` with `error`, `state` and `iss`.
    fn assert_error_redirect(&self, redirect: &str, error: &str, state: Option<&str>) {
        assert_eq!(self.status, 302, "{}", self.body);
        let location = self.location();
        assert!(location.as_str().starts_with(redirect), "{location}");
        let params = self.redirect_params();
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{params:?}"
        );
        assert!(params.contains_key("error_description"));
        assert_eq!(params.get("state").map(String::as_str), state);
        assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER));
        assert!(!params.contains_key("code"));
    }
}

/// A browser against the handler: keeps the cookies the responses set, and may send an
/// `Accept-Language` header.
struct Browser<'a> {
    app: &'a App,
    jar: BTreeMap<String, String>,
    accept_language: Option<&'static str>,
}

impl<'a> Browser<'a> {
    fn new(world: &'a World) -> Self {
        Browser {
            app: &world.app,
            jar: BTreeMap::new(),
            accept_language: None,
        }
    }

    /// The browser sending `Accept-Language: {header}` with every request.
    fn accepting(mut self, header: &'static str) -> Self {
        self.accept_language = Some(header);
        self
    }

    /// The browser holding cookie `name` (as if an earlier visit had set it).
    fn with_cookie(mut self, name: &str, value: &str) -> Self {
        self.jar.insert(name.to_owned(), value.to_owned());
        self
    }

    async fn send(&mut self, mut event: Event) -> Reply {
        for (name, value) in &self.jar {
            event = event.cookie(name, value);
        }
        if let Some(header) = self.accept_language {
            event = event.header("accept-language", header);
        }
        let reply = send(self.app, event).await;
        for cookie in reply.set_cookies() {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if cookie.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.send(Event::get(path)).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.send(Event::post(path).form(form)).await
    }

    /// From an authorization request to the login page it redirects to.
    async fn login_page(&mut self, authorize: &str) -> Reply {
        let reply = self.get(authorize).await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        assert!(
            reply.location().path() == "/oauth/login",
            "{}",
            reply.location()
        );
        let page = self.get(&reply.next_path()).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page
    }

    /// Submits a login page with [`EMAIL`] and `password`.
    async fn submit_login(&mut self, page: &Reply, password: &str) -> Reply {
        self.post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
                ("password", password),
            ],
        )
        .await
    }

    /// From an authorization request to the reply of the login form (expects the login page).
    async fn sign_in(&mut self, authorize: &str, password: &str) -> Reply {
        let page = self.login_page(authorize).await;
        self.submit_login(&page, password).await
    }

    /// Opens the consent page a reply redirects to.
    async fn consent_page(&mut self, to_consent: &Reply) -> Reply {
        assert_eq!(to_consent.status, 303, "{}", to_consent.body);
        assert_eq!(to_consent.location().path(), "/oauth/consent");
        let page = self.get(&to_consent.next_path()).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page
    }

    /// Opens the consent page a reply redirects to and answers it.
    async fn answer_consent(&mut self, to_consent: &Reply, decision: &str) -> Reply {
        let page = self.consent_page(to_consent).await;
        self.post(
            "/oauth/consent",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("decision", decision),
            ],
        )
        .await
    }

    /// Signs in and allows: the final redirect to the client.
    async fn authorize_fully(&mut self, authorize: &str) -> Reply {
        let after_login = self.sign_in(authorize, PASSWORD).await;
        self.answer_consent(&after_login, "allow").await
    }

    fn session_cookie(&self) -> Option<String> {
        self.jar.get("portal_session").cloned()
    }
}

async fn send(app: &App, event: Event) -> Reply {
    let response = app.handle(event.request()).await;
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: String::from_utf8(response.body().to_vec()).unwrap(),
    }
}

/// `/oauth/authorize?...` with the usual parameters for `client`, overridden or extended by
/// `extra` (an empty value removes the parameter).
fn authorize_path(client: &Client, extra: &[(&str, &str)]) -> String {
    oauth::authorize_path(
        client.id.as_str(),
        REDIRECT,
        "openid profile email appointment_read",
        extra,
    )
}

fn open_code(world: &World, reply: &Reply) -> AuthorizationCode {
    let code = reply
        .redirect_params()
        .remove("code")
        .unwrap_or_else(|| panic!("no code in {}", reply.location()));
    world
        .ctx
        .keys()
        .sealer(AuthorizationCode::PURPOSE)
        .open_json(&code)
        .expect("the code opens with the sealer")
}

fn id_token(world: &World, aud: &str, exp_in: i64) -> String {
    id_token_of_session(world, aud, exp_in, None)
}

/// An id_token as the token endpoint issues it for a code of sign-in session `sid`.
fn id_token_of_session(world: &World, aud: &str, exp_in: i64, sid: Option<&str>) -> String {
    let now = now_unix();
    let mut claims = json!({"iss": ISSUER, "sub": world.patient.id.as_str(), "aud": aud,
                            "iat": now, "exp": now + exp_in, "auth_time": now});
    if let Some(sid) = sid {
        claims["sid"] = json!(sid);
    }
    world.ctx.keys().sign_jwt("JWT", &claims).unwrap()
}
