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

    /// `GET path` with the answer's `ETag` (an appointment's, for [`PortalApi::call_tagged`]).
    pub async fn get_tagged(&self, path: &str) -> Result<Tagged, ApiFailure> {
        self.call_tagged(Method::GET, path, None, None, None).await
    }

    /// Sends a request and returns the JSON body of a 2xx answer (see [`PortalApi::call_tagged`]).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ApiFailure> {
        let url = self.url(path, query)?;
        self.send(method, url, body, idempotency_key, None)
            .await
            .map(|tagged| tagged.body)
    }

    /// Sends a request, with `If-Match: if_match` when given (an appointment's `ETag`: the change
    /// applies only to that revision, `412 precondition_failed` otherwise, and the server saves a
    /// read), and returns the JSON body of a 2xx answer with its `ETag`.
    pub async fn call_tagged(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<Tagged, ApiFailure> {
        let url = self.url(path, &[])?;
        self.send(method, url, body, idempotency_key, if_match)
            .await
    }

    /// One request, sent again when that is safe.
    ///
    /// A request that is safe to repeat (a GET; a write carrying an `Idempotency-Key`, or an
    /// `If-Match`, which applies at most once) is sent again after a short pause when it got no
    /// answer or a 500/502/503/504, at most [`RETRIES`] more times: a booking is never made
    /// twice, and a passing fault of the gateway does not end the walkthrough. Other requests are
    /// sent once.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<Tagged, ApiFailure> {
        let request_line = format!("{method} {}", request_path(&url));
        let repeatable = method == Method::GET || idempotency_key.is_some() || if_match.is_some();
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
        if let Some(tag) = if_match {
            request = request.header(reqwest::header::IF_MATCH, tag);
        }
        let mut repeats = 0;
        let (status, etag, text) = loop {
            let outcome = match request.try_clone() {
                Some(this) if repeatable && repeats < RETRIES => attempt(this, &request_line).await,
                _ => break attempt(request, &request_line).await?,
            };
            match outcome {
                Ok((status, _, _)) if is_transient(status) => {}
                Ok(answer) => break answer,
                Err(failure) if failure.status.is_none() => {}
                Err(failure) => return Err(failure),
            }
            repeats += 1;
            tokio::time::sleep(RETRY_PAUSE * repeats).await;
        };
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return match json {
                Some(body) => Ok(Tagged { body, etag }),
                None => Err(ApiFailure {
                    request: request_line,
                    status: Some(status.as_u16()),
                    error: "bad_response".into(),
                    description: "the answer is not JSON".into(),
                }),
            };
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

/// How many more times a repeatable request is sent after a transient failure.
pub const RETRIES: u32 = 2;

/// The pause before the first repeat (doubled before the second).
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Statuses that say "try again" rather than "this request is wrong".
fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// A 2xx answer's JSON body and `ETag`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tagged {
    /// The JSON body.
    pub body: Value,
    /// The `ETag` header, if the answer had one.
    pub etag: Option<String>,
}

/// One attempt: the status, `ETag` and body text, or a transport failure (no status).
async fn attempt(
    request: reqwest::RequestBuilder,
    request_line: &str,
) -> Result<(StatusCode, Option<String>, String), ApiFailure> {
    let response = request.send().await.map_err(|e| ApiFailure {
        request: request_line.to_owned(),
        status: None,
        error: "transport".into(),
        description: e.to_string(),
    })?;
    let status = response.status();
    let etag = response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|tag| tag.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.map_err(|e| ApiFailure {
        request: request_line.to_owned(),
        status: Some(status.as_u16()),
        error: "transport".into(),
        description: e.to_string(),
    })?;
    Ok((status, etag, text))
}

fn default_code(status: StatusCode) -> String {
    format!("http_{}", status.as_u16())
}

/// Per-request limit. Generous: under `make run`, `cargo lambda watch` compiles each function on its
/// first request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// The request heads a scripted server got.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl Seen {
        fn count(&self) -> usize {
            self.0.lock().unwrap().len()
        }
        fn heads(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    /// A server on loopback that answers its `answers` in turn (the last one forever), each with
    /// `ETag: "t<n>"`, and keeps the request heads it got.
    async fn scripted(answers: &'static [(u16, &'static str)]) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let count = Seen::default();
        let seen = count.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = vec![0; 8192];
                let mut read = 0;
                // Headers end with a blank line; the test requests carry small bodies.
                while !request[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                    read += socket.read(&mut request[read..]).await.unwrap();
                }
                let n = {
                    let mut heads = seen.0.lock().unwrap();
                    heads.push(String::from_utf8_lossy(&request[..read]).into_owned());
                    heads.len() - 1
                };
                let (status, body) = answers[n.min(answers.len() - 1)];
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\netag: \"t{n}\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        (format!("http://{address}"), count)
    }

    fn api(issuer: &str) -> PortalApi {
        PortalApi::new(reqwest::Client::new(), issuer, "token".into()).unwrap()
    }

    #[tokio::test]
    async fn a_get_that_meets_a_passing_503_is_sent_again_and_succeeds() {
        let (issuer, count) = scripted(&[(503, "{}"), (200, r#"{"data":[]}"#)]).await;
        let answer = api(&issuer).get("insurances", &[]).await.unwrap();
        assert_eq!(answer, json!({ "data": [] }));
        assert_eq!(count.count(), 2);
    }

    #[tokio::test]
    async fn a_lasting_server_error_is_reported_after_the_retries() {
        let (issuer, count) = scripted(&[(500, r#"{"error":"server_error"}"#)]).await;
        let failure = api(&issuer).get("insurances", &[]).await.unwrap_err();
        assert_eq!(failure.status, Some(500));
        assert_eq!(failure.error, "server_error");
        assert_eq!(count.count(), 1 + RETRIES as usize);
    }

    #[tokio::test]
    async fn a_write_without_an_idempotency_key_is_sent_once() {
        let (issuer, count) = scripted(&[(503, "{}"), (201, r#"{"id":"a"}"#)]).await;
        let body = json!({ "availability_id": "x" });
        let failure = api(&issuer)
            .call(Method::POST, "booking", &[], Some(&body), None)
            .await
            .unwrap_err();
        assert_eq!(failure.status, Some(503));
        assert_eq!(count.count(), 1);

        let (issuer, count) = scripted(&[(503, "{}"), (201, r#"{"id":"a"}"#)]).await;
        let booked = api(&issuer)
            .call(Method::POST, "booking", &[], Some(&body), Some("key-1"))
            .await
            .unwrap();
        assert_eq!(booked["id"], "a");
        assert_eq!(count.count(), 2);
    }

    #[tokio::test]
    async fn a_client_error_is_not_sent_again() {
        let (issuer, count) = scripted(&[(
            409,
            r#"{"error":"slot_unavailable","error_description":"taken"}"#,
        )])
        .await;
        let failure = api(&issuer).get("insurances", &[]).await.unwrap_err();
        assert_eq!(failure.error, "slot_unavailable");
        assert_eq!(count.count(), 1);
    }

    #[tokio::test]
    async fn the_etag_is_returned_and_if_match_is_sent_and_makes_a_change_repeatable() {
        let (issuer, seen) =
            scripted(&[(200, r#"{"id":"a"}"#), (503, "{}"), (200, r#"{"id":"a"}"#)]).await;
        let api = api(&issuer);
        let read = api.get_tagged("appointments/a").await.unwrap();
        assert_eq!(read.etag.as_deref(), Some("\"t0\""));
        let tag = read.etag.unwrap();
        let moved = api
            .call_tagged(
                Method::PUT,
                "appointments/a",
                Some(&json!({ "availability_id": "x" })),
                None,
                Some(&tag),
            )
            .await
            .unwrap();
        assert_eq!(
            moved.etag.as_deref(),
            Some("\"t2\""),
            "sent again after the 503"
        );
        let heads = seen.heads();
        assert_eq!(heads.len(), 3);
        for head in &heads[1..] {
            assert!(
                head.to_ascii_lowercase().contains("if-match: \"t0\""),
                "{head}"
            );
        }
    }
}
