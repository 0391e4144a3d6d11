//! Handler tests of the `authorize` function: `/oauth/authorize`, `/oauth/login`, `/oauth/consent`
//! and `/oauth/logout`, driven with real API Gateway v2 events against a fresh store and keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use authorize_fn::App;
use http::HeaderMap;
use portal_tests::browser::hidden_field;
use portal_tests::context::TestContext;
use portal_tests::events::Event;
use serde_json::json;
use shared::boot::{Context, Handler};
use shared::config::Config;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::password::hash_password;
use shared::domain::patient::{BirthDate, Email, Name, Patient, Phone};
use shared::i18n::catalog::message;
use shared::i18n::Locale;
use shared::oauth::code::AuthorizationCode;
use shared::pages::{BAD_CREDENTIALS, MISSING_CREDENTIALS, TOO_MANY_ATTEMPTS};
use shared::repo::{ClientRepo, PatientRepo};
use shared::scope::{Scope, Scopes};
use shared::store::now_unix;
use url::Url;

const ISSUER: &str = "http://127.0.0.1:9000";
const REDIRECT: &str = "https://app.example/cb";
const LOGOUT_REDIRECT: &str = "https://app.example/bye";
const EMAIL: &str = "anna.muster@example.org";
const PASSWORD: &str = "correct horse battery staple";
/// An RFC 7636 Appendix B challenge.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The English text of catalog message `id` (pages answer in English without other preferences).
fn english(id: &str) -> String {
    message(Locale::ENGLISH, id, &[])
}

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
    let context = match config {
        Some(config) => Context {
            config: Arc::new(config),
            ..ctx.context.clone()
        },
        None => ctx.context.clone(),
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
    let patient = Patient::new(
        Email::parse(EMAIL).unwrap(),
        Name::parse("Anna", "first name").unwrap(),
        Name::parse("Muster", "last name").unwrap(),
        BirthDate::parse("1985-02-28").unwrap(),
        Some(Phone::parse("+49 30 1234567").unwrap()),
    );
    let hash = tokio::task::spawn_blocking(|| hash_password(PASSWORD))
        .await
        .unwrap()
        .unwrap();
    PatientRepo::new(ctx.store())
        .create(&patient, &hash)
        .await
        .unwrap();
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

/// A browser against the handler: keeps the cookies the responses set.
struct Browser<'a> {
    app: &'a App,
    jar: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    fn new(world: &'a World) -> Self {
        Browser {
            app: &world.app,
            jar: BTreeMap::new(),
        }
    }

    async fn send(&mut self, mut event: Event) -> Reply {
        for (name, value) in &self.jar {
            event = event.cookie(name, value);
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

    /// From an authorization request to the reply of the login form (expects the login page).
    async fn sign_in(&mut self, authorize: &str, password: &str) -> Reply {
        let reply = self.get(authorize).await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        assert!(
            reply.location().path() == "/oauth/login",
            "{}",
            reply.location()
        );
        let page = self.get(&reply.next_path()).await;
        assert_eq!(page.status, 200, "{}", page.body);
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

    /// Opens the consent page a reply redirects to and answers it.
    async fn answer_consent(&mut self, to_consent: &Reply, decision: &str) -> Reply {
        assert_eq!(to_consent.status, 303, "{}", to_consent.body);
        assert_eq!(to_consent.location().path(), "/oauth/consent");
        let page = self.get(&to_consent.next_path()).await;
        assert_eq!(page.status, 200, "{}", page.body);
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
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email appointment_read"),
        ("state", "st-123"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (name, value) in extra {
        match params.iter_mut().find(|(k, _)| k == name) {
            Some(existing) => existing.1 = value.to_string(),
            None => params.push((name.to_string(), value.to_string())),
        }
    }
    params.retain(|(_, v)| !v.is_empty());
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    format!("/oauth/authorize?{query}")
}

fn open_code(world: &World, reply: &Reply) -> AuthorizationCode {
    let code = reply
        .redirect_params()
        .remove("code")
        .unwrap_or_else(|| panic!("no code in {}", reply.location()));
    world
        .ctx
        .context
        .keys
        .sealer()
        .open_json(AuthorizationCode::PURPOSE, &code)
        .expect("the code opens with the sealer")
}

fn id_token(world: &World, aud: &str, exp_in: i64) -> String {
    let now = now_unix();
    world
        .ctx
        .context
        .keys
        .sign_jwt(
            "JWT",
            &json!({"iss": ISSUER, "sub": world.patient.id.as_str(), "aud": aud,
                    "iat": now, "exp": now + exp_in, "auth_time": now}),
        )
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Requests that cannot be trusted: a page, never a redirect.

#[tokio::test]
async fn an_unknown_or_missing_client_gets_a_400_page_and_no_redirect() {
    let w = world().await;
    for path in [
        "/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid",
        "/oauth/authorize?response_type=code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid",
        "/oauth/authorize?response_type=code&client_id=bad%20id%3C&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
    ] {
        let reply = send(&w.app, Event::get(path)).await;
        reply.assert_error_page(400);
        assert!(reply.body.contains("not registered"), "{}", reply.body);
    }
    let repeated = format!(
        "/oauth/authorize?response_type=code&client_id={0}&client_id={0}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid",
        w.client.id
    );
    send(&w.app, Event::get(&repeated))
        .await
        .assert_error_page(400);
}

#[tokio::test]
async fn an_unregistered_missing_or_slightly_different_redirect_uri_gets_a_400_page() {
    let w = world().await;
    for redirect in [
        "https://evil.example/cb",
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://APP.example/cb",
        "",
    ] {
        let reply = send(
            &w.app,
            Event::get(&authorize_path(&w.client, &[("redirect_uri", redirect)])),
        )
        .await;
        reply.assert_error_page(400);
        assert!(
            reply.body.contains("redirect_uri"),
            "{redirect}: {}",
            reply.body
        );
    }
    let twice = format!(
        "{}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
        authorize_path(&w.client, &[])
    );
    send(&w.app, Event::get(&twice))
        .await
        .assert_error_page(400);
}

// ---------------------------------------------------------------------------------------------
// Protocol errors once the client is known: redirects with error, state and iss.

#[tokio::test]
async fn a_missing_response_type_is_an_invalid_request_redirect_with_state_and_iss() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("response_type", "")])),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
}

#[tokio::test]
async fn response_type_token_is_unsupported() {
    let w = world().await;
    for response_type in ["token", "code id_token", "id_token"] {
        let reply = send(
            &w.app,
            Event::get(&authorize_path(
                &w.client,
                &[("response_type", response_type)],
            )),
        )
        .await;
        reply.assert_error_redirect(REDIRECT, "unsupported_response_type", Some("st-123"));
    }
}

#[tokio::test]
async fn an_unknown_missing_or_unallowed_scope_is_invalid_scope() {
    let w = world().await;
    for scope in ["openid admin", "", "OPENID"] {
        let reply = send(
            &w.app,
            Event::get(&authorize_path(&w.client, &[("scope", scope)])),
        )
        .await;
        reply.assert_error_redirect(REDIRECT, "invalid_scope", Some("st-123"));
    }
    let reply = send(
        &w.app,
        Event::get(&authorize_path(
            &w.narrow,
            &[("scope", "openid appointment_write")],
        )),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "invalid_scope", Some("st-123"));
    assert!(reply.redirect_params()["error_description"].contains("appointment_write"));
}

#[tokio::test]
async fn plain_or_malformed_pkce_is_an_invalid_request() {
    let w = world().await;
    for extra in [
        vec![("code_challenge_method", "plain")],
        vec![("code_challenge_method", "")],
        vec![("code_challenge", "")],
        vec![("code_challenge", "too-short")],
    ] {
        let reply = send(&w.app, Event::get(&authorize_path(&w.client, &extra))).await;
        reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
    }
}

#[tokio::test]
async fn a_public_client_without_pkce_is_an_invalid_request() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(
            &w.public,
            &[
                ("redirect_uri", "https://spa.example/cb"),
                ("code_challenge", ""),
                ("code_challenge_method", ""),
            ],
        )),
    )
    .await;
    reply.assert_error_redirect("https://spa.example/cb", "invalid_request", Some("st-123"));
    assert!(reply.redirect_params()["error_description"].contains("PKCE"));
}

#[tokio::test]
async fn oidc_parameters_are_checked() {
    let w = world().await;
    for extra in [
        ("prompt", "none login"),
        ("prompt", "sometimes"),
        ("max_age", "-1"),
        ("max_age", "soon"),
    ] {
        let reply = send(&w.app, Event::get(&authorize_path(&w.client, &[extra]))).await;
        reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
    }
    let long_nonce = "n".repeat(513);
    let reply = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("nonce", &long_nonce)])),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "invalid_request", Some("st-123"));
}

#[tokio::test]
async fn a_repeated_parameter_is_an_invalid_request_and_an_oversized_state_is_not_echoed() {
    let w = world().await;
    let path = format!("{}&scope=phone", authorize_path(&w.client, &[]));
    send(&w.app, Event::get(&path)).await.assert_error_redirect(
        REDIRECT,
        "invalid_request",
        Some("st-123"),
    );
    let long_state = "s".repeat(1025);
    send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("state", &long_state)])),
    )
    .await
    .assert_error_redirect(REDIRECT, "invalid_request", None);
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")])),
    )
    .await;
    reply.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let w = world().await;
    let reply = send(
        &w.app,
        Event::get(&authorize_path(
            &w.client,
            &[("ui_locales", "de"), ("foo", "bar"), ("display", "page")],
        )),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location().path(), "/oauth/login");
}

// ---------------------------------------------------------------------------------------------
// The whole flow.

#[tokio::test]
async fn the_full_flow_signs_in_asks_consent_and_returns_a_code_bound_to_the_request() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let started = now_unix();

    let reply = b.get(&authorize_path(&w.client, &[])).await;
    assert_eq!(reply.status, 303);
    assert!(reply
        .location()
        .as_str()
        .starts_with("http://127.0.0.1:9000/oauth/login?request="));

    let login = b.get(&reply.next_path()).await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("Demo &#60;Health&#62; App"),
        "client name, escaped: {}",
        login.body
    );
    let csrf_cookie = login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("portal_csrf="))
        .expect("a CSRF cookie");
    assert!(
        csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Lax")
            && csrf_cookie.contains("Path=/")
    );
    assert_eq!(login.hidden("csrf_token"), b.jar["portal_csrf"]);

    let after_login = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("email", "  Anna.Muster@Example.org "),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(after_login.status, 303, "{}", after_login.body);
    assert_eq!(after_login.location().path(), "/oauth/consent");
    let session_cookie = after_login
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("portal_session="))
        .expect("a session cookie");
    assert!(
        session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax")
            && session_cookie.contains("Path=/")
    );

    let consent = b.get(&after_login.next_path()).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    for scope in Scopes::parse("openid profile email appointment_read")
        .unwrap()
        .iter()
    {
        assert!(
            consent.body.contains(&scope.description()),
            "{}",
            scope.as_str()
        );
    }
    assert!(consent.body.contains(r#"name="decision" value="allow""#));
    assert!(consent.body.contains(r#"name="decision" value="deny""#));

    let done = b
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &consent.hidden("csrf_token")),
                ("request", &consent.hidden("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done
        .location()
        .as_str()
        .starts_with("https://app.example/cb?code="));
    let params = done.redirect_params();
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], ISSUER);

    let code = open_code(&w, &done);
    assert_eq!(code.client_id, w.client.id.as_str());
    assert_eq!(code.redirect_uri, REDIRECT);
    assert_eq!(code.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(code.scope, "openid profile email appointment_read");
    assert_eq!(code.patient_id, w.patient.id.as_str());
    assert_eq!(code.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    let now = now_unix();
    assert!((started..=now).contains(&code.auth_time));
    assert!((now + 55..=now + 60).contains(&code.expires_at));
    assert_eq!(code.claims.name.as_deref(), Some("Anna Muster"));
    assert_eq!(code.claims.given_name.as_deref(), Some("Anna"));
    assert_eq!(code.claims.birthdate.as_deref(), Some("1985-02-28"));
    assert_eq!(code.claims.email.as_deref(), Some(EMAIL));
    assert_eq!(code.claims.email_verified, Some(false));
    assert_eq!(code.claims.phone_number, None, "phone was not granted");
    assert!(!code.grant_id.is_empty());
}

#[tokio::test]
async fn a_code_redirect_keeps_the_query_of_the_registered_uri() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let done = b
        .authorize_fully(&authorize_path(
            &w.client,
            &[("redirect_uri", "https://app.example/cb?tenant=7")],
        ))
        .await;
    assert!(done
        .location()
        .as_str()
        .starts_with("https://app.example/cb?tenant=7&code="));
    assert_eq!(
        open_code(&w, &done).redirect_uri,
        "https://app.example/cb?tenant=7"
    );
}

#[tokio::test]
async fn remembered_consent_skips_the_page_and_costs_only_reads() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let first = b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let first_code = open_code(&w, &first);

    w.ctx.counter.take();
    let again = b
        .get(&authorize_path(
            &w.client,
            &[("state", "second"), ("scope", "openid email")],
        ))
        .await;
    assert_eq!(again.status, 302, "{}", again.body);
    assert_eq!(again.redirect_params()["state"], "second");
    let code = open_code(&w, &again);
    assert_eq!(code.scope, "openid email");
    assert_ne!(code.grant_id, first_code.grant_id);
    assert_eq!(
        code.claims.name, None,
        "profile was not asked for this time"
    );
    // Client, session, consent and profile: four reads, no write.
    assert_eq!(w.ctx.counter.take(), 4);

    let silent = b
        .get(&authorize_path(&w.client, &[("prompt", "none")]))
        .await;
    assert_eq!(silent.status, 302);
    assert!(silent.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn prompt_consent_shows_the_consent_page_again() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let reply = b
        .get(&authorize_path(&w.client, &[("prompt", "consent")]))
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/consent");
    let done = b.answer_consent(&reply, "allow").await;
    assert!(done.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn a_new_scope_asks_for_consent_again_and_prompt_none_then_fails() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let wider = authorize_path(&w.client, &[("scope", "openid appointment_write")]);
    let reply = b.get(&wider).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/consent");
    let consent = b.get(&reply.next_path()).await;
    assert!(consent
        .body
        .contains(&Scope::AppointmentWrite.description()));

    let silent = authorize_path(
        &w.client,
        &[("scope", "openid appointment_write"), ("prompt", "none")],
    );
    b.get(&silent)
        .await
        .assert_error_redirect(REDIRECT, "consent_required", Some("st-123"));
}

#[tokio::test]
async fn denying_consent_sends_access_denied() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let reply = b.answer_consent(&after_login, "deny").await;
    reply.assert_error_redirect(REDIRECT, "access_denied", Some("st-123"));
    // Nothing was remembered: the next request asks again.
    let again = b.get(&authorize_path(&w.client, &[])).await;
    assert_eq!(again.location().path(), "/oauth/consent");
}

#[tokio::test]
async fn a_consent_form_without_a_decision_is_refused() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let page = b.get(&after_login.next_path()).await;
    let reply = b
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("decision", "maybe"),
            ],
        )
        .await;
    reply.assert_error_page(400);
}

#[tokio::test]
async fn post_to_the_authorization_endpoint_works_like_get() {
    let w = world().await;
    let path = authorize_path(&w.client, &[]);
    let query = path.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let form: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = send(&w.app, Event::post("/oauth/authorize").form(&form)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.location().path(), "/oauth/login");
}

#[tokio::test]
async fn the_login_hint_prefills_the_email_field() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b
        .get(&authorize_path(&w.client, &[("login_hint", EMAIL)]))
        .await;
    let page = b.get(&reply.next_path()).await;
    assert!(
        page.body
            .contains(&format!(r#"name="email" value="{EMAIL}""#)),
        "{}",
        page.body
    );
}

// ---------------------------------------------------------------------------------------------
// Login: one message for every failure, CSRF, throttling.

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_identical_answer() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let (csrf, request) = (page.hidden("csrf_token"), page.hidden("request"));
    let attempt = |email: &'static str, password: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("request", request.clone()),
            ("email", email.to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let mut replies = Vec::new();
    for (email, password) in [(EMAIL, "wrong password!"), ("nobody@example.org", PASSWORD)] {
        let form = attempt(email, password);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = b.post("/oauth/login", &form).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert!(reply.body.contains(&english(BAD_CREDENTIALS)));
        assert!(
            reply
                .body
                .contains(&format!(r#"name="email" value="{email}""#)),
            "the email is kept"
        );
        assert!(reply
            .set_cookies()
            .iter()
            .all(|c| !c.starts_with("portal_session")));
        replies.push(reply.body.replace(email, "EMAIL"));
    }
    assert_eq!(
        replies[0], replies[1],
        "the two pages differ only by the typed email"
    );
}

#[tokio::test]
async fn a_login_without_a_matching_csrf_token_is_forbidden() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let request = page.hidden("request");
    let other = shared::oauth::csrf::new_token();
    for csrf in ["", other.as_str()] {
        let reply = b
            .post(
                "/oauth/login",
                &[
                    ("csrf_token", csrf),
                    ("request", &request),
                    ("email", EMAIL),
                    ("password", PASSWORD),
                ],
            )
            .await;
        reply.assert_error_page(403);
        assert!(reply
            .set_cookies()
            .iter()
            .all(|c| !c.starts_with("portal_session")));
    }
    // The right field but no cookie (a cross-site form cannot set it).
    let reply = send(
        &w.app,
        Event::post("/oauth/login").form(&[
            ("csrf_token", &page.hidden("csrf_token")),
            ("request", &request),
            ("email", EMAIL),
            ("password", PASSWORD),
        ]),
    )
    .await;
    reply.assert_error_page(403);
}

#[tokio::test]
async fn a_consent_without_a_matching_csrf_token_is_forbidden() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let page = b.get(&after_login.next_path()).await;
    let reply = b
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &shared::oauth::csrf::new_token()),
                ("request", &page.hidden("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    reply.assert_error_page(403);
    let reply = b
        .post(
            "/oauth/consent",
            &[("request", &page.hidden("request")), ("decision", "allow")],
        )
        .await;
    reply.assert_error_page(403);
}

/// Five failed sign-ins with `email`, then a sixth with `password`: the sixth reply.
async fn sixth_attempt(b: &mut Browser<'_>, client: &Client, email: &str, password: &str) -> Reply {
    let reply = b.get(&authorize_path(client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let (csrf, request) = (page.hidden("csrf_token"), page.hidden("request"));
    for attempt in 1..=6 {
        let typed = if attempt == 6 {
            password
        } else {
            "not the password"
        };
        let form = [
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("email", email),
            ("password", typed),
        ];
        let reply = b.post("/oauth/login", &form).await;
        if attempt == 6 {
            return reply;
        }
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
    }
    unreachable!()
}

#[tokio::test]
async fn after_five_failures_even_the_right_password_is_throttled() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = sixth_attempt(&mut b, &w.client, EMAIL, PASSWORD).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert!(reply.body.contains(&english(TOO_MANY_ATTEMPTS)));
    assert!(!reply.body.contains(&english(BAD_CREDENTIALS)));
    assert!(reply.headers.contains_key("retry-after"));
    assert!(reply
        .set_cookies()
        .iter()
        .all(|c| !c.starts_with("portal_session")));

    // An account that does not exist locks the same way, with the same page: lockout does not
    // reveal which accounts exist.
    let ghost = "ghost@example.org";
    let mut other = Browser::new(&w);
    let ghost_reply = sixth_attempt(&mut other, &w.client, ghost, PASSWORD).await;
    assert_eq!(ghost_reply.status, 429);
    let strip = |body: &str, email: &str, r: &Reply| {
        body.replace(email, "EMAIL")
            .replace(&r.hidden("csrf_token"), "CSRF")
            .replace(&r.hidden("request"), "REQUEST")
    };
    assert_eq!(
        strip(&reply.body, EMAIL, &reply),
        strip(&ghost_reply.body, ghost, &ghost_reply)
    );
}

#[tokio::test]
async fn an_empty_login_form_asks_for_both_fields() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let reply = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains(&english(MISSING_CREDENTIALS)));
}

// ---------------------------------------------------------------------------------------------
// Re-authentication.

#[tokio::test]
async fn max_age_zero_forces_a_new_sign_in() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    // The session is at least a second old before asking again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let path = authorize_path(&w.client, &[("max_age", "0")]);
    let reply = b.get(&path).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/login");
    let after = b.sign_in(&path, PASSWORD).await;
    assert_eq!(
        after.status, 302,
        "a fresh sign-in satisfies max_age=0: {}",
        after.body
    );
    assert!(after.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn prompt_login_forces_a_new_sign_in() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let path = authorize_path(&w.client, &[("prompt", "login")]);
    let after = b.sign_in(&path, PASSWORD).await;
    assert_eq!(after.status, 302, "{}", after.body);
    let code = open_code(&w, &after);
    assert!(
        code.auth_time >= now_unix() - 1,
        "auth_time is the new sign-in"
    );
}

#[tokio::test]
async fn the_consent_page_sends_a_patient_who_is_not_signed_in_to_login() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let consent_path = after_login.next_path();
    let reply = send(&w.app, Event::get(&consent_path)).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/login");
}

// ---------------------------------------------------------------------------------------------
// The sealed request.

#[tokio::test]
async fn a_tampered_or_missing_request_gets_a_400_start_again_page() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let sealed = page.hidden("request");
    let mut tampered = sealed.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for path in [
        format!("/oauth/login?request={}", enc(&tampered)),
        "/oauth/login?request=garbage".to_owned(),
        "/oauth/login".to_owned(),
        format!("/oauth/consent?request={}", enc(&tampered)),
    ] {
        let reply = b.get(&path).await;
        reply.assert_error_page(400);
        assert!(reply.body.contains("start again"), "{}", reply.body);
    }
    let reply = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &tampered),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    reply.assert_error_page(400);
    // An authorization code is sealed for another purpose: it is not a request.
    let code = w
        .ctx
        .context
        .keys
        .sealer()
        .seal_json(AuthorizationCode::PURPOSE, &json!({}))
        .unwrap();
    b.get(&format!("/oauth/login?request={}", enc(&code)))
        .await
        .assert_error_page(400);
}

// ---------------------------------------------------------------------------------------------
// Headers and cookies.

#[tokio::test]
async fn pages_carry_the_security_headers_and_no_cors_headers() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b
        .send(Event::get(&authorize_path(&w.client, &[])).header("origin", "https://evil.example"))
        .await;
    let login = b
        .send(Event::get(&reply.next_path()).header("origin", "https://evil.example"))
        .await;
    let error = send(
        &w.app,
        Event::get("/oauth/authorize?client_id=nobody").header("origin", "https://evil.example"),
    )
    .await;
    for page in [&login, &error] {
        let h = &page.headers;
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-frame-options"], "DENY");
    }
    for reply in [&reply, &login, &error] {
        assert!(
            reply
                .headers
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-")),
            "{:?}",
            reply.headers
        );
    }
}

#[tokio::test]
async fn over_https_the_cookies_are_host_prefixed_and_secure() {
    let ctx = TestContext::new();
    let data_dir = ctx.dir.path().display().to_string();
    let config = Config::from_lookup(|name| match name {
        "PORTAL_DATA_DIR" => Some(data_dir.clone()),
        "PORTAL_ISSUER" => Some("https://portal.example".to_owned()),
        _ => None,
    })
    .unwrap();
    let w = world_with(ctx, Some(config)).await;
    let reply = send(&w.app, Event::get(&authorize_path(&w.client, &[]))).await;
    let location = reply.location();
    assert!(location
        .as_str()
        .starts_with("https://portal.example/oauth/login?request="));
    let path = format!("{}?{}", location.path(), location.query().unwrap());
    let page = send(&w.app, Event::get(&path)).await;
    let csrf = page.set_cookies().into_iter().next().unwrap();
    assert!(
        csrf.starts_with("__Host-portal_csrf=") && csrf.contains("; Secure"),
        "{csrf}"
    );
    let token = page.hidden("csrf_token");
    let after = send(
        &w.app,
        Event::post("/oauth/login")
            .cookie("__Host-portal_csrf", &token)
            .form(&[
                ("csrf_token", &token),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
                ("password", PASSWORD),
            ]),
    )
    .await;
    assert_eq!(after.status, 303, "{}", after.body);
    let session = after
        .set_cookies()
        .into_iter()
        .find(|c| c.contains("portal_session"))
        .unwrap();
    assert!(session.starts_with("__Host-portal_session="), "{session}");
    assert!(
        session.contains("; Secure") && session.contains("HttpOnly") && session.contains("Path=/")
    );
    // The development cookie name means nothing over https.
    let dev = send(
        &w.app,
        Event::post("/oauth/login")
            .cookie("portal_csrf", &token)
            .form(&[
                ("csrf_token", &token),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
                ("password", PASSWORD),
            ]),
    )
    .await;
    dev.assert_error_page(403);
}

// ---------------------------------------------------------------------------------------------
// Logout.

#[tokio::test]
async fn logout_with_a_valid_hint_returns_to_the_registered_uri_and_ends_the_session() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let sid = b.session_cookie().expect("signed in");
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
            ("state", "bye-1"),
        ])
        .finish();
    let reply = b.get(&format!("/oauth/logout?{query}")).await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(
        reply.location().as_str(),
        "https://app.example/bye?state=bye-1"
    );
    assert!(reply
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("portal_session=;") && c.contains("Max-Age=0")));
    // The old cookie no longer names a session on the server.
    let silent = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")]))
            .cookie("portal_session", &sid),
    )
    .await;
    silent.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn logout_accepts_an_expired_hint_and_client_id_and_post() {
    let w = world().await;
    let expired = id_token(&w, w.client.id.as_str(), -86_400);
    let reply = send(
        &w.app,
        Event::post("/oauth/logout").form(&[
            ("id_token_hint", &expired),
            ("client_id", w.client.id.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ]),
    )
    .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(reply.location().as_str(), LOGOUT_REDIRECT);
    // client_id alone proves the client for its own registered URI.
    let reply = send(
        &w.app,
        Event::get(&format!(
            "/oauth/logout?client_id={}&post_logout_redirect_uri=https%3A%2F%2Fspa.example%2Fbye",
            w.public.id
        )),
    )
    .await;
    assert_eq!(reply.location().as_str(), "https://spa.example/bye");
}

#[tokio::test]
async fn logout_with_a_bad_hint_is_a_400_page_but_still_signs_out() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let sid = b.session_cookie().unwrap();
    let other_keys =
        shared::keys::KeySet::from_material(&shared::keys::KeyMaterial::generate().unwrap())
            .unwrap();
    let forged = other_keys
        .sign_jwt(
            "JWT",
            &json!({"iss": ISSUER, "aud": w.client.id.as_str(), "exp": now_unix() + 300}),
        )
        .unwrap();
    for hint in ["garbage", forged.as_str()] {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", LOGOUT_REDIRECT),
            ])
            .finish();
        let reply = send(
            &w.app,
            Event::get(&format!("/oauth/logout?{query}")).cookie("portal_session", &sid),
        )
        .await;
        reply.assert_error_page(400);
        assert!(reply.body.contains("id_token_hint"), "{}", reply.body);
        assert!(reply.set_cookies().iter().any(|c| c.contains("Max-Age=0")));
    }
    let silent = send(
        &w.app,
        Event::get(&authorize_path(&w.client, &[("prompt", "none")]))
            .cookie("portal_session", &sid),
    )
    .await;
    silent.assert_error_redirect(REDIRECT, "login_required", Some("st-123"));
}

#[tokio::test]
async fn logout_never_redirects_to_an_unregistered_or_unproven_uri() {
    let w = world().await;
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        // Not registered for this client.
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://evil.example/bye"),
        ],
        // Registered, but for another client than the hint's.
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://spa.example/bye"),
        ],
        // No way to know the client.
        vec![("post_logout_redirect_uri", LOGOUT_REDIRECT)],
        // client_id and hint disagree.
        vec![
            ("id_token_hint", &hint),
            ("client_id", w.public.id.as_str()),
            ("post_logout_redirect_uri", LOGOUT_REDIRECT),
        ],
        // A redirect URI is not a post-logout URI.
        vec![
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", REDIRECT),
        ],
    ];
    for case in cases {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&case)
            .finish();
        let reply = send(&w.app, Event::get(&format!("/oauth/logout?{query}"))).await;
        reply.assert_error_page(400);
    }
}

#[tokio::test]
async fn logout_without_a_redirect_uri_shows_the_signed_out_page() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    let reply = b.get("/oauth/logout").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("You are signed out"));
    assert!(reply.headers.get("location").is_none());
    assert!(b.session_cookie().is_none(), "the cookie was expired");
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let reply = send(
        &w.app,
        Event::get(&format!("/oauth/logout?id_token_hint={hint}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn other_methods_and_paths_are_refused() {
    let w = world().await;
    let reply = send(&w.app, Event::new("DELETE", "/oauth/login")).await;
    assert_eq!(reply.status, 405);
    let reply = send(
        &w.app,
        Event::post("/oauth/login").json(&json!({"email": EMAIL})),
    )
    .await;
    assert_eq!(reply.status, 415);
}
