//! Functions: one arm64 binary each, with the configuration the code reads.

use super::*;

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
    let globals = doc["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .expect("Globals environment");
    let var = |name: &str| &doc["Globals"]["Function"]["Environment"]["Variables"][name];
    let (sub, store) = intrinsic(var("PORTAL_STORE")).expect("!Sub dynamodb:${Table}");
    assert_eq!(
        (sub.as_str(), store.as_str()),
        ("Sub", Some("dynamodb:${Table}"))
    );

    assert_eq!(
        ref_target(var("PORTAL_SES_CONFIGURATION_SET")).as_deref(),
        Some("MailConfigurationSet")
    );
    for binary in BINARIES {
        let (id, function) = function_of(&doc, binary);
        // SAM merges a function's own variables over the global ones.
        let mut env = globals.clone();
        if let Some(own) = function["Properties"]["Environment"]["Variables"].as_mapping() {
            for (name, value) in own {
                env.insert(name.clone(), value.clone());
            }
        }
        let names: BTreeSet<&str> = env.keys().filter_map(Value::as_str).collect();
        for variable in DEPLOYED_VARIABLES {
            assert!(names.contains(variable), "{id}: {variable} is not set");
        }

        // Whatever the stack fills in, the code must accept: literal values as they are,
        // references as a typical deployment resolves them.
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
                        "PORTAL_API_AUDIENCE" => {
                            "https://id.portal.example/api/portal/v1".to_owned()
                        }
                        "PORTAL_MAIL_FROM" => "no-reply@portal.example".to_owned(),
                        "PORTAL_SES_CONFIGURATION_SET" => "portal-prod-mail".to_owned(),
                        "PORTAL_CORS_ORIGINS" => "https://app.example".to_owned(),
                        "PORTAL_LOG_LEVEL" => "info".to_owned(),
                        "PORTAL_METRICS_NAMESPACE" => "MyPatientPortal/prod".to_owned(),
                        "PORTAL_AUDIT_RETENTION_DAYS" => "365".to_owned(),
                        "PORTAL_SELF_REGISTRATION" => "on".to_owned(),
                        "PORTAL_TIME_ZONE" => "Europe/Berlin".to_owned(),
                        _ => format!(
                            "arn:aws:secretsmanager:us-east-1:123456789012:secret:{binary}-keys"
                        ),
                    },
                };
                (name, value)
            })
            .collect();
        let config = shared::config::Config::from_lookup(|name| resolved.get(name).cloned())
            .unwrap_or_else(|e| panic!("{id}: the deployed configuration is refused: {e}"));
        assert_eq!(
            config.mail,
            shared::config::MailConfig::Ses {
                configuration_set: Some("portal-prod-mail".into())
            },
            "{id}"
        );
        assert!(matches!(
            config.store,
            shared::config::StoreConfig::Dynamo { .. }
        ));
        // Deployed, booking reads only its own keys: the ASAP emails go out from the stream.
        assert_eq!(config.asap_dispatch, shared::config::AsapDispatch::Stream);
        assert!(config.keys_secret_arn.is_some(), "{id}");
    }
}

#[test]
fn deployed_stacks_allow_no_browser_origin_unless_the_operator_lists_one() {
    let doc = template();
    let parameter = &doc["Parameters"]["CorsAllowedOrigins"];
    let default = parameter["Default"].as_str().expect("a default");
    assert_eq!(default, shared::config::CORS_NONE);
    let pattern = regex_lite_match(parameter["AllowedPattern"].as_str().unwrap());
    assert!(
        pattern(default),
        "the default passes the parameter's own pattern"
    );
    assert!(pattern("http://localhost:5173,https://app.example"));
    assert!(!pattern(""), "empty would mean loopback in the code");
    let config = shared::config::Config::from_lookup(|name| match name {
        "PORTAL_CORS_ORIGINS" => Some(default.to_owned()),
        "PORTAL_ISSUER" => Some("https://id.portal.example".to_owned()),
        _ => None,
    })
    .unwrap();
    assert!(config.cors_origins.is_empty() && !config.cors_loopback);
}

/// The parameter's `AllowedPattern`, which has the form `^(none|ORIGIN(,ORIGIN)*)$`, as a check.
fn regex_lite_match(pattern: &str) -> impl Fn(&str) -> bool {
    assert_eq!(
        pattern, r"^(none|https?://[^,\s/]+(,https?://[^,\s/]+)*)$",
        "update this check with the pattern"
    );
    |value: &str| {
        value == "none"
            || (!value.is_empty()
                && value.split(',').all(|origin| {
                    let rest = origin
                        .strip_prefix("https://")
                        .or_else(|| origin.strip_prefix("http://"));
                    rest.is_some_and(|host| {
                        !host.is_empty()
                            && !host.contains(['/', ','])
                            && !host.contains(char::is_whitespace)
                    })
                }))
    }
}
