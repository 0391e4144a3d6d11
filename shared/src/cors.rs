//! CORS for the endpoints browser apps call (CONTRACT.md, "Browser-based clients").
//!
//! Only `/oauth/token`, `/oauth/revoke`, `/oauth/userinfo`, `/.well-known/*`, `/api/portal/v1/*`
//! and the public OpenAPI document `/api-docs/openapi.json` take part ([`applies_to`]); every
//! other path — notably `/oauth/authorize`, `/oauth/login`, `/oauth/consent` and `/oauth/logout`,
//! which must never be readable cross-origin (RFC 9700) — is left untouched by both functions
//! below, so wiring them into a whole function is always safe.
//!
//! Allowed origins are [`Config::cors_origins`] when configured (`none`, the deployed default,
//! allows none), otherwise — `PORTAL_CORS_ORIGINS` unset — any loopback origin
//! (`http(s)://127.0.0.1:*`, `localhost:*`, `[::1]:*`) for local development. The allowed origin is
//! echoed back (never `*`), and credentials (cookies) are never allowed: these endpoints
//! authenticate with bearer tokens or client credentials the app sends itself. A disallowed origin
//! gets no CORS headers at all, so the browser refuses to hand the response to the page.
//!
//! # Use in a function
//!
//! API Gateway and `cargo lambda watch` route every method of a path to its function, so a
//! preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) arrives at the handler:
//!
//! ```ignore
//! async fn handle(&self, request: Request) -> Response<Body> {
//!     cors::respond(&request, &self.context.config, &self.router, async {
//!         self.dispatch(&request).await.unwrap_or_else(ApiError::into_response)
//!     })
//!     .await
//! }
//! ```
//!
//! ([`respond`] is [`preflight`], then the handler, then [`decorate`]; use the parts when a function
//! needs to touch the preflight answer itself.)
//!
//! Decorate every response, errors included: a browser app must be able to read a 401's
//! `WWW-Authenticate` or a 409's JSON body to react to it.

use http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use url::{Host, Url};

use crate::config::Config;
use crate::http::{response, ApiError, Router};

/// Request headers a browser app may send.
pub const ALLOWED_HEADERS: &str = "authorization, content-type, idempotency-key, if-match";

/// Response headers a browser app may read beyond the CORS-safelisted ones: the RFC 6750
/// challenge, when to retry after a 429 or 503, an appointment's `ETag` (for `If-Match`), and
/// where a new booking lives.
pub const EXPOSED_HEADERS: &str = "www-authenticate, retry-after, etag, location";

/// How long a browser may reuse a preflight answer (seconds).
pub const MAX_AGE_SECS: u32 = 600;

/// Exact paths that take part in CORS besides the prefixes below (the OpenAPI document is public,
/// like the `/.well-known/` documents, so tools in the browser can load it).
const CORS_PATHS: [&str; 4] = [
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/userinfo",
    "/api-docs/openapi.json",
];

/// Path prefixes that take part in CORS.
const CORS_PREFIXES: [&str; 2] = ["/.well-known/", "/api/portal/v1/"];

/// Whether `path` is one the contract opens to browser apps.
pub fn applies_to(path: &str) -> bool {
    CORS_PATHS.contains(&path) || CORS_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

/// Whether a browser page from `origin` (the `Origin` header's value) may call these endpoints.
///
/// The value must be a serialised origin exactly as browsers send it (`scheme://host[:port]`, no
/// path, lowercase host, no default port); `null` and anything else are refused.
pub fn origin_allowed(config: &Config, origin: &str) -> bool {
    let Ok(url) = Url::parse(origin) else {
        return false;
    };
    let serialised = url.origin().ascii_serialization();
    if serialised != origin {
        return false;
    }
    if config.cors_loopback {
        let loopback = match url.host() {
            Some(Host::Domain(domain)) => domain == "localhost",
            Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            None => false,
        };
        loopback && matches!(url.scheme(), "http" | "https")
    } else {
        config.cors_origins.contains(&serialised)
    }
}

/// Answers a preflight for a path `router` serves, or awaits `handler` and decorates its response:
/// the whole CORS treatment of a function in one call.
pub async fn respond<R: Copy>(
    request: &Request,
    config: &Config,
    router: &Router<R>,
    handler: impl std::future::Future<Output = Response<Body>>,
) -> Response<Body> {
    let methods = methods_for(router, request.uri().path());
    if let Some(answer) = preflight(request, config, &methods) {
        return answer;
    }
    decorate(request, config, handler.await)
}

/// The methods `router` serves on `path` (empty for an unknown path): what a preflight may allow.
pub fn methods_for<R: Copy>(router: &Router<R>, path: &str) -> Vec<Method> {
    // OPTIONS is never a route, so resolving it yields exactly the path's methods in its 405.
    match router.resolve(&Method::OPTIONS, path) {
        Err(ApiError::MethodNotAllowed { allow }) => allow,
        Ok(_) => vec![Method::OPTIONS],
        Err(_) => Vec::new(),
    }
}

/// Answers a CORS preflight, or returns `None` when `request` is not one this module handles
/// (not `OPTIONS`, no `Origin` or `Access-Control-Request-Method`, a path outside CORS, or no
/// `allowed_methods`), in which case the request goes on to normal routing.
///
/// An allowed origin asking for one of `allowed_methods` gets `204` with
/// `Access-Control-Allow-Origin: <origin>`, `-Allow-Methods`, `-Allow-Headers` ([`ALLOWED_HEADERS`])
/// and `-Max-Age` ([`MAX_AGE_SECS`]); any other preflight gets a `204` without CORS headers, which
/// the browser treats as a refusal.
pub fn preflight(
    request: &Request,
    config: &Config,
    allowed_methods: &[Method],
) -> Option<Response<Body>> {
    if request.method() != Method::OPTIONS
        || allowed_methods.is_empty()
        || !applies_to(request.uri().path())
    {
        return None;
    }
    let origin = single_header(request, header::ORIGIN)?;
    let requested = single_header(request, header::ACCESS_CONTROL_REQUEST_METHOD)?;

    let mut answer = response::empty(StatusCode::NO_CONTENT);
    let headers = answer.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.append(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Method"),
    );
    let method_allowed = Method::from_bytes(requested.as_bytes())
        .is_ok_and(|method| allowed_methods.contains(&method));
    if !method_allowed || !origin_allowed(config, origin) {
        return Some(answer);
    }
    let methods = allowed_methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if let (Ok(origin), Ok(methods)) = (
        HeaderValue::from_str(origin),
        HeaderValue::from_str(&methods),
    ) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(MAX_AGE_SECS),
        );
    }
    Some(answer)
}

/// Adds the CORS headers of an actual (non-preflight) response: for an allowed `Origin`,
/// `Access-Control-Allow-Origin: <origin>` and `Access-Control-Expose-Headers`
/// ([`EXPOSED_HEADERS`]). `Vary: Origin` is added on every CORS path whatever the origin, so a
/// shared cache never serves one origin's answer (e.g. the cacheable discovery document) to another.
/// Paths outside CORS are returned untouched.
pub fn decorate(
    request: &Request,
    config: &Config,
    mut response: Response<Body>,
) -> Response<Body> {
    if !applies_to(request.uri().path()) {
        return response;
    }
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = single_header(request, header::ORIGIN) else {
        return response;
    };
    if !origin_allowed(config, origin) {
        return response;
    }
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    response
}

/// A header that is present exactly once with a text value; repeated or binary values count as
/// absent (a browser never sends them).
fn single_header(request: &Request, name: header::HeaderName) -> Option<&str> {
    let mut values = request.headers().get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(origins: Option<&str>) -> Config {
        let origins = origins.map(str::to_owned);
        Config::from_lookup(move |name| match name {
            "PORTAL_CORS_ORIGINS" => origins.clone(),
            _ => None,
        })
        .unwrap()
    }

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = http::Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::Empty).unwrap()
    }

    fn preflight_from(origin: &str, path: &str, config: &Config) -> Option<Response<Body>> {
        let request = request(
            "OPTIONS",
            path,
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
            ],
        );
        preflight(&request, config, &[Method::GET, Method::POST])
    }

    #[test]
    fn without_configured_origins_only_loopback_origins_are_allowed() {
        let local = config(None);
        for origin in [
            "http://127.0.0.1:5173",
            "http://localhost:3000",
            "https://localhost",
            "http://[::1]:8080",
        ] {
            assert!(origin_allowed(&local, origin), "{origin}");
        }
        for origin in [
            "https://evil.example",
            "http://localhost.evil.example",
            "http://127.0.0.2",
            "null",
            "http://localhost:3000/",
            "http://LOCALHOST:3000",
            "http://localhost:80",
            "file://localhost",
            "",
        ] {
            assert!(!origin_allowed(&local, origin), "{origin}");
        }
    }

    #[test]
    fn configured_origins_replace_the_loopback_default() {
        let deployed = config(Some("https://app.example, https://other.example:8443"));
        assert!(origin_allowed(&deployed, "https://app.example"));
        assert!(origin_allowed(&deployed, "https://other.example:8443"));
        assert!(!origin_allowed(&deployed, "https://other.example"));
        assert!(!origin_allowed(&deployed, "http://app.example"));
        assert!(!origin_allowed(&deployed, "http://localhost:3000"));
    }

    #[test]
    fn none_allows_no_origin_at_all_not_even_loopback() {
        let deployed = config(Some("none"));
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:5173",
            "https://app.example",
        ] {
            assert!(!origin_allowed(&deployed, origin), "{origin}");
        }
        let answer = preflight_from("http://localhost:3000", "/oauth/token", &deployed).unwrap();
        assert!(!answer.headers().contains_key("access-control-allow-origin"));
    }

    #[test]
    fn an_allowed_preflight_gets_every_cors_header_and_never_a_wildcard() {
        let answer =
            preflight_from("http://localhost:3000", "/oauth/token", &config(None)).unwrap();
        assert_eq!(answer.status(), 204);
        let h = answer.headers();
        assert_eq!(h["access-control-allow-origin"], "http://localhost:3000");
        assert_eq!(h["access-control-allow-methods"], "GET, POST");
        assert_eq!(h["access-control-allow-headers"], ALLOWED_HEADERS);
        assert_eq!(h["access-control-max-age"], "600");
        assert!(!h.contains_key("access-control-allow-credentials"));
        assert!(h.get_all("vary").iter().any(|v| v == "Origin"));
    }

    #[test]
    fn a_refused_preflight_carries_no_cors_headers() {
        let local = config(None);
        let answer = preflight_from("https://evil.example", "/oauth/token", &local).unwrap();
        assert_eq!(answer.status(), 204);
        assert!(!answer.headers().contains_key("access-control-allow-origin"));

        let delete = request(
            "OPTIONS",
            "/oauth/token",
            &[
                ("origin", "http://localhost:3000"),
                ("access-control-request-method", "DELETE"),
            ],
        );
        let answer = preflight(&delete, &local, &[Method::POST]).unwrap();
        assert!(!answer.headers().contains_key("access-control-allow-origin"));
    }

    #[test]
    fn non_cors_paths_and_non_preflights_are_left_to_routing() {
        let local = config(None);
        assert!(preflight_from("http://localhost:3000", "/oauth/authorize", &local).is_none());
        assert!(preflight_from("http://localhost:3000", "/oauth/consent", &local).is_none());
        let plain_options = request(
            "OPTIONS",
            "/oauth/token",
            &[("origin", "http://localhost:3000")],
        );
        assert!(preflight(&plain_options, &local, &[Method::POST]).is_none());
        let get = request(
            "GET",
            "/oauth/token",
            &[("origin", "http://localhost:3000")],
        );
        assert!(preflight(&get, &local, &[Method::POST]).is_none());
    }

    #[test]
    fn responses_on_cors_paths_name_the_allowed_origin_and_vary_on_it() {
        let local = config(None);
        let from = |origin: &str, path: &str| {
            decorate(
                &request("GET", path, &[("origin", origin)]),
                &local,
                response::json(StatusCode::OK, &1),
            )
        };
        let allowed = from("http://127.0.0.1:5173", "/.well-known/openid-configuration");
        assert_eq!(
            allowed.headers()["access-control-allow-origin"],
            "http://127.0.0.1:5173"
        );
        assert_eq!(
            allowed.headers()["access-control-expose-headers"],
            EXPOSED_HEADERS
        );
        assert_eq!(allowed.headers()["vary"], "Origin");

        let refused = from("https://evil.example", "/api/portal/v1/profile");
        assert!(!refused
            .headers()
            .contains_key("access-control-allow-origin"));
        assert_eq!(refused.headers()["vary"], "Origin");

        let login = from("http://127.0.0.1:5173", "/oauth/login");
        assert!(!login.headers().contains_key("access-control-allow-origin"));
        assert!(!login.headers().contains_key("vary"));
    }

    #[test]
    fn the_cors_paths_are_the_contract_ones() {
        for path in [
            "/oauth/token",
            "/oauth/revoke",
            "/oauth/userinfo",
            "/.well-known/jwks.json",
            "/api/portal/v1/appointments/abc",
            "/api-docs/openapi.json",
        ] {
            assert!(applies_to(path), "{path}");
        }
        for path in [
            "/oauth/authorize",
            "/oauth/login",
            "/oauth/consent",
            "/oauth/logout",
            "/oauth/introspect",
            "/oauth/token/x",
            "/api-docs",
            "/api/portal/v1",
        ] {
            assert!(!applies_to(path), "{path}");
        }
    }

    #[test]
    fn methods_come_from_the_router() {
        let router = Router::new(vec![
            (Method::GET, "/oauth/userinfo", 1),
            (Method::POST, "/oauth/userinfo", 1),
        ]);
        assert_eq!(
            methods_for(&router, "/oauth/userinfo"),
            vec![Method::GET, Method::POST]
        );
        assert!(methods_for(&router, "/nope").is_empty());
    }
}
