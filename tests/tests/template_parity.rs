//! `template.yaml` (SAM) stays true to the code: its API routes are exactly the ones the functions
//! serve, each on its own function; every path has the `ANY` fallback that lets the function answer
//! 405 and CORS preflights itself; the JWT authorizer asks for a scope the contract requires on
//! every resource route and nothing on the others; and the runtime, configuration, permissions,
//! table and stream match what the code expects.
//!
//! `sam validate` (infra/scripts/validate-template.sh) checks that the template deploys; it does not
//! know the contract, and lets through a wrong runtime or architecture: these tests do.

use std::collections::{BTreeMap, BTreeSet};

use portal_tests::watch::workspace_root;
use serde_yaml::Value;

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

/// The configuration variables the code reads (shared/src/config.rs, shared/src/keys.rs) that a
/// deployed function must get.
const DEPLOYED_VARIABLES: &[&str] = &[
    "PORTAL_STORE",
    "PORTAL_ISSUER",
    "PORTAL_API_AUDIENCE",
    shared::keys::SECRET_ARN_VAR,
    "PORTAL_MAIL",
    "PORTAL_MAIL_FROM",
    "PORTAL_CORS_ORIGINS",
    "PORTAL_LOG_LEVEL",
    "PORTAL_METRICS_NAMESPACE",
];

// ---------------------------------------------------------------------------------------------
// Reading the template
// ---------------------------------------------------------------------------------------------

/// The parsed template. CloudFormation's short forms (`!Ref X`, `!Sub ...`) stay as YAML tagged
/// values, which [`intrinsic`] reads like their long forms.
///
/// `PORTAL_TEMPLATE` names another file to check (to try the tests on a modified copy).
fn template() -> Value {
    let path = std::env::var_os("PORTAL_TEMPLATE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("template.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not YAML: {e}"))
}

/// `!Fn arg` or `{"Fn::Fn": arg}` / `{"Ref": arg}` as `("Fn", arg)`.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((
            tagged.tag.to_string().trim_start_matches('!').to_owned(),
            &tagged.value,
        )),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next()?;
            let key = key.as_str()?;
            match key {
                "Ref" => Some(("Ref".to_owned(), arg)),
                _ => key.strip_prefix("Fn::").map(|name| (name.to_owned(), arg)),
            }
        }
        _ => None,
    }
}

/// The logical id a `!Ref` names.
fn ref_target(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => arg.as_str().map(str::to_owned),
        _ => None,
    }
}

/// `!GetAtt Resource.Attribute` as `("Resource", "Attribute")`.
fn get_att(value: &Value) -> Option<(String, String)> {
    let (name, arg) = intrinsic(value)?;
    if name != "GetAtt" {
        return None;
    }
    match arg {
        Value::String(text) => {
            let (resource, attribute) = text.split_once('.')?;
            Some((resource.to_owned(), attribute.to_owned()))
        }
        Value::Sequence(parts) if parts.len() == 2 => {
            Some((parts[0].as_str()?.to_owned(), parts[1].as_str()?.to_owned()))
        }
        _ => None,
    }
}

fn resources(doc: &Value) -> impl Iterator<Item = (&str, &Value)> {
    doc["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(id, resource)| (id.as_str().expect("logical id"), resource))
}

fn resource<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let found = &doc["Resources"][id];
    assert!(!found.is_null(), "no resource {id}");
    found
}

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

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------------------------

#[test]
fn resource_routes_require_a_scope_the_contract_requires_and_the_others_are_public() {
    let doc = template();
    let (_, api) = http_api(&doc);
    let authorizers = api["Properties"]["Auth"]["Authorizers"]
        .as_mapping()
        .expect("the HTTP API defines its authorizers");
    let jwt: BTreeSet<&str> = authorizers
        .iter()
        .filter(|(_, a)| a["JwtConfiguration"].is_mapping())
        .filter_map(|(name, _)| name.as_str())
        .collect();
    // With a default authorizer, a route without `Auth` gets it with no scopes.
    let default = api["Properties"]["Auth"]["DefaultAuthorizer"].as_str();

    let contract = contract_scopes();
    let served = served_routes();
    for key in contract.keys() {
        assert!(
            served.contains_key(key),
            "{key:?} is in the scope table but no function serves it"
        );
    }
    for (method, path) in served.keys() {
        let looks_protected = path.starts_with("/api/portal/v1/") || path == "/oauth/userinfo";
        assert_eq!(
            looks_protected,
            contract.contains_key(&(method.clone(), path.clone())),
            "{method} {path}: the scope table must list exactly the resource routes"
        );
    }

    for route in http_routes(&doc).iter().filter(|r| r.method != "ANY") {
        let key = route.key();
        let authorizer = route.authorizer.as_deref().or(default);
        let exempt = CHECKED_BY_THE_FUNCTION_ONLY.contains(&(key.0.as_str(), key.1.as_str()));
        match contract.get(&key) {
            Some(required) if !exempt => {
                assert!(
                    authorizer.is_some_and(|a| jwt.contains(a)),
                    "{} must use the JWT authorizer, has {authorizer:?}",
                    route.name
                );
                assert!(
                    !route.scopes.is_empty(),
                    "{} must require a scope (the gateway would accept any token)",
                    route.name
                );
                for scope in &route.scopes {
                    assert!(
                        required.contains(scope),
                        "{} asks for {scope}, which the contract does not require there ({required:?})",
                        route.name
                    );
                }
            }
            _ => assert_eq!(
                authorizer,
                Some("NONE"),
                "{} must be reachable without a token",
                route.name
            ),
        }
    }
}

#[test]
fn the_jwt_authorizer_and_the_functions_agree_on_issuer_and_audience() {
    let doc = template();
    let (_, api) = http_api(&doc);
    let auth = &api["Properties"]["Auth"];
    let name = auth["DefaultAuthorizer"]
        .as_str()
        .expect("a default authorizer, so new routes are protected");
    let authorizer = &auth["Authorizers"][name];
    assert_eq!(
        authorizer["IdentitySource"].as_str(),
        Some("$request.header.Authorization")
    );
    let jwt = &authorizer["JwtConfiguration"];
    assert_eq!(ref_target(&jwt["issuer"]).as_deref(), Some("Issuer"));
    let audiences = jwt["audience"].as_sequence().expect("audience list");
    assert_eq!(audiences.len(), 1, "one audience: the API's own");

    let env = &doc["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(ref_target(&env["PORTAL_ISSUER"]).as_deref(), Some("Issuer"));
    assert_eq!(
        env["PORTAL_API_AUDIENCE"], audiences[0],
        "tokens are minted for the audience the gateway checks"
    );

    // The default audience is the code's default: the issuer followed by /api/portal/v1.
    let (function, args) = intrinsic(&audiences[0]).expect("!If on ApiAudience");
    assert_eq!(function, "If");
    let args = args.as_sequence().expect("!If arguments");
    assert_eq!(ref_target(&args[1]).as_deref(), Some("ApiAudience"));
    let (sub, pattern) = intrinsic(&args[2]).expect("!Sub of the default audience");
    assert_eq!(sub, "Sub");
    let issuer = "https://id.portal.example";
    let expected = pattern
        .as_str()
        .expect("!Sub string")
        .replace("${Issuer}", issuer);
    let config = shared::config::Config::from_lookup(|name| {
        (name == "PORTAL_ISSUER").then(|| issuer.to_owned())
    })
    .unwrap();
    assert_eq!(expected, config.api_audience);
}

// ---------------------------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------------------------

#[test]
fn every_function_is_its_own_arm64_binary_on_al2023_packaged_from_the_workspace_build() {
    let doc = template();
    let globals = &doc["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(
        globals["Architectures"],
        serde_yaml::from_str::<Value>("[arm64]").unwrap()
    );

    let mut built = BTreeSet::new();
    for (id, binary) in functions(&doc) {
        let function = resource(&doc, &id);
        // Packaged from the one workspace build, never rebuilt per function by `sam build`.
        assert!(function["Metadata"]["BuildMethod"].is_null(), "{id}");
        assert_eq!(
            function["Properties"]["CodeUri"].as_str(),
            Some(format!("{PREBUILT}{binary}").as_str()),
            "{id}"
        );
        for inherited in ["Runtime", "Handler", "Architectures"] {
            assert!(
                function["Properties"][inherited].is_null(),
                "{id} overrides {inherited}"
            );
        }
        assert!(built.insert(binary.clone()), "{binary} is built twice");

        let manifest = workspace_root().join(format!("functions/{binary}/Cargo.toml"));
        let manifest: toml::Table = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{id}: {}: {e}", manifest.display()))
            .parse()
            .unwrap();
        let bins: Vec<&str> = manifest["bin"]
            .as_array()
            .expect("[[bin]]")
            .iter()
            .filter_map(|b| b["name"].as_str())
            .collect();
        assert!(
            bins.contains(&binary.as_str()),
            "{id}: functions/{binary} has no binary {binary} ({bins:?})"
        );
    }
    assert_eq!(built, BINARIES.iter().map(|b| b.to_string()).collect());
}

#[test]
fn the_deploy_build_puts_each_bootstrap_where_code_uri_looks() {
    let script = std::fs::read_to_string(workspace_root().join("infra/scripts/deploy-build.sh"))
        .expect("infra/scripts/deploy-build.sh");
    assert!(
        script.contains(&format!("OUT=\"$ROOT/{}\"", PREBUILT.trim_end_matches('/'))),
        "deploy-build.sh writes somewhere else than {PREBUILT}"
    );
    assert!(script.contains("cargo lambda build --release --arm64"));
    let lib = std::fs::read_to_string(workspace_root().join("infra/scripts/lib.sh")).unwrap();
    assert!(
        lib.contains(&format!("FUNCTION_PACKAGES=({})", BINARIES.join(" "))),
        "infra/scripts/lib.sh builds other functions than {BINARIES:?}"
    );
}

#[test]
fn every_function_gets_the_configuration_the_code_reads() {
    let doc = template();
    let env = doc["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .expect("Globals environment");
    let names: BTreeSet<&str> = env.keys().filter_map(Value::as_str).collect();
    for variable in DEPLOYED_VARIABLES {
        assert!(names.contains(variable), "{variable} is not set");
    }
    let var = |name: &str| &doc["Globals"]["Function"]["Environment"]["Variables"][name];
    assert_eq!(
        ref_target(var(shared::keys::SECRET_ARN_VAR)).as_deref(),
        Some("KeysSecret")
    );
    assert_eq!(
        resource(&doc, "KeysSecret")["Type"].as_str(),
        Some("AWS::SecretsManager::Secret")
    );
    let (sub, store) = intrinsic(var("PORTAL_STORE")).expect("!Sub dynamodb:${Table}");
    assert_eq!(
        (sub.as_str(), store.as_str()),
        ("Sub", Some("dynamodb:${Table}"))
    );

    // Whatever the stack fills in, the code must accept: literal values as they are, references
    // as a typical deployment resolves them.
    let resolved: BTreeMap<String, String> = env
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().unwrap().to_owned();
            // `as_str` would also read through a tag (`!Ref Issuer` -> "Issuer").
            let value = match value {
                Value::String(literal) => literal.clone(),
                _ => match name.as_str() {
                    "PORTAL_STORE" => "dynamodb:portal-Table-1ABC".to_owned(),
                    "PORTAL_ISSUER" => "https://id.portal.example".to_owned(),
                    "PORTAL_API_AUDIENCE" => "https://id.portal.example/api/portal/v1".to_owned(),
                    "PORTAL_MAIL_FROM" => "no-reply@portal.example".to_owned(),
                    "PORTAL_CORS_ORIGINS" => "https://app.example".to_owned(),
                    "PORTAL_LOG_LEVEL" => "info".to_owned(),
                    _ => "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys".to_owned(),
                },
            };
            (name, value)
        })
        .collect();
    let config = shared::config::Config::from_lookup(|name| resolved.get(name).cloned())
        .unwrap_or_else(|e| panic!("the deployed configuration is refused: {e}"));
    assert_eq!(config.mail, shared::config::MailConfig::Ses);
    assert!(matches!(
        config.store,
        shared::config::StoreConfig::Dynamo { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

/// Every IAM statement of the template, with who holds it: inline `Policies` of a function (by
/// binary) or of an `AWS::IAM::Role` (by logical id).
fn statements(doc: &Value) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    let mut collect = |holder: &str, statements: &Value| {
        for statement in statements.as_sequence().into_iter().flatten() {
            match intrinsic(statement) {
                // A conditional statement: both branches count.
                Some((name, args)) if name == "If" => {
                    for branch in args.as_sequence().into_iter().flatten().skip(1) {
                        if branch.is_mapping() && ref_target(branch).is_none() {
                            all.push((holder.to_owned(), branch.clone()));
                        }
                    }
                }
                _ => all.push((holder.to_owned(), statement.clone())),
            }
        }
    };
    for (id, r) in resources(doc) {
        match r["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                for policy in r["Properties"]["Policies"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        policy.is_mapping() && !policy["Statement"].is_null(),
                        "{id}: use inline statements, not SAM policy templates or managed policies: {policy:?}"
                    );
                    collect(id, &policy["Statement"]);
                }
            }
            Some("AWS::IAM::Role") => {
                for policy in r["Properties"]["Policies"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                {
                    collect(id, &policy["PolicyDocument"]["Statement"]);
                }
                assert!(
                    r["Properties"]["ManagedPolicyArns"].is_null(),
                    "{id}: no managed policies"
                );
            }
            _ => {}
        }
    }
    all
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Sequence(list) => list
            .iter()
            .map(|a| a.as_str().expect("action").to_owned())
            .collect(),
        other => panic!("Action {other:?}"),
    }
}

#[test]
fn permissions_are_item_level_and_only_asap_can_send_mail_or_read_the_stream() {
    let doc = template();
    let (asap_id, asap) = function_of(&doc, "asap");
    let asap_role = get_att(&asap["Properties"]["Role"]).map(|(role, _)| role);
    let is_asap = |holder: &str| holder == asap_id || Some(holder) == asap_role.as_deref();

    let item_level = [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
    ];
    let stream = [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ];
    let mut mail_senders = BTreeSet::new();
    let mut stream_readers = BTreeSet::new();
    let all = statements(&doc);
    assert!(!all.is_empty());
    for (holder, statement) in &all {
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{holder}");
        for action in actions(statement) {
            assert!(!action.contains('*'), "{holder}: wildcard action {action}");
            if let Some(op) = action.strip_prefix("dynamodb:") {
                assert!(
                    item_level.contains(&action.as_str()) || stream.contains(&action.as_str()),
                    "{holder}: dynamodb:{op} is more than the code needs"
                );
                if stream.contains(&action.as_str()) {
                    stream_readers.insert(holder.clone());
                } else {
                    assert_ne!(
                        statement["Resource"].as_str(),
                        Some("*"),
                        "{holder}: {action} on every table"
                    );
                }
            }
            if action.starts_with("ses:") {
                mail_senders.insert(holder.clone());
                assert_ne!(
                    statement["Resource"].as_str(),
                    Some("*"),
                    "{holder}: {action}"
                );
            }
        }
    }
    assert_eq!(
        mail_senders.len(),
        1,
        "one holder of ses:* ({mail_senders:?})"
    );
    assert!(mail_senders.iter().all(|h| is_asap(h)), "{mail_senders:?}");
    assert_eq!(stream_readers.len(), 1, "{stream_readers:?}");
    assert!(
        stream_readers.iter().all(|h| is_asap(h)),
        "{stream_readers:?}"
    );

    // The read-only function stays read-only.
    let (userinfo_id, _) = function_of(&doc, "userinfo");
    for (holder, statement) in &all {
        if *holder == userinfo_id {
            for action in actions(statement) {
                assert!(
                    ![
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem"
                    ]
                    .contains(&action.as_str()),
                    "userinfo may not write ({action})"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

#[test]
fn the_table_has_the_schema_the_dynamodb_adapter_creates_and_is_protected() {
    let doc = template();
    let table = resource(&doc, "Table");
    let yaml = |text: &str| serde_yaml::from_str::<Value>(text).unwrap();
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(table["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    let mut attributes: Vec<(String, String)> = p["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_owned(),
                a["AttributeType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    attributes.sort();
    assert_eq!(
        attributes,
        [("gsi1pk", "S"), ("gsi1sk", "S"), ("pk", "S"), ("sk", "S")]
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
    );
    assert_eq!(
        p["KeySchema"],
        yaml("[{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]")
    );
    assert_eq!(
        p["GlobalSecondaryIndexes"],
        yaml(
            "[{IndexName: gsi1, KeySchema: [{AttributeName: gsi1pk, KeyType: HASH}, \
             {AttributeName: gsi1sk, KeyType: RANGE}], Projection: {ProjectionType: ALL}}]"
        )
    );
    assert_eq!(
        p["TimeToLiveSpecification"],
        yaml("{AttributeName: ttl, Enabled: true}")
    );
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_AND_OLD_IMAGES")
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(p["DeletionProtectionEnabled"].as_bool(), Some(true));
    assert_eq!(p["SSESpecification"]["SSEEnabled"].as_bool(), Some(true));
}

#[test]
fn outbox_inserts_feed_asap_with_partial_batch_failures_and_an_encrypted_failure_queue() {
    let doc = template();
    let (id, asap) = function_of(&doc, "asap");
    let streams: Vec<&Value> = asap["Properties"]["Events"]
        .as_mapping()
        .expect("asap events")
        .values()
        .filter(|e| e["Type"].as_str() == Some("DynamoDB"))
        .collect();
    assert_eq!(streams.len(), 1, "{id}: one stream event");
    let s = &streams[0]["Properties"];
    assert_eq!(
        get_att(&s["Stream"]),
        Some(("Table".to_owned(), "StreamArn".to_owned()))
    );
    assert_eq!(
        s["FunctionResponseTypes"],
        serde_yaml::from_str::<Value>("[ReportBatchItemFailures]").unwrap()
    );
    assert_eq!(s["BisectBatchOnFunctionError"].as_bool(), Some(true));
    let retries = s["MaximumRetryAttempts"].as_i64().expect("bounded retries");
    assert!((0..=10).contains(&retries), "{retries}");

    let filters = s["FilterCriteria"]["Filters"]
        .as_sequence()
        .expect("filters");
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(filters[0]["Pattern"].as_str().expect("pattern")).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["Keys"]["pk"]["S"],
        serde_json::json!([{"prefix": "OUTBOX#"}])
    );

    let on_failure = &s["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"].as_str(), Some("SQS"));
    let (queue_id, attribute) = get_att(&on_failure["Destination"]).expect("!GetAtt queue");
    assert_eq!(attribute, "Arn");
    let queue = resource(&doc, &queue_id);
    assert_eq!(queue["Type"].as_str(), Some("AWS::SQS::Queue"));
    assert_eq!(
        queue["Properties"]["MessageRetentionPeriod"].as_i64(),
        Some(14 * 24 * 3600)
    );
    let encrypted = queue["Properties"]["SqsManagedSseEnabled"].as_bool() == Some(true)
        || !queue["Properties"]["KmsMasterKeyId"].is_null();
    assert!(encrypted, "the failure queue is encrypted");
}
