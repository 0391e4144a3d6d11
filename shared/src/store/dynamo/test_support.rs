//! Fixtures of the adapter's unit tests.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use super::names::Attributes;
use crate::store::{Item, Key};

/// The fixed "now" of expression tests.
pub(super) const NOW: i64 = 1_800_000_000;

pub(super) fn sample() -> Item {
    Item::new(Key::new("USER#1", "PROFILE"))
        .with("name", "Ada")
        .with("count", 42_i64)
        .with("negative", -7_i64)
        .with("blob", vec![0_u8, 1, 255])
        .with("flag", true)
        .with("tags", vec!["a".to_owned(), "b".to_owned()])
        .with("empty", Vec::<String>::new())
        .with("blank", "")
        .expiring_at(NOW + 60)
        .indexed(Key::new("EMAIL#ada@example.com", "USER#1"))
}

/// Placeholders (`#nI`, `:vI`) used in the texts.
pub(super) fn placeholders(texts: &[&str]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut values = BTreeSet::new();
    for text in texts {
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let (set, letter) = match b {
                b'#' => (&mut names, b'n'),
                b':' => (&mut values, b'v'),
                _ => continue,
            };
            assert_eq!(bytes.get(i + 1), Some(&letter), "bad placeholder in {text}");
            let digits: String = text[i + 2..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            assert!(!digits.is_empty(), "bad placeholder in {text}");
            set.insert(format!("{}{}{digits}", b as char, letter as char));
        }
    }
    (names, values)
}

/// DynamoDB rejects empty maps and unused entries: the maps must hold exactly what the texts use.
pub(super) fn assert_exact(
    texts: &[&str],
    names: &Option<HashMap<String, String>>,
    values: &Option<Attributes>,
) {
    let (used_names, used_values) = placeholders(texts);
    if let Some(names) = names {
        assert!(!names.is_empty());
    }
    if let Some(values) = values {
        assert!(!values.is_empty());
    }
    let given_names: BTreeSet<String> = names
        .as_ref()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let given_values: BTreeSet<String> = values
        .as_ref()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(used_names, given_names, "names of {texts:?}");
    assert_eq!(used_values, given_values, "values of {texts:?}");
}

/// Replaces placeholders with the names and values they stand for, for readable assertions.
pub(super) fn render(
    text: &str,
    names: &Option<HashMap<String, String>>,
    values: &Option<Attributes>,
) -> String {
    let mut out = text.to_owned();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (placeholder, name) in names.iter().flatten() {
        pairs.push((placeholder.clone(), name.clone()));
    }
    for (placeholder, value) in values.iter().flatten() {
        let shown = match value {
            AttributeValue::S(s) => format!("'{s}'"),
            AttributeValue::N(n) => n.clone(),
            other => format!("{other:?}"),
        };
        pairs.push((placeholder.clone(), shown));
    }
    // Longest placeholders first so `#n1` does not clobber `#n10`.
    pairs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (placeholder, shown) in pairs {
        out = out.replace(&placeholder, &shown);
    }
    out
}
