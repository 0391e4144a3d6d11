//! Reading `template.yaml` (SAM) in tests: CloudFormation's short forms (`!Ref X`, `!Sub ...`)
//! stay YAML tagged values, which [`intrinsic`] reads like their long forms.

use serde_yaml::Value;

use crate::watch::workspace_root;

/// The parsed template; `PORTAL_TEMPLATE` names another file to check (a modified copy).
pub fn load() -> Value {
    let path = std::env::var_os("PORTAL_TEMPLATE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("template.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("template.yaml is not YAML: {e}"))
}

/// `!Fn arg` or `{"Fn::Fn": arg}` / `{"Ref": arg}` as `("Fn", arg)`.
pub fn intrinsic(value: &Value) -> Option<(String, &Value)> {
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
pub fn ref_target(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, arg) if name == "Ref" => arg.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The string of a `!Sub "..."` (the one-argument form).
pub fn sub_text(value: &Value) -> Option<&str> {
    match intrinsic(value)? {
        (name, arg) if name == "Sub" => arg.as_str(),
        _ => None,
    }
}

/// `!GetAtt Resource.Attribute` (either form) as `("Resource", "Attribute")`.
pub fn get_att(value: &Value) -> Option<(String, String)> {
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

/// The resource with logical id `id`.
///
/// # Panics
/// When the template has none.
pub fn resource<'a>(doc: &'a Value, id: &str) -> &'a Value {
    let found = &doc["Resources"][id];
    assert!(!found.is_null(), "no resource {id}");
    found
}

/// `(logical id, resource)` of every resource.
pub fn resources(doc: &Value) -> impl Iterator<Item = (&str, &Value)> {
    doc["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
}

/// `(logical id, resource)` of every resource of `kind` (`AWS::CloudWatch::Alarm`, ...).
pub fn resources_of<'a>(
    doc: &'a Value,
    kind: &'a str,
) -> impl Iterator<Item = (&'a str, &'a Value)> {
    resources(doc).filter(move |(_, r)| r["Type"].as_str() == Some(kind))
}
