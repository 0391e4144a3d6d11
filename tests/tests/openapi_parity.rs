//! The OpenAPI document (`shared::openapi::document`, served at `/api-docs/openapi.json`) describes
//! exactly the API the functions serve: the same (method, path) pairs as the five routers and the
//! contract, each operation tagged with the function that serves it, the contract's scopes on
//! every resource route, and no dangling `$ref`.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use serde_json::Value;

/// CONTRACT.md's routes: method, path, function, and the scopes resource routes require (empty for
/// public routes).
const CONTRACT: &[(&str, &str, &str, &[&str])] = &[
    ("GET", "/oauth/authorize", "authorize", &[]),
    ("POST", "/oauth/authorize", "authorize", &[]),
    ("GET", "/oauth/login", "authorize", &[]),
    ("POST", "/oauth/login", "authorize", &[]),
    ("GET", "/oauth/consent", "authorize", &[]),
    ("POST", "/oauth/consent", "authorize", &[]),
    ("GET", "/oauth/logout", "authorize", &[]),
    ("POST", "/oauth/logout", "authorize", &[]),
    ("GET", "/oauth/mfa", "authorize", &[]),
    ("POST", "/oauth/mfa", "authorize", &[]),
    ("GET", "/account/mfa/totp", "authorize", &[]),
    ("POST", "/account/mfa/totp", "authorize", &[]),
    ("GET", "/oauth/passkey", "authorize", &[]),
    ("POST", "/oauth/passkey", "authorize", &[]),
    ("GET", "/oauth/passkey.js", "authorize", &[]),
    ("GET", "/account/mfa/passkeys", "authorize", &[]),
    ("POST", "/account/mfa/passkeys", "authorize", &[]),
    ("GET", "/account", "authorize", &[]),
    ("POST", "/account/apps/revoke", "authorize", &[]),
    // Not in the contract: the account page's other forms.
    ("POST", "/account/profile", "authorize", &[]),
    ("POST", "/account/password", "authorize", &[]),
    ("POST", "/account/language", "authorize", &[]),
    ("POST", "/account/sessions/end", "authorize", &[]),
    ("POST", "/account/delete", "authorize", &[]),
    ("POST", "/account/email", "authorize", &[]),
    ("GET", "/account/email/confirm", "authorize", &[]),
    ("POST", "/account/email/confirm", "authorize", &[]),
    ("GET", "/account/register", "authorize", &[]),
    ("POST", "/account/register", "authorize", &[]),
    ("GET", "/account/verify", "authorize", &[]),
    ("POST", "/account/verify", "authorize", &[]),
    ("GET", "/account/verify/resend", "authorize", &[]),
    ("POST", "/account/verify/resend", "authorize", &[]),
    ("GET", "/account/password/forgot", "authorize", &[]),
    ("POST", "/account/password/forgot", "authorize", &[]),
    ("GET", "/account/password/reset", "authorize", &[]),
    ("POST", "/account/password/reset", "authorize", &[]),
    ("POST", "/oauth/token", "token", &[]),
    ("POST", "/oauth/revoke", "token", &[]),
    ("POST", "/oauth/introspect", "token", &[]),
    ("GET", "/.well-known/openid-configuration", "userinfo", &[]),
    (
        "GET",
        "/.well-known/oauth-authorization-server",
        "userinfo",
        &[],
    ),
    ("GET", "/.well-known/jwks.json", "userinfo", &[]),
    // Not in the contract: the video join-link keys, a JWKS of their own (shared/src/keys/).
    ("GET", "/.well-known/video-jwks.json", "userinfo", &[]),
    ("GET", "/oauth/userinfo", "userinfo", &["openid"]),
    ("POST", "/oauth/userinfo", "userinfo", &["openid"]),
    (
        "GET",
        "/api/portal/v1/profile",
        "userinfo",
        &["profile_read"],
    ),
    ("GET", "/api-docs", "userinfo", &[]),
    ("GET", "/api-docs/openapi.json", "userinfo", &[]),
    (
        "GET",
        "/api/portal/v1/insurances",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointment_categories",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointment_types",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/availabilities",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "POST",
        "/api/portal/v1/booking",
        "booking",
        &["profile_read", "appointment_write"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "PUT",
        "/api/portal/v1/appointments/{id}",
        "booking",
        &["profile_read", "appointment_write"],
    ),
    (
        "DELETE",
        "/api/portal/v1/appointments/{id}",
        "booking",
        &["profile_read", "appointment_write"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/availabilities",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/video_consultation",
        "booking",
        &["profile_read", "appointment_read"],
    ),
    (
        "POST",
        "/api/portal/v1/appointments/{id}/asap_list",
        "asap",
        &["profile_read", "appointment_write"],
    ),
    (
        "DELETE",
        "/api/portal/v1/appointments/{id}/asap_list",
        "asap",
        &["profile_read", "appointment_write"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/earlier_availability",
        "asap",
        &["profile_read", "appointment_read"],
    ),
];

/// HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

type Route = (String, String);

fn document() -> Value {
    let config = shared::config::Config::from_lookup(|name| {
        (name == "PORTAL_ISSUER").then(|| "https://id.portal.example".to_owned())
    })
    .unwrap();
    serde_json::to_value(shared::openapi::document(&config)).unwrap()
}

/// `(METHOD, path) -> operation` of the document.
fn operations(doc: &Value) -> BTreeMap<Route, Value> {
    let mut all = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                all.insert(
                    (method.to_ascii_uppercase(), path.clone()),
                    operation.clone(),
                );
            }
        }
    }
    all
}

/// `(METHOD, path) -> function` of the five function routers.
fn served() -> BTreeMap<Route, String> {
    let mut all = BTreeMap::new();
    let mut add = |function: &str, routes: Vec<(&Method, &str)>| {
        for (method, path) in routes {
            let previous = all.insert((method.to_string(), path.to_owned()), function.to_owned());
            assert!(previous.is_none(), "{method} {path} is served twice");
        }
    };
    add("authorize", authorize_fn::router().routes().collect());
    add("token", token_fn::router().routes().collect());
    add("userinfo", userinfo_fn::router().routes().collect());
    add("booking", booking_fn::router().routes().collect());
    add("asap", asap_fn::router().routes().collect());
    all
}

fn contract() -> BTreeMap<Route, String> {
    CONTRACT
        .iter()
        .map(|(m, p, f, _)| ((m.to_string(), p.to_string()), f.to_string()))
        .collect()
}

#[test]
fn the_document_is_openapi_3_1_served_from_the_issuer() {
    let doc = document();
    let version = doc["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    assert_eq!(
        doc["servers"],
        serde_json::json!([{ "url": "https://id.portal.example" }])
    );
    assert!(doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(doc["info"]["version"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));
}

#[test]
fn the_document_routers_and_contract_list_the_same_routes() {
    let documented: BTreeSet<Route> = operations(&document()).into_keys().collect();
    let served: BTreeSet<Route> = served().into_keys().collect();
    let contract: BTreeSet<Route> = contract().into_keys().collect();
    assert_eq!(
        documented.difference(&served).collect::<Vec<_>>(),
        Vec::<&Route>::new(),
        "documented but not served"
    );
    assert_eq!(
        served.difference(&documented).collect::<Vec<_>>(),
        Vec::<&Route>::new(),
        "served but not documented"
    );
    assert_eq!(served, contract);
}

#[test]
fn each_operation_is_tagged_with_its_function_and_has_a_unique_id() {
    let served = served();
    let mut ids = BTreeSet::new();
    for (route, operation) in operations(&document()) {
        assert_eq!(
            operation["tags"],
            serde_json::json!([served[&route]]),
            "{route:?}"
        );
        let id = operation["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{route:?} has no summary"
        );
    }
}

#[test]
fn resource_routes_require_exactly_the_contract_scopes_and_public_ones_none() {
    let doc = document();
    let operations = operations(&doc);
    for (method, path, _, scopes) in CONTRACT {
        let operation = &operations[&(method.to_string(), path.to_string())];
        let requirements = operation["security"].as_array();
        if scopes.is_empty() {
            let oauth = requirements
                .into_iter()
                .flatten()
                .any(|r| r.get("oauth2").is_some() || r.get("bearer").is_some());
            assert!(!oauth, "{method} {path} is public but asks for a token");
            continue;
        }
        let requirements = requirements.unwrap_or_else(|| panic!("{method} {path}: no security"));
        let expected: Vec<&str> = scopes.to_vec();
        // Either scheme, each with every scope the contract requires (and nothing else).
        assert_eq!(
            requirements,
            &vec![
                serde_json::json!({ "oauth2": expected }),
                serde_json::json!({ "bearer": expected }),
            ],
            "{method} {path}"
        );
        let responses = operation["responses"].as_object().unwrap();
        for status in ["401", "403"] {
            assert!(
                responses.contains_key(status),
                "{method} {path}: no {status}"
            );
        }
    }
}

#[test]
fn the_oauth2_scheme_offers_every_scope_from_the_issuer() {
    let doc = document();
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
    assert_eq!(
        flow["authorizationUrl"],
        "https://id.portal.example/oauth/authorize"
    );
    assert_eq!(flow["tokenUrl"], "https://id.portal.example/oauth/token");
    let offered: BTreeSet<&str> = flow["scopes"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let known: BTreeSet<&str> = shared::scope::Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(offered, known);
    for scope in shared::scope::Scope::ALL {
        assert_eq!(flow["scopes"][scope.as_str()], scope.description());
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => refs(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_error_has_a_body_schema() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "the document uses shared components");
    for target in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external reference {target}"));
        assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
    }
    for (route, operation) in operations(&doc) {
        for (status, response) in operation["responses"].as_object().unwrap() {
            let response = match response.get("$ref").and_then(Value::as_str) {
                Some(target) => doc.pointer(&target[1..]).unwrap(),
                None => response,
            };
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{route:?} {status} has no body"));
                assert!(!content.is_empty(), "{route:?} {status}");
            }
        }
    }
}

#[test]
fn response_schemas_are_the_served_shapes() {
    let doc = document();
    let schema = |name: &str| doc["components"]["schemas"][name].clone();
    // The contract's "Shapes", from the structs the functions serialise.
    for (name, fields) in [
        ("Insurance", &["id", "name"][..]),
        ("AppointmentCategory", &["id", "name"]),
        (
            "AppointmentType",
            &[
                "id",
                "name",
                "duration_minutes",
                "asap_notifications_enabled",
                "video_consultation",
            ],
        ),
        ("Availability", &["id", "starts_at", "ends_at"]),
        ("AvailabilityPage", &["data", "next_cursor"]),
        (
            "Appointment",
            &[
                "id",
                "status",
                "starts_at",
                "ends_at",
                "appointment_type",
                "appointment_category",
                "insurance_id",
                "video_consultation",
                "asap_list",
            ],
        ),
        ("IdResponse", &["id"]),
        ("VideoLink", &["url", "expires_at"]),
        ("EarlierAvailability", &["appointment", "availability"]),
        ("Error", &["error", "error_description"]),
        ("OAuthError", &["error", "error_description"]),
        (
            "TokenResponse",
            &["access_token", "token_type", "expires_in", "scope"],
        ),
    ] {
        let schema = schema(name);
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no required fields"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for field in fields {
            assert!(required.contains(field), "{name}.{field} is not required");
        }
    }
    assert_eq!(
        schema("AppointmentStatus")["enum"],
        serde_json::json!(["booked", "cancelled"])
    );
    let codes = schema("OAuthErrorCode")["enum"].clone();
    for code in [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ] {
        assert!(
            codes.as_array().unwrap().contains(&Value::from(code)),
            "{code}"
        );
    }
}
