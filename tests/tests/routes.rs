//! Every contract route reaches the right function, locally (the `cargo lambda watch` router in the
//! root Cargo.toml) and in each function's own router; unknown paths are 404 and wrong methods 405.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use portal_tests::watch::{portal, workspace_root};

/// The contract's routes (CONTRACT.md), as (method, path, function).
const CONTRACT: &[(&str, &str, &str)] = &[
    ("GET", "/oauth/authorize", "authorize"),
    ("POST", "/oauth/authorize", "authorize"),
    ("GET", "/oauth/login", "authorize"),
    ("POST", "/oauth/login", "authorize"),
    ("GET", "/oauth/consent", "authorize"),
    ("POST", "/oauth/consent", "authorize"),
    ("GET", "/oauth/logout", "authorize"),
    ("POST", "/oauth/logout", "authorize"),
    ("GET", "/oauth/mfa", "authorize"),
    ("POST", "/oauth/mfa", "authorize"),
    ("GET", "/account/mfa/totp", "authorize"),
    ("POST", "/account/mfa/totp", "authorize"),
    ("GET", "/oauth/passkey", "authorize"),
    ("POST", "/oauth/passkey", "authorize"),
    ("GET", "/oauth/passkey.js", "authorize"),
    ("GET", "/account/mfa/passkeys", "authorize"),
    ("POST", "/account/mfa/passkeys", "authorize"),
    ("GET", "/account", "authorize"),
    ("POST", "/account/apps/revoke", "authorize"),
    // The account page's other forms.
    ("POST", "/account/profile", "authorize"),
    ("POST", "/account/password", "authorize"),
    ("POST", "/account/language", "authorize"),
    ("POST", "/account/sessions/end", "authorize"),
    ("POST", "/account/delete", "authorize"),
    ("POST", "/account/email", "authorize"),
    ("GET", "/account/email/confirm", "authorize"),
    ("POST", "/account/email/confirm", "authorize"),
    ("GET", "/account/register", "authorize"),
    ("POST", "/account/register", "authorize"),
    ("GET", "/account/verify", "authorize"),
    ("POST", "/account/verify", "authorize"),
    ("GET", "/account/verify/resend", "authorize"),
    ("POST", "/account/verify/resend", "authorize"),
    ("GET", "/account/password/forgot", "authorize"),
    ("POST", "/account/password/forgot", "authorize"),
    ("GET", "/account/password/reset", "authorize"),
    ("POST", "/account/password/reset", "authorize"),
    ("POST", "/oauth/token", "token"),
    ("POST", "/oauth/revoke", "token"),
    ("POST", "/oauth/introspect", "token"),
    ("GET", "/.well-known/openid-configuration", "userinfo"),
    ("GET", "/.well-known/oauth-authorization-server", "userinfo"),
    ("GET", "/.well-known/jwks.json", "userinfo"),
    ("GET", "/oauth/userinfo", "userinfo"),
    ("POST", "/oauth/userinfo", "userinfo"),
    ("GET", "/api/portal/v1/profile", "userinfo"),
    ("GET", "/api-docs", "userinfo"),
    ("GET", "/api-docs/openapi.json", "userinfo"),
    ("GET", "/api/portal/v1/insurances", "booking"),
    ("GET", "/api/portal/v1/appointment_categories", "booking"),
    ("GET", "/api/portal/v1/appointment_types", "booking"),
    ("GET", "/api/portal/v1/availabilities", "booking"),
    ("POST", "/api/portal/v1/booking", "booking"),
    ("GET", "/api/portal/v1/appointments", "booking"),
    ("GET", "/api/portal/v1/appointments/{id}", "booking"),
    ("PUT", "/api/portal/v1/appointments/{id}", "booking"),
    ("DELETE", "/api/portal/v1/appointments/{id}", "booking"),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/availabilities",
        "booking",
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/video_consultation",
        "booking",
    ),
    ("POST", "/api/portal/v1/appointments/{id}/asap_list", "asap"),
    (
        "DELETE",
        "/api/portal/v1/appointments/{id}/asap_list",
        "asap",
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/earlier_availability",
        "asap",
    ),
];

/// Routes outside the contract that a function's router serves: the video join-link keys (a JWKS
/// of their own, for the video service).
const PUBLISHED: &[(&str, &str, &str)] = &[("GET", "/.well-known/video-jwks.json", "userinfo")];

/// Every route outside the contract, as the local router sends them: [`PUBLISHED`], the one-click
/// unsubscribe link of ASAP emails and the confirmation link of ASAP notification addresses
/// (served by the asap function's link router), the video service's check of join links (the
/// booking function's service router) and Swagger UI's
/// sign-in redirect page.
const EXTRA: &[(&str, &str, &str)] = &[
    ("GET", "/api-docs/oauth2-redirect", "userinfo"),
    ("GET", "/asap/unsubscribe", "asap"),
    ("POST", "/asap/unsubscribe", "asap"),
    ("GET", "/asap/confirm", "asap"),
    ("POST", "/asap/confirm", "asap"),
    ("POST", "/video/verify", "booking"),
    ("GET", "/.well-known/video-jwks.json", "userinfo"),
];

/// The local router's catch-all entries: every other path, for every method, goes to `userinfo`, whose
/// router answers the contract's JSON 404 like a deployed stack (not the watch server's own message).
const CATCH_ALL: &[&str] = &["/", "/{*path}"];

/// The methods every routed path accepts locally, so the function itself can answer 405 or 404.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn contract() -> BTreeSet<(String, String, String)> {
    CONTRACT
        .iter()
        .chain(PUBLISHED)
        .map(|(m, p, f)| (m.to_string(), p.to_string(), f.to_string()))
        .collect()
}

fn function_routes() -> BTreeSet<(String, String, String)> {
    let mut all = BTreeSet::new();
    let mut add = |function: &str, routes: Vec<(Method, &str)>| {
        for (m, p) in routes {
            all.insert((m.to_string(), p.to_string(), function.to_string()));
        }
    };
    add(
        "authorize",
        authorize_fn::router()
            .routes()
            .map(|(m, p)| (m.clone(), p))
            .collect(),
    );
    add(
        "token",
        token_fn::router()
            .routes()
            .map(|(m, p)| (m.clone(), p))
            .collect(),
    );
    add(
        "userinfo",
        userinfo_fn::router()
            .routes()
            .map(|(m, p)| (m.clone(), p))
            .collect(),
    );
    add(
        "booking",
        booking_fn::router()
            .routes()
            .map(|(m, p)| (m.clone(), p))
            .collect(),
    );
    add(
        "asap",
        asap_fn::router()
            .routes()
            .map(|(m, p)| (m.clone(), p))
            .collect(),
    );
    all
}

/// path -> (method -> function) from the `cargo lambda watch` router.
fn watch_router() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let router = doc["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("router table");
    router
        .iter()
        .map(|(path, entries)| {
            let methods = entries
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["method"].as_str().unwrap().to_owned(),
                        e["function"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

#[test]
fn each_function_serves_exactly_its_contract_routes() {
    assert_eq!(function_routes(), contract());
}

#[test]
fn the_local_router_sends_every_method_of_a_contract_path_to_its_function() {
    let router = watch_router();
    let contract_paths: BTreeSet<&str> = CONTRACT
        .iter()
        .chain(EXTRA)
        .map(|(_, p, _)| *p)
        .chain(CATCH_ALL.iter().copied())
        .collect();
    let router_paths: BTreeSet<&str> = router.keys().map(String::as_str).collect();
    assert_eq!(
        router_paths, contract_paths,
        "router paths differ from the contract"
    );
    for (method, path, function) in CONTRACT.iter().chain(EXTRA) {
        let methods = &router[*path];
        assert_eq!(
            methods.get(*method).map(String::as_str),
            Some(*function),
            "{method} {path}"
        );
        for m in METHODS {
            assert_eq!(
                methods.get(*m).map(String::as_str),
                Some(*function),
                "{m} {path} must reach {function} so it can answer 405"
            );
        }
    }
    for path in CATCH_ALL {
        for m in METHODS {
            assert_eq!(
                router[*path].get(*m).map(String::as_str),
                Some("userinfo"),
                "{m} {path} must reach userinfo so it can answer the JSON 404"
            );
        }
    }
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "doesnotexist0000000000000000")
}

#[tokio::test]
async fn every_contract_route_reaches_a_function_through_cargo_lambda_watch() {
    let portal = portal();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path, function) in CONTRACT.iter().chain(EXTRA) {
        let url = portal.url(&concrete(path));
        let response = client
            .request(method.parse().unwrap(), &url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        let body = response.text().await.unwrap();
        // The watch server's own answer to an unrouted request names "Default function".
        assert!(
            !body.contains("Default function"),
            "{method} {path} did not reach {function}: {status} {body}"
        );
        assert!(
            status.as_u16() < 500 || status.as_u16() == 501,
            "{method} {path}: {status} {body}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_and_an_unknown_path_is_404_json() {
    let portal = portal();
    let client = reqwest::Client::new();
    let response = client
        .delete(portal.url("/oauth/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "method_not_allowed");

    let response = client
        .patch(portal.url("/api/portal/v1/appointments/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, PUT, DELETE");

    for (method, path) in [
        ("GET", "/no/such/route"),
        ("POST", "/oauth"),
        ("DELETE", "/api/portal/v1/appointments/abc/nothing"),
        ("GET", "/"),
    ] {
        let response = client
            .request(method.parse().unwrap(), portal.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let body: serde_json::Value = response.json().await.expect("404 body is JSON");
        // The contract's error body, not the watch server's list of the workspace's binaries.
        assert_eq!(body["error"], "not_found", "{method} {path}: {body}");
        assert!(body.get("detail").is_none(), "{method} {path}: {body}");
    }
}
