//! Items as DynamoDB attributes and back: domain attributes at the top level of the item, next to
//! the key, expiry and index attributes.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use super::names::{Attributes, GSI1_PK, GSI1_SK, PK, SK, TTL};
use crate::store::{Item, Key, StoreError, Value};

pub(super) fn value_to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::L(list) => {
            AttributeValue::L(list.iter().map(|s| AttributeValue::S(s.clone())).collect())
        }
    }
}

/// The domain value of a stored attribute; `owner` and `name` only serve the error message, which
/// never shows the stored contents.
pub(super) fn value_from_attribute(
    owner: &Key,
    name: &str,
    value: AttributeValue,
) -> Result<Value, StoreError> {
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("item {owner}: attribute `{name}` {what}"));
    match value {
        AttributeValue::S(s) => Ok(Value::S(s)),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::N)
            .map_err(|_| corrupt("is not a 64-bit integer")),
        AttributeValue::B(b) => Ok(Value::B(b.into_inner())),
        AttributeValue::Bool(b) => Ok(Value::Bool(b)),
        AttributeValue::L(list) => list
            .into_iter()
            .map(|element| match element {
                AttributeValue::S(s) => Ok(s),
                _ => Err(corrupt("is a list with a non-string element")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::L),
        _ => Err(corrupt("has a type the store does not use")),
    }
}

pub(super) fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

pub(super) fn item_to_attributes(item: &Item) -> Attributes {
    let mut attributes = key_attributes(&item.key);
    if let Some(expires_at) = item.expires_at {
        attributes.insert(TTL.to_owned(), AttributeValue::N(expires_at.to_string()));
    }
    if let Some(index) = &item.gsi1 {
        attributes.insert(GSI1_PK.to_owned(), AttributeValue::S(index.pk.clone()));
        attributes.insert(GSI1_SK.to_owned(), AttributeValue::S(index.sk.clone()));
    }
    for (name, value) in &item.attrs {
        attributes.insert(name.clone(), value_to_attribute(value));
    }
    attributes
}

pub(super) fn take_string(attributes: &mut Attributes, name: &str) -> Result<Option<String>, ()> {
    match attributes.remove(name) {
        None => Ok(None),
        Some(AttributeValue::S(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

pub(super) fn item_from_attributes(mut attributes: Attributes) -> Result<Item, StoreError> {
    let pk = take_string(&mut attributes, PK);
    let sk = take_string(&mut attributes, SK);
    let key = match (pk, sk) {
        (Ok(Some(pk)), Ok(Some(sk))) => Key::new(pk, sk),
        _ => {
            return Err(StoreError::Corrupt(
                "stored item without string `pk` and `sk`".into(),
            ))
        }
    };
    let expires_at = match attributes.remove(TTL) {
        None => None,
        Some(AttributeValue::N(n)) => Some(n.parse::<i64>().map_err(|_| {
            StoreError::Corrupt(format!("item {key}: `{TTL}` is not a 64-bit integer"))
        })?),
        Some(_) => {
            return Err(StoreError::Corrupt(format!(
                "item {key}: `{TTL}` is not a number"
            )))
        }
    };
    let index_pk = take_string(&mut attributes, GSI1_PK);
    let index_sk = take_string(&mut attributes, GSI1_SK);
    let gsi1 = match (index_pk, index_sk) {
        (Ok(None), Ok(None)) => None,
        (Ok(Some(pk)), Ok(Some(sk))) => Some(Key::new(pk, sk)),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "item {key}: `{GSI1_PK}`/`{GSI1_SK}` must both be strings or both be absent"
            )))
        }
    };
    let mut item = Item {
        key,
        attrs: Default::default(),
        expires_at,
        gsi1,
    };
    for (name, value) in attributes {
        let value = value_from_attribute(&item.key, &name, value)?;
        item.attrs.insert(name, value);
    }
    Ok(item)
}

/// The item in a response, if there is one and it has not expired at `now`.
pub(super) fn live_item(
    attributes: Option<Attributes>,
    now: i64,
) -> Result<Option<Item>, StoreError> {
    match attributes {
        Some(attributes) if !attributes.is_empty() => {
            let item = item_from_attributes(attributes)?;
            Ok((!item.is_expired(now)).then_some(item))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{sample, NOW};
    use super::*;

    #[test]
    fn item_round_trips_through_attributes() {
        let item = sample();
        let attributes = item_to_attributes(&item);
        assert_eq!(attributes["pk"], AttributeValue::S("USER#1".into()));
        assert_eq!(attributes["sk"], AttributeValue::S("PROFILE".into()));
        assert_eq!(attributes["ttl"], AttributeValue::N((NOW + 60).to_string()));
        assert_eq!(
            attributes["gsi1pk"],
            AttributeValue::S("EMAIL#ada@example.com".into())
        );
        assert_eq!(attributes["gsi1sk"], AttributeValue::S("USER#1".into()));
        assert_eq!(attributes["count"], AttributeValue::N("42".into()));
        assert_eq!(attributes["flag"], AttributeValue::Bool(true));
        assert_eq!(
            attributes["blob"],
            AttributeValue::B(Blob::new(vec![0, 1, 255]))
        );
        assert_eq!(
            attributes["tags"],
            AttributeValue::L(vec![
                AttributeValue::S("a".into()),
                AttributeValue::S("b".into())
            ])
        );
        assert_eq!(attributes["empty"], AttributeValue::L(vec![]));
        assert_eq!(attributes.len(), 5 + item.attrs.len());
        assert_eq!(item_from_attributes(attributes).unwrap(), item);

        let bare = Item::new(Key::new("a", "b"));
        let attributes = item_to_attributes(&bare);
        assert_eq!(attributes.len(), 2);
        assert_eq!(item_from_attributes(attributes).unwrap(), bare);
    }

    #[test]
    fn ill_typed_stored_items_are_corrupt_without_leaking_contents() {
        let good = item_to_attributes(&sample());
        // (what, attribute, new value or `None` to remove it)
        let n = |text: &str| AttributeValue::N(text.into());
        let cases: Vec<(&str, &str, Option<AttributeValue>)> = vec![
            ("missing sk", "sk", None),
            ("numeric pk", "pk", Some(n("1"))),
            (
                "string ttl",
                "ttl",
                Some(AttributeValue::S("SECRET".into())),
            ),
            ("fractional ttl", "ttl", Some(n("1.5"))),
            ("half index key", "gsi1sk", None),
            ("numeric index key", "gsi1pk", Some(n("3"))),
            ("fractional number", "count", Some(n("2.5"))),
            ("huge number", "count", Some(n("99999999999999999999"))),
            (
                "list of numbers",
                "tags",
                Some(AttributeValue::L(vec![n("1")])),
            ),
            ("map", "m", Some(AttributeValue::M(HashMap::new()))),
            ("null", "n", Some(AttributeValue::Null(true))),
            (
                "string set",
                "ss",
                Some(AttributeValue::Ss(vec!["SECRET".into()])),
            ),
        ];
        for (what, name, value) in cases {
            let mut attributes = good.clone();
            match value {
                Some(value) => attributes.insert(name.to_owned(), value),
                None => attributes.remove(name),
            };
            match item_from_attributes(attributes) {
                Err(StoreError::Corrupt(message)) => {
                    assert!(!message.contains("SECRET"), "{what}: {message}");
                    assert!(!message.contains("Ada"), "{what}: {message}");
                }
                other => panic!("{what}: expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn live_item_drops_expired_and_empty() {
        let attributes = item_to_attributes(&sample());
        assert!(live_item(Some(attributes.clone()), NOW).unwrap().is_some());
        assert!(live_item(Some(attributes.clone()), NOW + 59)
            .unwrap()
            .is_some());
        assert!(live_item(Some(attributes.clone()), NOW + 60)
            .unwrap()
            .is_none());
        assert!(live_item(Some(HashMap::new()), NOW).unwrap().is_none());
        assert!(live_item(None, NOW).unwrap().is_none());
    }
}
