//! Routes: the template's routes are exactly the routes each function serves.

use super::*;

#[test]
fn the_template_routes_are_exactly_the_routes_each_function_serves() {
    let doc = template();
    let (api_id, _) = http_api(&doc);
    let routes = http_routes(&doc);
    for route in &routes {
        assert_eq!(
            route.api.as_deref(),
            Some(api_id.as_str()),
            "{} must be a route of {api_id}",
            route.name
        );
    }
    let mut in_template = BTreeMap::new();
    for route in routes.iter().filter(|r| r.method != "ANY") {
        let path = route
            .path
            .clone()
            .unwrap_or_else(|| panic!("{} has a method but no path", route.name));
        let previous = in_template.insert((route.method.clone(), path), route.binary.clone());
        assert!(previous.is_none(), "{} is declared twice", route.name);
    }
    assert_eq!(in_template, served_routes());
}

#[test]
fn every_served_path_has_an_any_fallback_to_its_own_function_without_authorizer() {
    let doc = template();
    let routes = http_routes(&doc);
    let served_paths: BTreeMap<String, String> = served_routes()
        .into_iter()
        .map(|((_, path), binary)| (path, binary))
        .collect();
    let mut fallbacks: BTreeMap<String, Vec<&Route>> = BTreeMap::new();
    for route in routes.iter().filter(|r| r.method == "ANY") {
        if let Some(path) = &route.path {
            fallbacks.entry(path.clone()).or_default().push(route);
        }
    }
    assert_eq!(
        fallbacks.keys().collect::<BTreeSet<_>>(),
        served_paths.keys().collect::<BTreeSet<_>>(),
        "ANY fallbacks must cover exactly the served paths"
    );
    for (path, binary) in &served_paths {
        let routes = &fallbacks[path];
        assert_eq!(routes.len(), 1, "one ANY route on {path}");
        let route = routes[0];
        assert_eq!(&route.binary, binary, "ANY {path} must reach {binary}");
        // A wrong method or a CORS preflight carries no token: the gateway must let it through so
        // the function answers 405 or the preflight itself.
        assert_eq!(
            route.authorizer.as_deref(),
            Some("NONE"),
            "{} must not require a token",
            route.name
        );
    }
}

#[test]
fn unknown_paths_reach_a_function_that_answers_the_json_404() {
    let doc = template();
    let defaults: Vec<Route> = http_routes(&doc)
        .into_iter()
        .filter(|r| r.path.is_none())
        .collect();
    assert_eq!(defaults.len(), 1, "one $default route: {defaults:?}");
    assert_eq!(defaults[0].method, "ANY");
    assert_eq!(defaults[0].authorizer.as_deref(), Some("NONE"));
    assert!(BINARIES.contains(&defaults[0].binary.as_str()));
}
