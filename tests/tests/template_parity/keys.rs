//! Keys: each function reads its own key secret and no other; no function reads the operator's;
//! the `KeySecrets` output names them all as `portal-admin` expects them.

use shared::config::{Config, KEYS_SECRETS_VAR, KEY_DOCUMENTS};
use shared::keys::{Role, SECRET_ARN_VAR};

use super::*;

/// The secret a function's `PORTAL_KEYS_SECRET_ARN` names (its own `Environment`).
fn own_secret(doc: &Value, binary: &str) -> String {
    let (id, function) = function_of(doc, binary);
    let value = &function["Properties"]["Environment"]["Variables"][SECRET_ARN_VAR];
    let secret = ref_target(value)
        .unwrap_or_else(|| panic!("{id}: {SECRET_ARN_VAR} must be !Ref of its key secret"));
    assert_eq!(
        resource(doc, &secret)["Type"].as_str(),
        Some("AWS::SecretsManager::Secret"),
        "{id}: {secret}"
    );
    secret
}

/// `name -> logical id` of the `KeySecrets` output (`admin=${AdminKeysSecret},...`).
fn key_secrets_output(doc: &Value) -> BTreeMap<String, String> {
    let output = &doc["Outputs"]["KeySecrets"]["Value"];
    let (name, template) = intrinsic(output).expect("KeySecrets is a !Sub");
    assert_eq!(name, "Sub");
    let template = template.as_str().expect("a !Sub string");
    template
        .split(',')
        .map(|pair| {
            let (name, reference) = pair.split_once('=').expect("name=${Secret}");
            let id = reference
                .strip_prefix("${")
                .and_then(|r| r.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{reference} is not ${{LogicalId}}"));
            (name.to_owned(), id.to_owned())
        })
        .collect()
}

/// The secrets each holder's statements let it read, and the actions on secrets they allow.
fn secret_grants(doc: &Value) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let mut grants: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (holder, statement) in permissions::statements(doc) {
        let actions = permissions::actions(&statement);
        let on_secrets: Vec<String> = actions
            .into_iter()
            .filter(|a| a.starts_with("secretsmanager:"))
            .collect();
        if on_secrets.is_empty() {
            continue;
        }
        let resources: Vec<&Value> = match &statement["Resource"] {
            Value::Sequence(list) => list.iter().collect(),
            one => vec![one],
        };
        let entry = grants.entry(holder.clone()).or_default();
        for resource in resources {
            let secret = ref_target(resource).unwrap_or_else(|| {
                panic!("{holder}: secrets must be named by !Ref, not {resource:?}")
            });
            entry.0.insert(secret);
        }
        entry.1.extend(on_secrets);
    }
    grants
}

#[test]
fn each_function_reads_its_own_key_secret_and_no_other() {
    let doc = template();
    assert!(
        doc["Globals"]["Function"]["Environment"]["Variables"][SECRET_ARN_VAR].is_null(),
        "{SECRET_ARN_VAR} is per function, never global"
    );
    let grants = secret_grants(&doc);
    let mut owners = BTreeMap::new();
    for binary in BINARIES {
        let secret = own_secret(&doc, binary);
        if let Some(other) = owners.insert(secret.clone(), *binary) {
            panic!("{binary} and {other} share the key secret {secret}");
        }
        let (id, function) = function_of(&doc, binary);
        // Its permissions live on the function, or on the role it names.
        let holder = get_att(&function["Properties"]["Role"])
            .map(|(role, _)| role)
            .unwrap_or(id.clone());
        let (secrets, actions) = grants
            .get(&holder)
            .unwrap_or_else(|| panic!("{binary} ({holder}) cannot read its key secret"));
        assert_eq!(
            secrets,
            &BTreeSet::from([secret.clone()]),
            "{binary} must read exactly its own key secret"
        );
        assert_eq!(
            actions,
            &BTreeSet::from(["secretsmanager:GetSecretValue".to_owned()]),
            "{binary} only reads keys; only portal-admin writes them"
        );
    }
    // Nobody else holds a grant on any secret.
    let holders: BTreeSet<&String> = grants.keys().collect();
    assert_eq!(holders.len(), BINARIES.len(), "{holders:?}");
}

#[test]
fn the_key_secrets_output_names_every_document_and_no_function_reads_the_operators() {
    let doc = template();
    let output = key_secrets_output(&doc);
    let names: BTreeSet<&str> = output.keys().map(String::as_str).collect();
    assert_eq!(names, KEY_DOCUMENTS.iter().copied().collect());
    for role in Role::ALL {
        assert_eq!(
            output[role.name()],
            own_secret(&doc, role.name()),
            "KeySecrets names another secret for {role} than the function reads"
        );
    }
    let admin = &output["admin"];
    assert_eq!(
        resource(&doc, admin)["Type"].as_str(),
        Some("AWS::SecretsManager::Secret")
    );
    for (holder, (secrets, _)) in secret_grants(&doc) {
        assert!(
            !secrets.contains(admin),
            "{holder} can read the operator's keys"
        );
    }
    // Losing a key secret would invalidate every refresh token and mailed link.
    for id in output.values() {
        assert_eq!(
            resource(&doc, id)["DeletionPolicy"].as_str(),
            Some("Retain"),
            "{id}"
        );
    }
    // What the stack outputs is what portal-admin accepts.
    let arn =
        |id: &str| format!("arn:aws:secretsmanager:eu-central-1:123456789012:secret:{id}-AbCdEf");
    let resolved = output
        .iter()
        .map(|(name, id)| format!("{name}={}", arn(id)))
        .collect::<Vec<_>>()
        .join(",");
    let config = Config::from_lookup(|name| (name == KEYS_SECRETS_VAR).then(|| resolved.clone()))
        .unwrap_or_else(|e| panic!("portal-admin refuses the KeySecrets output: {e}"));
    assert_eq!(
        config.keys_secrets.map(|s| s.len()),
        Some(KEY_DOCUMENTS.len())
    );
}
