//! API Gateway HTTP API (payload 2.0) events, as Lambda hands them to a function.
//!
//! The handler benchmarks parse them with `lambda_http::request::from_str` (what the runtime does
//! on every invocation) and the Runtime API stand-in sends them to real `bootstrap` processes, so
//! both go through the production request parsing. Same shape as `portal_tests::events::Event`,
//! kept here because the cold-start harness (a binary, not a test) needs it as a normal dependency.

use base64::Engine as _;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::BenchError;

/// An API Gateway v2 event under construction.
#[derive(Debug, Clone)]
pub struct Event {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Event {
    /// An event for `method path` (the path may carry a `?query`).
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A GET event.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// A POST event.
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    /// Adds a header (names are lower-cased, as API Gateway sends them).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A form body (base64-encoded, as API Gateway sends form posts).
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body = Some(body.into_bytes());
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// A JSON body.
    pub fn json(mut self, value: &Value) -> Self {
        self.body = Some(value.to_string().into_bytes());
        self.header("content-type", "application/json")
    }

    /// The event JSON exactly as API Gateway sends it.
    pub fn to_json(&self) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let route_key = format!("{} {}", self.method, self.path);
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api-id",
                "domainName": "portal.example",
                "domainPrefix": "portal",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.7",
                    "userAgent": "portal-bench"
                },
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "routeKey": route_key,
                "stage": "$default",
                "time": "30/Nov/2026:05:00:00 +0000",
                "timeEpoch": 1_796_014_800_000_i64
            },
            "isBase64Encoded": false
        });
        if !self.query.is_empty() {
            let params: serde_json::Map<String, Value> =
                url::form_urlencoded::parse(self.query.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect();
            event["queryStringParameters"] = Value::Object(params);
        }
        if let Some(body) = &self.body {
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
            event["isBase64Encoded"] = json!(true);
        }
        event
    }

    /// The event as the JSON text the Runtime API delivers.
    pub fn to_text(&self) -> String {
        self.to_json().to_string()
    }

    /// The request a function's handler receives for this event.
    pub fn request(&self) -> Result<Request, BenchError> {
        parse(&self.to_text())
    }
}

/// Parses event JSON the way the Lambda runtime does before calling a handler.
pub fn parse(text: &str) -> Result<Request, BenchError> {
    lambda_http::request::from_str(text)
        .map_err(|e| BenchError::new(format!("not a valid API Gateway v2 event: {e}")))
}
