//! Authorization: the JWT authorizer's scopes, issuer and audience.

use super::*;

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
