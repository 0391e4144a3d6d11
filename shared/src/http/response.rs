//! Response builders. Every response carries the headers its kind needs, so a handler cannot forget
//! `no-store` on tokens or the framing protections on HTML.

use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Content-Security-Policy of server-rendered pages: nothing but same-origin styles and forms, and
/// never inside a frame (clickjacking of the login and consent pages).
pub const HTML_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A JSON response with `Cache-Control: no-store` (API answers are per patient and must not be cached).
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => build(status, "application/json", Body::from(bytes)),
        Err(error) => {
            tracing::error!(cause = %error, "response did not serialise");
            build(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                Body::from(
                    r#"{"error":"server_error","error_description":"the server could not complete the request"}"#,
                ),
            )
        }
    }
}

/// A public, cacheable JSON document (discovery, JWKS).
pub fn public_json<T: Serialize + ?Sized>(value: &T, max_age_seconds: u32) -> Response<Body> {
    let mut response = json(StatusCode::OK, value);
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age_seconds}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

/// A server-rendered page with the framing, sniffing, referrer and caching protections.
pub fn html(status: StatusCode, page: String) -> Response<Body> {
    let mut response = build(status, "text/html; charset=utf-8", Body::from(page));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(HTML_CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `response` (a page from [`html`]) whose forms may be answered by a redirect to `target`.
///
/// Chromium applies `form-action` to every redirect that follows a form submission, so a login or
/// consent form answered by the redirect back to the app (the authorization response) is blocked
/// under `form-action 'self'` alone. `target` is the request's redirect URI, one the client
/// registered (checked before any page is shown); its origin, or its scheme for a private-use URI
/// scheme (RFC 8252 §7.1), is added in a form that cannot inject another directive. An
/// unparsable target leaves the policy as it is.
pub fn allow_form_redirect(mut response: Response<Body>, target: &str) -> Response<Body> {
    let Ok(url) = url::Url::parse(target) else {
        return response;
    };
    let origin = url.origin();
    let source = if origin.is_tuple() {
        origin.ascii_serialization()
    } else {
        format!("{}:", url.scheme())
    };
    let policy = HTML_CSP.replacen(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
        1,
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// A `302 Found` redirect (also used for the authorization response, RFC 6749 §4.1.2).
pub fn redirect(location: &str) -> Response<Body> {
    let mut response = build(StatusCode::FOUND, "text/plain; charset=utf-8", Body::Empty);
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        Err(_) => {
            tracing::error!("redirect location is not a valid header value");
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// An empty response with `no-store`.
pub fn empty(status: StatusCode) -> Response<Body> {
    build(status, "text/plain; charset=utf-8", Body::Empty)
}

fn build(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_cannot_be_framed_sniffed_or_cached() {
        let r = html(StatusCode::OK, "<p>hi</p>".into());
        let h = r.headers();
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
    }

    #[test]
    fn forms_may_be_answered_by_a_redirect_to_the_apps_origin_and_nowhere_else() {
        let csp = |target: &str| {
            allow_form_redirect(html(StatusCode::OK, String::new()), target).headers()
                ["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned()
        };
        let loopback = csp("http://127.0.0.1:8080/callback?x=1");
        assert!(loopback.contains("form-action 'self' http://127.0.0.1:8080;"));
        assert!(loopback.contains("frame-ancestors 'none'"));
        assert!(csp("https://app.example/cb").contains("form-action 'self' https://app.example;"));
        assert!(csp("com.example.app:/oauth").contains("form-action 'self' com.example.app:;"));
        // Nothing but an origin gets in, whatever the URI holds.
        assert!(
            csp("https://app.example/cb;script-src%20*").contains("'self' https://app.example;")
        );
        assert_eq!(csp("not a url"), HTML_CSP);
    }

    #[test]
    fn json_is_not_cached_but_public_documents_are() {
        assert_eq!(
            json(StatusCode::OK, &1).headers()["cache-control"],
            "no-store"
        );
        assert_eq!(
            public_json(&1, 300).headers()["cache-control"],
            "public, max-age=300"
        );
    }

    #[test]
    fn a_redirect_carries_its_location() {
        let r = redirect("https://app.example/cb?code=x");
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "https://app.example/cb?code=x");
    }
}
