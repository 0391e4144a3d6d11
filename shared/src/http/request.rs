//! Reading requests: bodies with a size limit, forms and JSON with clear errors, query strings that
//! reject repeated parameters (RFC 6749 §3.1), cookies and the caller's address.

use std::collections::BTreeMap;

use http::header;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Largest body any route accepts. Forms and JSON here are small; anything bigger is a mistake or abuse.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request body as bytes, refused with 413 above [`MAX_BODY_BYTES`].
pub fn body(request: &Request) -> Result<&[u8], ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(bytes)
}

/// Parameters of a query string or form, keeping every occurrence so repeats can be refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, Vec<String>>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (also query strings).
    pub fn parse(text: &[u8]) -> Self {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(text) {
            values
                .entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Self { values }
    }

    /// The single value of a parameter; empty values count as absent (RFC 6749 §3.1), a repeated
    /// parameter is an `invalid_request`.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.values.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one.as_str()).filter(|v| !v.is_empty())),
            Some(_) => Err(ApiError::invalid_request(format!(
                "parameter `{name}` is repeated"
            ))),
        }
    }

    /// The single value of a required parameter.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)?
            .ok_or_else(|| ApiError::invalid_request(format!("parameter `{name}` is required")))
    }

    /// Whether the parameter appears at all.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Every name and value, a repeated parameter once per value, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| (name.as_str(), v.as_str())))
    }

    /// Adds parameters from another set that are not already present (query + form on POST).
    pub fn merge_missing(&mut self, other: Params) {
        for (name, values) in other.values {
            self.values.entry(name).or_insert(values);
        }
    }
}

/// The query string's parameters.
pub fn query(request: &Request) -> Params {
    Params::parse(request.uri().query().unwrap_or("").as_bytes())
}

/// The form body's parameters; the content type must be `application/x-www-form-urlencoded`.
pub fn form(request: &Request) -> Result<Params, ApiError> {
    let bytes = body(request)?;
    if !content_type_is(request, "application/x-www-form-urlencoded") {
        return Err(ApiError::UnsupportedMediaType {
            expected: "application/x-www-form-urlencoded",
        });
    }
    Ok(Params::parse(bytes))
}

/// The JSON body decoded into `T`; wrong content type → 415, bad JSON or fields → 400 naming the problem.
pub fn json<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes = body(request)?;
    if request.headers().contains_key(header::CONTENT_TYPE)
        && !content_type_is(request, "application/json")
    {
        return Err(ApiError::UnsupportedMediaType {
            expected: "application/json",
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            code: "invalid_json",
            description: "the request body must be a JSON object".into(),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest {
        code: "invalid_json",
        description: format!("the request body is not valid: {e}"),
    })
}

/// Whether the request's media type (ignoring parameters such as charset) is `expected`.
pub fn content_type_is(request: &Request, expected: &str) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// The value of a cookie, if the request carries it.
pub fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The caller's IP address as API Gateway saw it (not a client-supplied header).
pub fn source_ip(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => {
            context.http.source_ip.clone()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder().method("POST").uri("/x?a=1&a=2&b=");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::from(body.to_owned())).unwrap()
    }

    #[test]
    fn a_repeated_parameter_is_an_invalid_request_and_empty_means_absent() {
        let q = query(&request(None, ""));
        assert!(matches!(q.get("a"), Err(ApiError::BadRequest { .. })));
        assert_eq!(q.get("b").unwrap(), None);
        assert_eq!(q.get("c").unwrap(), None);
    }

    #[test]
    fn a_form_needs_the_form_content_type() {
        let ok = form(&request(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            "x=1",
        ))
        .unwrap();
        assert_eq!(ok.require("x").unwrap(), "1");
        assert!(matches!(
            form(&request(Some("application/json"), "x=1")),
            Err(ApiError::UnsupportedMediaType { .. })
        ));
    }

    #[test]
    fn json_errors_say_what_is_wrong() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            insurance_id: i64,
        }
        let err = json::<Body>(&request(Some("application/json"), "{}")).unwrap_err();
        assert!(err.to_string().contains("insurance_id"), "{err}");
        let err = json::<Body>(&request(Some("application/json"), "{")).unwrap_err();
        assert_eq!(err.status(), 400);
        let err = json::<Body>(&request(Some("text/plain"), "{}")).unwrap_err();
        assert_eq!(err.status(), 415);
    }

    #[test]
    fn an_oversized_body_is_refused_with_413() {
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        let err = body(&request(Some("application/json"), &big)).unwrap_err();
        assert_eq!(err.status(), 413);
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let r = http::Request::builder()
            .header("cookie", "a=1; __Host-sid=abc; sid=zzz")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(cookie(&r, "__Host-sid"), Some("abc"));
        assert_eq!(cookie(&r, "sid"), Some("zzz"));
        assert_eq!(cookie(&r, "id"), None);
    }
}
