//! The OAuth-flow driver: one app and one patient, through the portal's HTTP front door.
//!
//! [`Driver::sign_in`] goes through the pages once, as a browser without JavaScript does —
//! `/oauth/authorize` → login form (its `csrf_token` and sealed `request` read from the page) →
//! consent form → the redirect to the app with a code — and keeps the session cookie. After that,
//! [`Driver::flow`] is the repeated flow a benchmark or a soak measures: authorize with the live
//! session (straight back to the app with a code, no page), exchange the code (PKCE S256),
//! userinfo, refresh. Each call is one step in the shared [`Stats`].

use std::sync::Arc;

use serde_json::Value;
use shared::crypto::{random_token, sha256_b64url};
use url::Url;

use crate::http::{Answer, EmulatorFault, Http, Stats};
use testkit::forms::{form_action, hidden_field};

/// A registered client as the driver uses it.
#[derive(Clone, Debug)]
pub struct App {
    /// `client_id`.
    pub client_id: String,
    /// The secret of a confidential client (`client_secret_basic`); `None` for a public one.
    pub client_secret: Option<String>,
    /// A registered redirect URI (never opened: the driver stops at the redirect).
    pub redirect_uri: String,
    /// The scopes to ask for.
    pub scope: String,
}

/// A patient's sign-in.
#[derive(Clone, Debug)]
pub struct Account {
    /// Sign-in email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// A token response.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<String>,
    /// The grant (refresh-token family) the tokens belong to: the access token's `gid` claim.
    pub grant_id: String,
}

/// An authorization code with the PKCE verifier of its request.
#[derive(Clone, Debug)]
pub struct Code {
    code: String,
    verifier: String,
}

/// Why a step did not give what the flow needs.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The emulator failed the request.
    #[error(transparent)]
    Emulator(#[from] EmulatorFault),
    /// The function answered, but not as the flow expects.
    #[error("{step}: {status} {body}")]
    Refused {
        /// The step.
        step: &'static str,
        /// Its status.
        status: u16,
        /// Its body (shortened).
        body: String,
    },
}

impl FlowError {
    fn refused(step: &'static str, answer: &Answer) -> Self {
        FlowError::Refused {
            step,
            status: answer.status,
            body: answer.body.chars().take(300).collect(),
        }
    }
}

/// Where an authorization server has its endpoints, and how a patient signs in there.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// The authorization endpoint's path.
    pub authorize: &'static str,
    /// The token endpoint's path.
    pub token: &'static str,
    /// The userinfo endpoint's path.
    pub userinfo: &'static str,
    /// Whether signing in goes through the portal's login and consent forms; otherwise the
    /// server finishes the interaction by itself and the driver only follows its redirects.
    pub forms: bool,
}

impl Endpoints {
    /// The portal's.
    pub fn portal() -> Self {
        Self {
            authorize: "/oauth/authorize",
            token: "/oauth/token",
            userinfo: "/oauth/userinfo",
            forms: true,
        }
    }

    /// node's oidc-provider as `make bench-e2e` configures it (bench/oidc-provider/server.js:
    /// its interaction page signs the bench account in and consents at once).
    pub fn oidc_provider() -> Self {
        Self {
            authorize: "/auth",
            token: "/token",
            userinfo: "/me",
            forms: false,
        }
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::portal()
    }
}

/// Most redirects a sign-in without forms follows before it must be back at the app.
const MAX_REDIRECTS: usize = 10;

/// One app signed in as one patient, with a browser (cookies) and a backend (no cookies).
pub struct Driver {
    browser: Http,
    backend: Http,
    base: Url,
    app: App,
    account: Account,
    endpoints: Endpoints,
}

impl Driver {
    /// A driver for the portal at `base_url` (also the issuer), counting into `stats`.
    ///
    /// # Errors
    /// When the URL or an HTTP client cannot be made.
    pub fn new(
        base_url: &str,
        app: App,
        account: Account,
        stats: Arc<Stats>,
    ) -> Result<Self, String> {
        let base = Url::parse(base_url).map_err(|e| format!("bad base URL {base_url}: {e}"))?;
        let http = |cookies| Http::new(stats.clone(), cookies).map_err(|e| e.to_string());
        Ok(Self {
            browser: http(true)?,
            backend: http(false)?,
            base,
            app,
            account,
            endpoints: Endpoints::portal(),
        })
    }

    /// The same driver for a server with other endpoints (the benchmark's peer).
    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// The app.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The backend's HTTP client (no cookies), for resource calls with a bearer token.
    pub fn backend(&self) -> &Http {
        &self.backend
    }

    /// The portal URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// Signs in through the login and consent pages (each read once) and returns the code.
    pub async fn sign_in(&self) -> Result<Code, FlowError> {
        if !self.endpoints.forms {
            return self.sign_in_by_redirects().await;
        }
        let (start, verifier) = self.authorize_url();
        let answer = self
            .browser
            .send("sign-in: authorize", self.browser.client().get(start))
            .await?;
        let login = self.location(&answer, "sign-in: authorize", 303)?;
        let page = self
            .browser
            .send(
                "sign-in: login page",
                self.browser.client().get(login.clone()),
            )
            .await?;
        if page.status != 200 {
            return Err(FlowError::refused("sign-in: login page", &page));
        }
        let fields = [
            ("email", self.account.email.as_str()),
            ("password", self.account.password.as_str()),
        ];
        let answer = self
            .submit("sign-in: login", &login, &page.body, &fields)
            .await?;
        let mut next = match answer.status {
            303 | 302 => self.location(&answer, "sign-in: login", answer.status)?,
            _ => return Err(FlowError::refused("sign-in: login", &answer)),
        };
        if next.path() == "/oauth/consent" {
            let page = self
                .browser
                .send(
                    "sign-in: consent page",
                    self.browser.client().get(next.clone()),
                )
                .await?;
            if page.status != 200 {
                return Err(FlowError::refused("sign-in: consent page", &page));
            }
            let answer = self
                .submit(
                    "sign-in: consent",
                    &next,
                    &page.body,
                    &[("decision", "allow")],
                )
                .await?;
            next = self.location(&answer, "sign-in: consent", 302)?;
        }
        self.code_from(&next, "sign-in", verifier)
    }

    /// Signs in where the server finishes the interaction itself: follows its redirects (keeping
    /// its cookies) until one goes to the app with a code.
    async fn sign_in_by_redirects(&self) -> Result<Code, FlowError> {
        let (mut next, verifier) = self.authorize_url();
        for _ in 0..MAX_REDIRECTS {
            if next.as_str().starts_with(&self.app.redirect_uri) {
                return self.code_from(&next, "sign-in", verifier);
            }
            let answer = self
                .browser
                .send("sign-in: redirect", self.browser.client().get(next.clone()))
                .await?;
            next = match answer.status {
                302 | 303 => self.location(&answer, "sign-in: redirect", answer.status)?,
                _ => return Err(FlowError::refused("sign-in: redirect", &answer)),
            };
        }
        Err(FlowError::Refused {
            step: "sign-in: redirect",
            status: 0,
            body: format!("still not back at the app after {MAX_REDIRECTS} redirects"),
        })
    }

    /// Authorizes with the live session: straight back to the app with a code (no page).
    pub async fn authorize(&self) -> Result<Code, FlowError> {
        let (url, verifier) = self.authorize_url();
        let answer = self
            .browser
            .send("authorize", self.browser.client().get(url))
            .await?;
        // The portal answers 302; oidc-provider 303 (both RFC 6749 §4.1.2 redirects).
        let status = if answer.status == 303 { 303 } else { 302 };
        let location = self.location(&answer, "authorize", status)?;
        self.code_from(&location, "authorize", verifier)
    }

    /// Exchanges a code (authorization_code grant, PKCE).
    pub async fn exchange(&self, code: &Code) -> Result<Tokens, FlowError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.code.as_str()),
            ("redirect_uri", self.app.redirect_uri.as_str()),
            ("code_verifier", code.verifier.as_str()),
        ];
        self.token("token: code", &form).await
    }

    /// Refreshes (refresh_token grant).
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, FlowError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.token("token: refresh", &form).await
    }

    /// The userinfo claims of an access token.
    pub async fn userinfo(&self, access_token: &str) -> Result<Value, FlowError> {
        let request = self
            .backend
            .client()
            .get(self.url(self.endpoints.userinfo))
            .bearer_auth(access_token);
        let answer = self.backend.send("userinfo", request).await?;
        match answer.status {
            200 => Ok(answer.json()),
            _ => Err(FlowError::refused("userinfo", &answer)),
        }
    }

    /// The repeated flow: authorize (live session) → token (code + PKCE) → userinfo → refresh.
    /// The tokens of the refresh; the grant moved on once.
    pub async fn flow(&self) -> Result<Tokens, FlowError> {
        let code = self.authorize().await?;
        let tokens = self.exchange(&code).await?;
        self.userinfo(&tokens.access_token).await?;
        let refresh = tokens.refresh_token.as_deref().unwrap_or_default();
        self.refresh(refresh).await
    }

    /// A token request with the app's client authentication.
    pub async fn token(
        &self,
        step: &'static str,
        form: &[(&str, &str)],
    ) -> Result<Tokens, FlowError> {
        let mut request = self.backend.client().post(self.url(self.endpoints.token));
        let mut fields = form.to_vec();
        match &self.app.client_secret {
            Some(secret) => request = request.basic_auth(&self.app.client_id, Some(secret)),
            None => fields.push(("client_id", self.app.client_id.as_str())),
        }
        let answer = self.backend.send(step, request.form(&fields)).await?;
        if answer.status != 200 {
            return Err(FlowError::refused(step, &answer));
        }
        let body = answer.json();
        let access_token = body["access_token"].as_str().unwrap_or_default().to_owned();
        Ok(Tokens {
            grant_id: grant_of(&access_token).unwrap_or_default(),
            access_token,
            refresh_token: body["refresh_token"].as_str().map(str::to_owned),
        })
    }

    /// `/oauth/authorize?…` with a fresh state, nonce and PKCE pair; the URL and the verifier.
    fn authorize_url(&self) -> (Url, String) {
        let verifier = random_token(32);
        let challenge = sha256_b64url(verifier.as_bytes());
        let mut url = self
            .base
            .join(self.endpoints.authorize)
            .expect("a path joins");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.app.client_id)
            .append_pair("redirect_uri", &self.app.redirect_uri)
            .append_pair("scope", &self.app.scope)
            .append_pair("state", &random_token(8))
            .append_pair("nonce", &random_token(8))
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        (url, verifier)
    }

    /// Posts a page's form: its hidden fields plus `fields`.
    async fn submit(
        &self,
        step: &'static str,
        page: &Url,
        html: &str,
        fields: &[(&str, &str)],
    ) -> Result<Answer, FlowError> {
        let missing = |what: &str| FlowError::Refused {
            step,
            status: 200,
            body: format!("the page has no {what}"),
        };
        let action = form_action(html).ok_or_else(|| missing("form"))?;
        let target = page
            .join(&action)
            .map_err(|_| missing("usable form action"))?;
        let csrf = hidden_field(html, "csrf_token").ok_or_else(|| missing("csrf_token"))?;
        let request = hidden_field(html, "request").ok_or_else(|| missing("request field"))?;
        let mut all = vec![("csrf_token", csrf.as_str()), ("request", request.as_str())];
        all.extend_from_slice(fields);
        let post = self.browser.client().post(target).form(&all);
        Ok(self.browser.send(step, post).await?)
    }

    /// The `Location` of a redirect with the expected status.
    fn location(&self, answer: &Answer, step: &'static str, status: u16) -> Result<Url, FlowError> {
        if answer.status != status {
            return Err(FlowError::refused(step, answer));
        }
        answer
            .header("location")
            .and_then(|location| self.base.join(location).ok())
            .ok_or_else(|| FlowError::refused(step, answer))
    }

    /// The code of a redirect back to the app.
    fn code_from(
        &self,
        location: &Url,
        step: &'static str,
        verifier: String,
    ) -> Result<Code, FlowError> {
        let code = location
            .as_str()
            .starts_with(&self.app.redirect_uri)
            .then(|| {
                location
                    .query_pairs()
                    .find(|(name, _)| name == "code")
                    .map(|(_, code)| code.into_owned())
            })
            .flatten();
        code.map(|code| Code { code, verifier })
            .ok_or_else(|| FlowError::Refused {
                step,
                status: 302,
                body: format!("no code in the redirect to {location}"),
            })
    }
}

/// The `gid` claim of an access token (its payload read, not verified: the portal verifies).
pub fn grant_of(access_token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = access_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["gid"].as_str().map(str::to_owned)
}
