//! Shared helpers of the end-to-end tests (`tests/e2e_*.rs`) that run against the portal served by
//! `cargo lambda watch` ([`crate::watch::portal`]).
//!
//! Every test owns its data: [`E2e::confidential_client`], [`E2e::public_client`] and
//! [`E2e::patient`] register a fresh client or patient (unique id, unique email) directly in the
//! portal's own store, the way `portal-admin` does, so tests run in parallel on one server without
//! seeing each other. Nothing here waits by sleeping: the server is up once [`crate::watch::portal`]
//! returns, and each function starts on its first request (the HTTP clients allow for that).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use reqwest::StatusCode;
use shared::domain::client::{Client, RedirectUri};
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::SharedStore;
use testkit::patients::{self, BIRTHDATE, FAMILY_NAME, GIVEN_NAME, PHONE};
use url::Url;

use crate::browser::{Browser, Decision, Landing};
use crate::watch::{localhost_portal, portal, LocalPortal};
use testkit::forms::{decode_entities, hidden_field};

/// Per-request limit of the relying party's HTTP client: generous, because `cargo lambda watch`
/// starts (and, outside `make test`, compiles) a function on its first request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The test run's portal and a handle on its store.
pub struct E2e {
    /// The running portal (`base_url` is also the issuer).
    pub portal: &'static LocalPortal,
    /// The portal's own store, for registering clients and patients.
    pub store: SharedStore,
}

/// A client registered for one test.
#[derive(Clone, Debug)]
pub struct TestClient {
    /// Its `client_id`.
    pub id: String,
    /// Its secret (confidential clients only).
    pub secret: Option<String>,
    /// The first registered redirect URI.
    pub redirect_uri: String,
    /// A second registered redirect URI (for mismatch tests).
    pub other_redirect_uri: String,
    /// The registered post-logout redirect URI.
    pub post_logout_redirect_uri: String,
}

impl TestClient {
    /// The secret of a confidential client.
    pub fn secret(&self) -> &str {
        self.secret
            .as_deref()
            .expect("this test needs a confidential client")
    }
}

/// A patient registered for one test.
#[derive(Clone, Debug)]
pub struct TestPatient {
    /// Patient id, the `sub` claim.
    pub id: String,
    /// Sign-in email (unique per test).
    pub email: String,
    /// Sign-in password.
    pub password: String,
    /// `given_name`.
    pub given_name: String,
    /// `family_name`.
    pub family_name: String,
    /// `birthdate` (YYYY-MM-DD).
    pub birthdate: String,
    /// `phone_number`, as stored (normalised by `Phone::parse`).
    pub phone: String,
}

impl E2e {
    /// The shared portal (started for this process if `make test` did not start one) and its store.
    pub async fn new() -> E2e {
        Self::on(portal()).await
    }

    /// The portal whose issuer is `http://localhost:PORT` ([`localhost_portal`]), for passkeys in a
    /// browser, and its store.
    pub async fn on_localhost() -> E2e {
        Self::on(localhost_portal()).await
    }

    async fn on(portal: &'static LocalPortal) -> E2e {
        let store = shared::boot::connect_store(&portal.config())
            .await
            .expect("open the portal's store");
        E2e { portal, store }
    }

    /// The issuer (= base URL, no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.portal.base_url
    }

    /// A URL on the portal.
    pub fn url(&self, path: &str) -> String {
        self.portal.url(path)
    }

    /// `url(path)` with the `https` scheme, for library calls that insist on TLS; send them through
    /// [`LoopbackTls`].
    pub fn https_url(&self, path: &str) -> String {
        let url = self.url(path);
        match url.strip_prefix("http://") {
            Some(rest) => format!("https://{rest}"),
            None => url,
        }
    }

    /// A browser with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.portal.base_url).expect("browser")
    }

    /// Registers a confidential client allowed every scope; its secret is in [`TestClient::secret`].
    pub async fn confidential_client(&self) -> TestClient {
        let (uris, logout) = client_uris();
        let (client, secret) =
            Client::new_confidential("E2E confidential app", registered(&uris), Scopes::all())
                .expect("valid client");
        self.register(client, uris, logout, Some(secret)).await
    }

    /// Registers a public client (no secret, PKCE required) allowed every scope.
    pub async fn public_client(&self) -> TestClient {
        let (uris, logout) = client_uris();
        let client = Client::new_public("E2E public app", registered(&uris), Scopes::all())
            .expect("valid client");
        self.register(client, uris, logout, None).await
    }

    async fn register(
        &self,
        client: Client,
        uris: [String; 2],
        logout: String,
        secret: Option<String>,
    ) -> TestClient {
        let client = client
            .with_post_logout_redirect_uris(registered(std::slice::from_ref(&logout)))
            .expect("valid post-logout URI");
        ClientRepo::new(self.store.clone())
            .create(&client)
            .await
            .expect("register the client");
        let [redirect_uri, other_redirect_uri] = uris;
        TestClient {
            id: client.id.to_string(),
            secret,
            redirect_uri,
            other_redirect_uri,
            post_logout_redirect_uri: logout,
        }
    }

    /// Registers (again) the API documentation's public client for this portal's issuer, as
    /// `portal-admin docs-client` does; returns its display name.
    pub async fn docs_client(&self) -> &'static str {
        use shared::openapi::docs_client;

        let client = docs_client::client(self.issuer(), shared::store::now_unix())
            .expect("a valid documentation client");
        ClientRepo::new(self.store.clone())
            .replace(&client)
            .await
            .expect("register the documentation client");
        docs_client::CLIENT_NAME
    }

    /// Registers a patient with a unique email, a phone number and a random password.
    pub async fn patient(&self) -> TestPatient {
        let email = format!("e2e.{}@example.org", unique());
        let password = format!("pw-{}", unique());
        let mut patient = patients::patient(&email, Some(PHONE));
        patient.email_verified = true;
        patients::register(&self.store, &patient, Some(&password)).await;
        TestPatient {
            id: patient.id.to_string(),
            email,
            password,
            given_name: GIVEN_NAME.into(),
            family_name: FAMILY_NAME.into(),
            birthdate: BIRTHDATE.into(),
            phone: patient
                .phone
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// Two redirect URIs and a post-logout URI unique to one client. They are never opened: the
/// [`Browser`] stops at the redirect to the app.
fn client_uris() -> ([String; 2], String) {
    let host = format!("https://rp-{}.example", unique().to_ascii_lowercase());
    (
        [format!("{host}/callback"), format!("{host}/callback/other")],
        format!("{host}/signed-out"),
    )
}

fn registered(uris: &[String]) -> Vec<RedirectUri> {
    uris.iter()
        .map(|u| RedirectUri::parse(u).expect("valid redirect URI"))
        .collect()
}

/// A random tag for unique names.
pub fn unique() -> String {
    shared::crypto::random_id(16)
}

/// The relying party's HTTP client: never follows redirects (as `oauth2` and `openidconnect`
/// require, so a redirecting endpoint cannot turn the client into an SSRF tool).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("HTTP client")
}

/// An HTTP client for the `oauth2` library that stands in for TLS termination in front of the
/// loopback portal: requests to `https://127.0.0.1:…` or `https://localhost:…` go out as plain http
/// to the same address (deployed, API Gateway terminates TLS the same way). `oauth2` refuses to send
/// an RFC 7009 revocation request to a non-https URL, which is right for real deployments, and this
/// lets the tests use the library's own revocation call against the local server.
#[derive(Clone, Debug)]
pub struct LoopbackTls {
    http: reqwest::Client,
}

impl LoopbackTls {
    /// Wraps [`http_client`].
    pub fn new() -> Self {
        Self {
            http: http_client(),
        }
    }
}

impl Default for LoopbackTls {
    fn default() -> Self {
        Self::new()
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for LoopbackTls {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, mut request: oauth2::HttpRequest) -> Self::Future {
        let uri = request.uri().to_string();
        let loopback = ["https://127.0.0.1:", "https://localhost:"]
            .iter()
            .any(|prefix| uri.starts_with(prefix));
        if loopback {
            if let Ok(plain) = format!("http://{}", &uri["https://".len()..]).parse() {
                *request.uri_mut() = plain;
            }
        }
        oauth2::AsyncHttpClient::call(&self.http, request)
    }
}

/// The query parameters of a URL (the last value wins; tests check repetition separately).
pub fn query_params(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// Whether `url` is `redirect_uri` plus a query (same scheme, host and path).
pub fn is_redirect_to(url: &Url, redirect_uri: &str) -> bool {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.as_str() == redirect_uri
}

/// The `code` of a successful authorization response, after checking that it went to
/// `redirect_uri` with the expected `state` and `iss` (RFC 9207).
pub fn code_from(url: &Url, redirect_uri: &str, state: Option<&str>, issuer: &str) -> String {
    assert!(is_redirect_to(url, redirect_uri), "redirected to {url}");
    let params = query_params(url);
    assert!(!params.contains_key("error"), "authorization failed: {url}");
    assert_eq!(params.get("state").map(String::as_str), state, "{url}");
    assert_eq!(params.get("iss").map(String::as_str), Some(issuer), "{url}");
    params
        .get("code")
        .unwrap_or_else(|| panic!("no code in {url}"))
        .clone()
}

/// The `error` of an error redirect to `redirect_uri`, after checking its `state` and `iss`.
pub fn error_from(url: &Url, redirect_uri: &str, state: Option<&str>, issuer: &str) -> String {
    assert!(is_redirect_to(url, redirect_uri), "redirected to {url}");
    let params = query_params(url);
    assert!(
        !params.contains_key("code"),
        "an error carries no code: {url}"
    );
    assert_eq!(params.get("state").map(String::as_str), state, "{url}");
    assert_eq!(params.get("iss").map(String::as_str), Some(issuer), "{url}");
    assert!(
        params
            .get("error_description")
            .is_some_and(|d| !d.is_empty()),
        "no error_description: {url}"
    );
    params
        .get("error")
        .unwrap_or_else(|| panic!("no error in {url}"))
        .clone()
}

/// The text of a page's alert (`role="alert"`), entities decoded.
pub fn alert_text(html: &str) -> Option<String> {
    let at = html.find("role=\"alert\"")?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find("</")?;
    Some(decode_entities(html[start..end].trim()))
}

/// A portal page a navigation must end on, with its URL, status and HTML.
pub fn expect_page(landing: Landing) -> (Url, StatusCode, String) {
    match landing {
        Landing::Page { url, status, html } => (url, status, html),
        Landing::App(url) => panic!("expected a portal page, was sent to the app: {url}"),
    }
}

/// The app URL a navigation must end on.
pub fn expect_app(landing: Landing) -> Url {
    match landing {
        Landing::App(url) => url,
        Landing::Page { url, status, html } => panic!(
            "expected a redirect to the app, got page {url} ({status}): {}",
            alert_text(&html).unwrap_or_default()
        ),
    }
}

/// Continues a sign-in that is on a portal page: fills in the login page and answers the consent
/// page (each at most once) until the browser is sent to the app.
pub async fn finish_sign_in(
    browser: &Browser,
    mut landing: Landing,
    patient: &TestPatient,
    decision: Decision,
) -> Url {
    let (mut signed_in, mut consented) = (false, false);
    loop {
        let (url, status, html) = match landing {
            Landing::App(url) => return url,
            Landing::Page { url, status, html } => (url, status, html),
        };
        assert_eq!(
            status,
            StatusCode::OK,
            "{url}: {}",
            alert_text(&html).unwrap_or_default()
        );
        landing = match url.path() {
            "/oauth/login" if !signed_in => {
                signed_in = true;
                let fields = [
                    ("email", patient.email.as_str()),
                    ("password", patient.password.as_str()),
                ];
                browser.submit(&url, &html, &fields).await
            }
            "/oauth/consent" if !consented => {
                consented = true;
                let answer = match decision {
                    Decision::Allow => "allow",
                    Decision::Deny => "deny",
                };
                browser.submit(&url, &html, &[("decision", answer)]).await
            }
            other => panic!("unexpected page {other}: {html}"),
        }
        .expect("form submission");
    }
}

/// The email pre-filled in a login page.
pub fn prefilled_email(html: &str) -> Option<String> {
    hidden_field(html, "email")
}

/// Polls `condition` every 50 ms until it holds; panics after `limit`.
pub async fn poll_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
