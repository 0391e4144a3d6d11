//! `template.yaml` (SAM) stays true to the code: its API routes are exactly the ones the functions
//! serve, each on its own function; every path has the `ANY` fallback that lets the function answer
//! 405 and CORS preflights itself; the JWT authorizer asks for a scope the contract requires on
//! every resource route and nothing on the others; and the runtime, configuration, permissions,
//! table and stream match what the code expects; and the dashboard, alarms, log groups and
//! tracing name what the code writes ([`observability`]).
//!
//! `sam validate` (infra/scripts/validate-template.sh) checks that the template deploys; it does not
//! know the contract, and lets through a wrong runtime or architecture: these tests do.

use std::collections::{BTreeMap, BTreeSet};

use portal_tests::template::{
    get_att, intrinsic, load as template, ref_target, resource, resources, sub_text,
};
use portal_tests::watch::workspace_root;
use serde_yaml::Value;

mod authorization;
mod data;
mod functions;
mod keys;
mod mail;
mod observability;
mod permissions;
mod routes;

/// The scopes CONTRACT.md requires on each resource route; every other route is public.
const RESOURCE_SCOPES: &[(&str, &str, &[&str])] = &[
    ("GET", "/oauth/userinfo", &["openid"]),
    ("POST", "/oauth/userinfo", &["openid"]),
    ("GET", "/api/portal/v1/profile", &["profile_read"]),
    (
        "GET",
        "/api/portal/v1/insurances",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointment_categories",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointment_types",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/availabilities",
        &["profile_read", "appointment_read"],
    ),
    (
        "POST",
        "/api/portal/v1/booking",
        &["profile_read", "appointment_write"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}",
        &["profile_read", "appointment_read"],
    ),
    (
        "PUT",
        "/api/portal/v1/appointments/{id}",
        &["profile_read", "appointment_write"],
    ),
    (
        "DELETE",
        "/api/portal/v1/appointments/{id}",
        &["profile_read", "appointment_write"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/availabilities",
        &["profile_read", "appointment_read"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/video_consultation",
        &["profile_read", "appointment_read"],
    ),
    (
        "POST",
        "/api/portal/v1/appointments/{id}/asap_list",
        &["profile_read", "appointment_write"],
    ),
    (
        "DELETE",
        "/api/portal/v1/appointments/{id}/asap_list",
        &["profile_read", "appointment_write"],
    ),
    (
        "GET",
        "/api/portal/v1/appointments/{id}/earlier_availability",
        &["profile_read", "appointment_read"],
    ),
];

/// Resource routes the gateway must leave to the function: on POST /oauth/userinfo the token may
/// come in the form body (RFC 6750 §2.2), which API Gateway's header-only authorizer would refuse.
const CHECKED_BY_THE_FUNCTION_ONLY: &[(&str, &str)] = &[("POST", "/oauth/userinfo")];

/// The five function binaries (functions/<name>, `[[bin]] name = "<name>"`).
const BINARIES: &[&str] = &["authorize", "token", "userinfo", "booking", "asap"];

/// The configuration variables the code reads (shared/src/config.rs, shared/src/keys/) that a
/// deployed function must get (from `Globals`, or its own `Environment` for its key secret).
const DEPLOYED_VARIABLES: &[&str] = &[
    "PORTAL_STORE",
    "PORTAL_ISSUER",
    "PORTAL_API_AUDIENCE",
    shared::keys::SECRET_ARN_VAR,
    "PORTAL_MAIL",
    "PORTAL_MAIL_FROM",
    "PORTAL_SES_CONFIGURATION_SET",
    "PORTAL_CORS_ORIGINS",
    "PORTAL_LOG_LEVEL",
    "PORTAL_METRICS_NAMESPACE",
    "PORTAL_AUDIT_RETENTION_DAYS",
];

// ---------------------------------------------------------------------------------------------
// Reading the template
// ---------------------------------------------------------------------------------------------

/// Where `make deploy-build` puts each function's bootstrap (infra/scripts/deploy-build.sh).
const PREBUILT: &str = "build/lambda/";

/// `(logical id, binary)` of every `AWS::Serverless::Function`: the binary is the folder its
/// `CodeUri` names under [`PREBUILT`].
fn functions(doc: &Value) -> Vec<(String, String)> {
    resources(doc)
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| {
            let binary = r["Properties"]["CodeUri"]
                .as_str()
                .and_then(|uri| uri.strip_prefix(PREBUILT))
                .unwrap_or_else(|| panic!("{id}: CodeUri is not {PREBUILT}<binary>"));
            (id.to_owned(), binary.to_owned())
        })
        .collect()
}

fn function_of<'a>(doc: &'a Value, binary: &str) -> (String, &'a Value) {
    let (id, _) = functions(doc)
        .into_iter()
        .find(|(_, b)| b == binary)
        .unwrap_or_else(|| panic!("no function builds {binary}"));
    let found = resource(doc, &id);
    (id, found)
}

/// One `HttpApi` event of a function.
#[derive(Debug, Clone)]
struct Route {
    /// The binary of the function it invokes.
    binary: String,
    /// `Function.Event`, for messages.
    name: String,
    /// Upper-case method; `ANY` for fallbacks and for the `$default` route.
    method: String,
    /// `None` for the API's `$default` route.
    path: Option<String>,
    /// The `!Ref` of `ApiId`.
    api: Option<String>,
    /// The route's authorizer as written (`NONE`, an authorizer name), if any.
    authorizer: Option<String>,
    /// Its `AuthorizationScopes`.
    scopes: Vec<String>,
}

impl Route {
    fn key(&self) -> (String, String) {
        (self.method.clone(), self.path.clone().unwrap_or_default())
    }
}

fn http_routes(doc: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for (id, binary) in functions(doc) {
        let events = resource(doc, &id)["Properties"]["Events"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for (event_name, event) in &events {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let properties = &event["Properties"];
            let auth = &properties["Auth"];
            routes.push(Route {
                binary: binary.clone(),
                name: format!("{id}.{}", event_name.as_str().unwrap_or("?")),
                method: properties["Method"]
                    .as_str()
                    .unwrap_or("ANY")
                    .to_ascii_uppercase(),
                path: properties["Path"].as_str().map(str::to_owned),
                api: ref_target(&properties["ApiId"]),
                authorizer: auth["Authorizer"].as_str().map(str::to_owned),
                scopes: auth["AuthorizationScopes"]
                    .as_sequence()
                    .map(|s| {
                        s.iter()
                            .map(|v| v.as_str().expect("scope").to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    routes
}

/// The HTTP API resource all routes belong to: `(logical id, resource)`.
fn http_api(doc: &Value) -> (String, &Value) {
    let apis: Vec<(&str, &Value)> = resources(doc)
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::HttpApi"))
        .collect();
    assert_eq!(apis.len(), 1, "exactly one HTTP API");
    (apis[0].0.to_owned(), apis[0].1)
}

// ---------------------------------------------------------------------------------------------
// Reading the code
// ---------------------------------------------------------------------------------------------

/// `(method, path) -> binary` for every route the function routers serve.
fn served_routes() -> BTreeMap<(String, String), String> {
    let mut all = BTreeMap::new();
    let mut add = |binary: &str, routes: Vec<(String, String)>| {
        for route in routes {
            let previous = all.insert(route.clone(), binary.to_owned());
            assert!(previous.is_none(), "{route:?} is served by two functions");
        }
    };
    let pairs = |routes: Vec<(&http::Method, &str)>| {
        routes
            .into_iter()
            .map(|(m, p)| (m.to_string(), p.to_owned()))
            .collect::<Vec<_>>()
    };
    add(
        "authorize",
        pairs(authorize_fn::router().routes().collect()),
    );
    add("token", pairs(token_fn::router().routes().collect()));
    add("userinfo", pairs(userinfo_fn::router().routes().collect()));
    add("booking", pairs(booking_fn::router().routes().collect()));
    add(
        "booking",
        pairs(booking_fn::service_router().routes().collect()),
    );
    add("asap", pairs(asap_fn::router().routes().collect()));
    add("asap", pairs(asap_fn::link_router().routes().collect()));
    add(
        "userinfo",
        pairs(userinfo_fn::docs_router().routes().collect()),
    );
    all
}

fn contract_scopes() -> BTreeMap<(String, String), BTreeSet<String>> {
    RESOURCE_SCOPES
        .iter()
        .map(|(m, p, scopes)| {
            (
                (m.to_string(), p.to_string()),
                scopes.iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}
