//! Routing by method and path inside a function, so each function answers exactly its contract
//! routes: an unknown path is a 404, a known path with another method a 405 with `Allow`.

use http::Method;

use super::ApiError;

/// Values captured by `{name}` segments of a route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(&'static str, String)>);

impl PathParams {
    /// A captured value by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A table of `(method, path pattern, handler tag)`; patterns use `{name}` for one path segment.
pub struct Router<R: Copy> {
    routes: Vec<(Method, &'static str, R)>,
}

impl<R: Copy> Router<R> {
    /// A router over the given routes.
    pub fn new(routes: Vec<(Method, &'static str, R)>) -> Self {
        Self { routes }
    }

    /// Every `(method, pattern)` this router serves (for route-parity tests and docs).
    pub fn routes(&self) -> impl Iterator<Item = (&Method, &'static str)> {
        self.routes.iter().map(|(m, p, _)| (m, *p))
    }

    /// The route a request is for, for logs and metrics: `METHOD /pattern` when a route serves
    /// it, `ANY /pattern` when the path is known but the method is not, `unmatched` otherwise.
    /// Patterns, never raw paths, so ids in paths never reach a metric dimension.
    pub fn route_name(&self, method: &Method, path: &str) -> Option<String> {
        let mut known_path = None;
        for (route_method, pattern, _) in &self.routes {
            if match_path(pattern, path).is_some() {
                if route_method == method {
                    return Some(format!("{route_method} {pattern}"));
                }
                known_path.get_or_insert(*pattern);
            }
        }
        known_path.map(|pattern| format!("ANY {pattern}"))
    }

    /// Finds the handler for a request, or the 404/405 the client should get.
    pub fn resolve(&self, method: &Method, path: &str) -> Result<(R, PathParams), ApiError> {
        let mut allowed = Vec::new();
        for (route_method, pattern, tag) in &self.routes {
            if let Some(params) = match_path(pattern, path) {
                if route_method == method {
                    return Ok((*tag, params));
                }
                if !allowed.contains(route_method) {
                    allowed.push(route_method.clone());
                }
            }
        }
        if allowed.is_empty() {
            Err(ApiError::NotFound(format!("no route for {path}")))
        } else {
            Err(ApiError::MethodNotAllowed { allow: allowed })
        }
    }
}

fn match_path(pattern: &'static str, path: &str) -> Option<PathParams> {
    let mut params = Vec::new();
    let mut pattern_parts = pattern.split('/');
    let mut path_parts = path.split('/');
    loop {
        match (pattern_parts.next(), path_parts.next()) {
            (None, None) => return Some(PathParams(params)),
            (Some(p), Some(segment)) => {
                if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if segment.is_empty() {
                        return None;
                    }
                    let decoded = percent_decode(segment)?;
                    params.push((name, decoded));
                } else if p != segment {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes: Vec<u8> =
        url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_names_are_patterns_never_raw_paths() {
        let router = router();
        assert_eq!(
            router
                .route_name(&Method::GET, "/api/portal/v1/appointments/a%20b")
                .as_deref(),
            Some("GET /api/portal/v1/appointments/{id}")
        );
        assert_eq!(
            router
                .route_name(&Method::PATCH, "/api/portal/v1/appointments/xyz")
                .as_deref(),
            Some("ANY /api/portal/v1/appointments/{id}")
        );
        assert_eq!(router.route_name(&Method::GET, "/elsewhere/123"), None);
    }

    fn router() -> Router<u8> {
        Router::new(vec![
            (Method::GET, "/api/portal/v1/appointments", 1),
            (Method::GET, "/api/portal/v1/appointments/{id}", 2),
            (Method::PUT, "/api/portal/v1/appointments/{id}", 3),
            (
                Method::GET,
                "/api/portal/v1/appointments/{id}/availabilities",
                4,
            ),
        ])
    }

    #[test]
    fn a_route_with_a_parameter_captures_it() {
        let (tag, params) = router()
            .resolve(&Method::PUT, "/api/portal/v1/appointments/abc123")
            .unwrap();
        assert_eq!(tag, 3);
        assert_eq!(params.get("id"), Some("abc123"));
    }

    #[test]
    fn an_unknown_path_is_404_and_a_wrong_method_is_405_with_allow() {
        assert_eq!(
            router()
                .resolve(&Method::GET, "/api/portal/v1/nothing")
                .unwrap_err()
                .status(),
            404
        );
        match router().resolve(&Method::DELETE, "/api/portal/v1/appointments/x") {
            Err(ApiError::MethodNotAllowed { allow }) => {
                assert_eq!(allow, vec![Method::GET, Method::PUT])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_or_extra_segment_does_not_match() {
        assert!(router()
            .resolve(&Method::GET, "/api/portal/v1/appointments/")
            .is_err());
        assert!(router()
            .resolve(&Method::GET, "/api/portal/v1/appointments/x/y")
            .is_err());
    }
}
