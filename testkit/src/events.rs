//! Real API Gateway HTTP API (payload 2.0) events, as Lambda hands them to a function.
//!
//! Handler tests and the handler benchmarks parse them with [`parse`] (what the runtime does on
//! every invocation) and the cold-start harness sends their text to real `bootstrap` processes, so
//! all of them go through the production request parsing.

use base64::Engine as _;
use lambda_http::Request;
use serde_json::{json, Map, Value};

/// The caller's address when a test does not set one ([`Event::from_ip`]): TEST-NET-3.
pub const SOURCE_IP: &str = "203.0.113.7";

/// An API Gateway v2 event under construction.
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
            source_ip: SOURCE_IP.to_owned(),
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

    /// A CORS preflight from `origin` asking to send `method` (add
    /// `access-control-request-headers` with [`Event::header`] where a test needs it).
    pub fn preflight(path: &str, origin: &str, method: &str) -> Self {
        Self::new("OPTIONS", path)
            .header("origin", origin)
            .header("access-control-request-method", method)
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
        self.body = Some(value.to_string().into_bytes());
        self.header("content-type", "application/json")
    }

    /// A raw body (no content type).
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(bytes.into());
        self
    }

    /// The event JSON exactly as API Gateway sends it.
    pub fn to_json(&self) -> Value {
        let pairs = |pairs: &[(String, String)]| -> Map<String, Value> {
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        };
        let route_key = format!("{} {}", self.method, self.path);
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": pairs(&self.headers),
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
                    "userAgent": "portal-testkit"
                },
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "routeKey": route_key,
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
            event["pathParameters"] = Value::Object(pairs(&self.path_parameters));
        }
        if !self.query.is_empty() {
            let params: Map<String, Value> = url::form_urlencoded::parse(self.query.as_bytes())
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

    /// The event as the JSON text the Lambda Runtime API delivers.
    pub fn to_text(&self) -> String {
        self.to_json().to_string()
    }

    /// The request a function's handler receives for this event.
    ///
    /// # Panics
    /// Never for an event built here: [`Event::to_json`] always has the v2 shape (a panic would be
    /// a bug of the kit).
    pub fn request(&self) -> Request {
        parse(&self.to_text()).expect("the kit builds valid API Gateway v2 events")
    }
}

/// Parses event JSON the way the Lambda runtime does before calling a handler.
pub fn parse(text: &str) -> Result<Request, serde_json::Error> {
    lambda_http::request::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt as _;

    #[test]
    fn every_part_of_the_event_reaches_the_request() {
        let request = Event::post("/api/portal/v1/appointments/a1?x=1&y=two")
            .header("X-Thing", "v")
            .cookie("portal_session", "s1")
            .from_ip("198.51.100.9")
            .path_param("id", "a1")
            .form(&[("k", "v w")])
            .request();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/api/portal/v1/appointments/a1");
        assert_eq!(request.headers()["x-thing"], "v");
        assert_eq!(request.headers()["cookie"], "portal_session=s1");
        assert_eq!(request.query_string_parameters().first("y"), Some("two"));
        assert_eq!(request.path_parameters().first("id"), Some("a1"));
        assert_eq!(request.body().as_ref(), b"k=v+w");
        let context = request.request_context();
        let lambda_http::request::RequestContext::ApiGatewayV2(context) = context else {
            panic!("an API Gateway v2 request");
        };
        assert_eq!(context.http.source_ip.as_deref(), Some("198.51.100.9"));
    }

    #[test]
    fn the_defaults_are_a_bare_request_from_the_test_address() {
        let event = Event::get("/oauth/userinfo").bearer("t0k").to_json();
        assert_eq!(event["requestContext"]["http"]["sourceIp"], SOURCE_IP);
        assert_eq!(event["headers"]["authorization"], "Bearer t0k");
        for absent in ["cookies", "pathParameters", "queryStringParameters", "body"] {
            assert!(event.get(absent).is_none(), "{absent}");
        }
        assert!(parse(&Event::get("/").to_text()).is_ok());
        assert!(parse("not an event").is_err());
    }
}
