//! A scripted patient for end-to-end tests against a running portal: an HTTP client with a cookie
//! store that does NOT follow redirects, so every hop (303 to the login page, 303 to consent, 302 to
//! the app) is seen and checked, and the pages are driven the way a browser without JavaScript does:
//! read the form's hidden fields (`csrf_token`, `request`), fill in the rest, post it.
//!
//! [`sign_in_and_authorize`] runs a whole sign-in in a fresh browser; [`Browser`] keeps its cookies
//! between calls, so a test can sign in once and then try `prompt=none`, logout, and so on.

use std::time::Duration;

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use testkit::forms::{form_action, hidden_field};
use url::Url;

/// The patient's answer on the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Press "Allow".
    Allow,
    /// Press "Deny".
    Deny,
}

impl Decision {
    fn value(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

/// Where a navigation ended.
#[derive(Clone, Debug)]
pub enum Landing {
    /// A redirect that leaves the portal (to the app): its `Location`.
    App(Url),
    /// A page of the portal.
    Page {
        /// The page's URL.
        url: Url,
        /// Its status.
        status: StatusCode,
        /// Its HTML.
        html: String,
    },
}

/// Most redirects followed inside the portal before giving up (a loop is a bug worth reporting).
const MAX_HOPS: usize = 10;

/// Per-request limit. Generous because `cargo lambda watch` compiles a function on its first
/// request, which on a busy 2-core machine can take minutes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A browser with its own cookies.
pub struct Browser {
    http: reqwest::Client,
    base: Url,
}

impl Browser {
    /// A browser with an empty cookie jar for the portal at `base_url`.
    pub fn new(base_url: &str) -> Result<Browser, String> {
        let base = Url::parse(base_url).map_err(|e| format!("bad base URL {base_url}: {e}"))?;
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Browser { http, base })
    }

    /// Whether `url` is a page of the portal (rather than the app's redirect URI).
    fn is_portal(&self, url: &Url) -> bool {
        url.origin() == self.base.origin() && url.path().starts_with("/oauth/")
    }

    /// Opens `url` and follows redirects inside the portal until the browser lands on a portal
    /// page or is sent to the app.
    pub async fn open(&self, url: &str) -> Result<Landing, String> {
        let url = Url::parse(url).map_err(|e| format!("bad URL {url}: {e}"))?;
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        self.land(url, response).await
    }

    /// Posts a form and follows redirects like [`Browser::open`].
    pub async fn post_form(&self, url: &Url, fields: &[(&str, &str)]) -> Result<Landing, String> {
        let response = self
            .http
            .post(url.clone())
            .form(fields)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        self.land(url.clone(), response).await
    }

    async fn land(&self, mut url: Url, mut response: reqwest::Response) -> Result<Landing, String> {
        for _ in 0..MAX_HOPS {
            if !response.status().is_redirection() {
                let status = response.status();
                let html = response
                    .text()
                    .await
                    .map_err(|e| format!("reading {url}: {e}"))?;
                return Ok(Landing::Page { url, status, html });
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("{url} redirected without a Location"))?;
            let next = url
                .join(location)
                .map_err(|e| format!("bad Location {location}: {e}"))?;
            if !self.is_portal(&next) {
                return Ok(Landing::App(next));
            }
            url = next;
            response = self
                .http
                .get(url.clone())
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
        }
        Err(format!("more than {MAX_HOPS} redirects inside the portal"))
    }

    /// Runs an authorization request to its end: signs in if the login page appears, answers the
    /// consent page if it appears, and returns the redirect to the app (with `code` or `error`).
    pub async fn authorize(
        &self,
        authorize_url: &str,
        email: &str,
        password: &str,
        decision: Decision,
    ) -> Result<Url, String> {
        let mut landing = self.open(authorize_url).await?;
        let mut signed_in = false;
        let mut consented = false;
        loop {
            let (url, status, html) = match landing {
                Landing::App(url) => return Ok(url),
                Landing::Page { url, status, html } => (url, status, html),
            };
            if status != StatusCode::OK {
                return Err(format!("{url} answered {status}: {}", page_text(&html)));
            }
            landing = match url.path() {
                "/oauth/login" if !signed_in => {
                    signed_in = true;
                    self.submit(&url, &html, &[("email", email), ("password", password)])
                        .await?
                }
                "/oauth/consent" if !consented => {
                    consented = true;
                    self.submit(&url, &html, &[("decision", decision.value())])
                        .await?
                }
                _ => return Err(format!("unexpected page {url}: {}", page_text(&html))),
            };
        }
    }

    /// Runs an authorization request that must not show any page (`prompt=none`, or remembered
    /// consent with a live session) and returns the redirect to the app.
    pub async fn authorize_silently(&self, authorize_url: &str) -> Result<Url, String> {
        match self.open(authorize_url).await? {
            Landing::App(url) => Ok(url),
            Landing::Page { url, status, html } => Err(format!(
                "expected a redirect to the app, got page {url} ({status}): {}",
                page_text(&html)
            )),
        }
    }

    /// Submits the page's form with its hidden fields plus `fields`.
    pub async fn submit(
        &self,
        page: &Url,
        html: &str,
        fields: &[(&str, &str)],
    ) -> Result<Landing, String> {
        let action = form_action(html).ok_or_else(|| format!("no form on {page}"))?;
        let target = page
            .join(&action)
            .map_err(|e| format!("bad form action {action}: {e}"))?;
        let csrf = hidden_field(html, "csrf_token")
            .ok_or_else(|| format!("no csrf_token field on {page}"))?;
        let request =
            hidden_field(html, "request").ok_or_else(|| format!("no request field on {page}"))?;
        let mut all = vec![("csrf_token", csrf.as_str()), ("request", request.as_str())];
        all.extend_from_slice(fields);
        self.post_form(&target, &all).await
    }

    /// RP-initiated logout: opens `/oauth/logout` with `params` and returns where it ended.
    pub async fn logout(&self, params: &[(&str, &str)]) -> Result<Landing, String> {
        let mut url = self
            .base
            .join("/oauth/logout")
            .map_err(|e| format!("logout URL: {e}"))?;
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        // Logout's redirect goes to the app: report it rather than following.
        self.land(url, response).await
    }
}

/// Signs in and answers consent in a fresh browser; returns the final redirect to the app.
pub async fn sign_in_and_authorize(
    base_url: &str,
    authorize_url: &str,
    email: &str,
    password: &str,
    decision: Decision,
) -> Result<Url, String> {
    Browser::new(base_url)?
        .authorize(authorize_url, email, password, decision)
        .await
}

/// A page's visible text, roughly, for error messages.
fn page_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    let body = html.find("<main>").map_or(html, |i| &html[i..]);
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<main><h1>Sign in</h1><form method="post" action="login">
<input type="hidden" name="csrf_token" value="abc_-123">
<input type="hidden" name="request" value="k1.a&#43;b&amp;c">
<input type="email" id="email" name="email" value="" required></form></main>"#;

    #[test]
    fn a_pages_text_is_its_main_content_without_tags() {
        assert_eq!(page_text(PAGE), "Sign in");
    }
}
