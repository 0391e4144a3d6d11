//! A small client of the booking API (`/api/portal/v1`): bearer token, JSON in and out, and the
//! contract's error shape (`{"error", "error_description"}`) turned into [`ApiFailure`].

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use crate::Error;

/// A request the API refused, or that never got an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiFailure {
    /// `GET /api/portal/v1/...` as sent.
    pub request: String,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// The `error` code of the answer (or `transport` / `bad_response`).
    pub error: String,
    /// The `error_description`, or what went wrong.
    pub description: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "{} answered {status} {}: {}",
                self.request, self.error, self.description
            ),
            None => write!(f, "{} failed: {}", self.request, self.description),
        }
    }
}

/// The booking API with one access token.
pub struct PortalApi {
    http: reqwest::Client,
    base: Url,
    access_token: String,
}

impl PortalApi {
    /// The API under `issuer` (`<issuer>/api/portal/v1`), called with `access_token`.
    pub fn new(http: reqwest::Client, issuer: &str, access_token: String) -> Result<Self, Error> {
        let base = Url::parse(&format!("{}/api/portal/v1/", issuer.trim_end_matches('/')))
            .map_err(|e| Error::Config(format!("issuer {issuer}: {e}")))?;
        Ok(PortalApi {
            http,
            base,
            access_token,
        })
    }

    /// The URL of `path` (relative to the API base) with `query` appended.
    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, ApiFailure> {
        let mut url = self.base.join(path).map_err(|e| ApiFailure {
            request: path.to_owned(),
            status: None,
            error: "bad_request".into(),
            description: e.to_string(),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
    }

    /// `GET path?query`.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ApiFailure> {
        self.call(Method::GET, path, query, None, None).await
    }

    /// Sends a request and returns the JSON body of a 2xx answer.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ApiFailure> {
        let url = self.url(path, query)?;
        let request_line = format!("{method} {}", request_path(&url));
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(&self.access_token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(|e| ApiFailure {
            request: request_line.clone(),
            status: None,
            error: "transport".into(),
            description: e.to_string(),
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| ApiFailure {
            request: request_line.clone(),
            status: Some(status.as_u16()),
            error: "transport".into(),
            description: e.to_string(),
        })?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return json.ok_or_else(|| ApiFailure {
                request: request_line,
                status: Some(status.as_u16()),
                error: "bad_response".into(),
                description: "the answer is not JSON".into(),
            });
        }
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Err(ApiFailure {
            request: request_line,
            status: Some(status.as_u16()),
            error: field("error").unwrap_or_else(|| default_code(status)),
            description: field("error_description").unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("no description")
                    .to_owned()
            }),
        })
    }
}

fn request_path(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

fn default_code(status: StatusCode) -> String {
    format!("http_{}", status.as_u16())
}

/// Per-request limit. Generous: under `make run`, `cargo lambda watch` compiles each function on its
/// first request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
