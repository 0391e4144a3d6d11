//! Real API Gateway HTTP API (payload 2.0) events, as Lambda hands them to a function, for handler
//! tests that go through the same request parsing as production.

use base64::Engine as _;
use lambda_http::Request;
use serde_json::{json, Value};

/// Builds an API Gateway v2 event and parses it the way the Lambda runtime does.
#[derive(Debug, Clone)]
pub struct Event {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    cookies: Vec<String>,
    body: Option<Vec<u8>>,
    source_ip: String,
    path_parameters: Vec<(String, String)>,
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
            cookies: Vec::new(),
            body: None,
            source_ip: "203.0.113.7".to_owned(),
            path_parameters: Vec::new(),
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

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Adds a cookie (API Gateway v2 passes cookies in their own array).
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.push(format!("{name}={value}"));
        self
    }

    /// Sets the caller's address.
    pub fn from_ip(mut self, ip: &str) -> Self {
        self.source_ip = ip.to_owned();
        self
    }

    /// Sets a path parameter as API Gateway would extract it.
    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        self.path_parameters
            .push((name.to_owned(), value.to_owned()));
        self
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
        self.body = Some(serde_json::to_vec(value).unwrap());
        self.header("content-type", "application/json")
    }

    /// A raw body.
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(bytes.into());
        self
    }

    /// The event JSON exactly as API Gateway sends it.
    pub fn to_json(&self) -> Value {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let path_parameters: serde_json::Map<String, Value> = self
            .path_parameters
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut event = json!({
            "version": "2.0",
            "routeKey": format!("{} {}", self.method, self.path),
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
                    "sourceIp": self.source_ip,
                    "userAgent": "handler-test"
                },
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "routeKey": format!("{} {}", self.method, self.path),
                "stage": "$default",
                "time": "30/Nov/2026:05:00:00 +0000",
                "timeEpoch": 1_796_014_800_000_i64
            },
            "isBase64Encoded": false
        });
        if !self.cookies.is_empty() {
            event["cookies"] = json!(self.cookies);
        }
        if !self.path_parameters.is_empty() {
            event["pathParameters"] = Value::Object(path_parameters);
        }
        if !self.query.is_empty() {
            let mut params = serde_json::Map::new();
            for (k, v) in url::form_urlencoded::parse(self.query.as_bytes()) {
                params.insert(k.into_owned(), Value::String(v.into_owned()));
            }
            event["queryStringParameters"] = Value::Object(params);
        }
        if let Some(body) = &self.body {
            event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
            event["isBase64Encoded"] = json!(true);
        }
        event
    }

    /// The request a function's handler receives for this event.
    pub fn request(&self) -> Request {
        lambda_http::request::from_str(&self.to_json().to_string())
            .expect("a valid API Gateway v2 event")
    }
}
