//! Query requests: the key condition, the expiry filter, and cursors as start keys and back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::expr::Expr;
use super::item::{key_attributes, take_string};
use super::names::{Attributes, GSI1_PK, GSI1_SK, PK, SK};
use crate::store::{validate, Cursor, Index, Key, Query, SortKeyRange, StoreError};

/// A Query request's expressions and start key.
#[derive(Debug)]
pub(super) struct QueryRequest {
    pub(super) key_condition: String,
    pub(super) filter: String,
    pub(super) names: Option<HashMap<String, String>>,
    pub(super) values: Option<Attributes>,
    pub(super) start: Option<Attributes>,
}

impl QueryRequest {
    pub(super) fn new(query: &Query, now: i64) -> Result<Self, StoreError> {
        let (pk_attribute, sk_attribute) = match query.index {
            Index::Primary => (PK, SK),
            Index::Gsi1 => (GSI1_PK, GSI1_SK),
        };
        let mut expr = Expr::new(now);
        let pk = expr.name(pk_attribute);
        let partition = expr.value(AttributeValue::S(query.pk.clone()));
        let mut key_condition = format!("{pk} = {partition}");
        match &query.range {
            SortKeyRange::All => {}
            SortKeyRange::Prefix(prefix) => {
                let sk = expr.name(sk_attribute);
                let prefix = expr.value(AttributeValue::S(prefix.clone()));
                key_condition.push_str(&format!(" AND begins_with({sk}, {prefix})"));
            }
            SortKeyRange::Between(low, high) => {
                let sk = expr.name(sk_attribute);
                let low = expr.value(AttributeValue::S(low.clone()));
                let high = expr.value(AttributeValue::S(high.clone()));
                key_condition.push_str(&format!(" AND {sk} BETWEEN {low} AND {high}"));
            }
        }
        let filter = expr.unexpired();
        let start = query
            .cursor
            .as_ref()
            .map(|cursor| cursor_to_key(cursor, query))
            .transpose()?;
        let (names, values) = expr.finish();
        Ok(Self {
            key_condition,
            filter,
            names,
            values,
            start,
        })
    }
}

/// `ExclusiveStartKey` for a cursor; the cursor must belong to the query's partition.
pub(super) fn cursor_to_key(cursor: &Cursor, query: &Query) -> Result<Attributes, StoreError> {
    validate::key(&cursor.key).map_err(|_| malformed_cursor())?;
    let mut key = key_attributes(&cursor.key);
    match query.index {
        Index::Primary => {
            if cursor.key.pk != query.pk {
                return Err(foreign_cursor());
            }
        }
        Index::Gsi1 => {
            let index = cursor.gsi1.as_ref().ok_or_else(malformed_cursor)?;
            validate::key(index).map_err(|_| malformed_cursor())?;
            if index.pk != query.pk {
                return Err(foreign_cursor());
            }
            key.insert(GSI1_PK.to_owned(), AttributeValue::S(index.pk.clone()));
            key.insert(GSI1_SK.to_owned(), AttributeValue::S(index.sk.clone()));
        }
    }
    Ok(key)
}

pub(super) fn cursor_from_key(mut key: Attributes, index: Index) -> Result<Cursor, StoreError> {
    let bad = || StoreError::Corrupt("query returned a malformed LastEvaluatedKey".into());
    let pk = take_string(&mut key, PK)
        .map_err(|_| bad())?
        .ok_or_else(bad)?;
    let sk = take_string(&mut key, SK)
        .map_err(|_| bad())?
        .ok_or_else(bad)?;
    let gsi1 = match index {
        Index::Primary => None,
        Index::Gsi1 => {
            let pk = take_string(&mut key, GSI1_PK)
                .map_err(|_| bad())?
                .ok_or_else(bad)?;
            let sk = take_string(&mut key, GSI1_SK)
                .map_err(|_| bad())?
                .ok_or_else(bad)?;
            Some(Key::new(pk, sk))
        }
    };
    Ok(Cursor {
        key: Key::new(pk, sk),
        gsi1,
    })
}

pub(super) fn malformed_cursor() -> StoreError {
    StoreError::Invalid("malformed cursor".into())
}

pub(super) fn foreign_cursor() -> StoreError {
    StoreError::Invalid("cursor does not belong to this query".into())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_exact, render, NOW};
    use super::*;

    #[test]
    fn query_expressions_for_table_and_index() {
        let request = QueryRequest::new(&Query::partition("P", 10), NOW).unwrap();
        assert_exact(
            &[&request.key_condition, &request.filter],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.key_condition, &request.names, &request.values),
            "pk = 'P'"
        );
        assert_eq!(
            render(&request.filter, &request.names, &request.values),
            format!("(attribute_not_exists(ttl) OR ttl > {NOW})")
        );
        assert!(request.start.is_none());

        let request = QueryRequest::new(&Query::partition("P", 10).prefix("A#"), NOW).unwrap();
        assert_exact(
            &[&request.key_condition, &request.filter],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.key_condition, &request.names, &request.values),
            "pk = 'P' AND begins_with(sk, 'A#')"
        );

        let request =
            QueryRequest::new(&Query::partition("G", 10).between("a", "b").on_index(), NOW)
                .unwrap();
        assert_exact(
            &[&request.key_condition, &request.filter],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.key_condition, &request.names, &request.values),
            "gsi1pk = 'G' AND gsi1sk BETWEEN 'a' AND 'b'"
        );
    }

    #[test]
    fn cursors_map_to_start_keys_and_back() {
        let cursor = Cursor {
            key: Key::new("P", "S"),
            gsi1: None,
        };
        let query = Query::partition("P", 5).after(Some(cursor.clone()));
        let start = QueryRequest::new(&query, NOW).unwrap().start.unwrap();
        assert_eq!(start, key_attributes(&cursor.key));
        assert_eq!(cursor_from_key(start, Index::Primary).unwrap(), cursor);

        let cursor = Cursor {
            key: Key::new("P", "S"),
            gsi1: Some(Key::new("G", "H")),
        };
        let query = Query::partition("G", 5)
            .on_index()
            .after(Some(cursor.clone()));
        let start = QueryRequest::new(&query, NOW).unwrap().start.unwrap();
        assert_eq!(start.len(), 4);
        assert_eq!(cursor_from_key(start, Index::Gsi1).unwrap(), cursor);
    }

    #[test]
    fn foreign_or_malformed_cursors_are_invalid() {
        let table_cursor = Cursor {
            key: Key::new("P", "S"),
            gsi1: None,
        };
        let cases = [
            Query::partition("OTHER", 5).after(Some(table_cursor.clone())),
            // An index query needs the index key of the cursor.
            Query::partition("P", 5)
                .on_index()
                .after(Some(table_cursor)),
            Query::partition("X", 5).on_index().after(Some(Cursor {
                key: Key::new("P", "S"),
                gsi1: Some(Key::new("G", "H")),
            })),
            Query::partition("P", 5).after(Some(Cursor {
                key: Key::new("P", ""),
                gsi1: None,
            })),
        ];
        for query in cases {
            assert!(
                matches!(QueryRequest::new(&query, NOW), Err(StoreError::Invalid(_))),
                "{query:?}"
            );
        }
        let mut half = key_attributes(&Key::new("P", "S"));
        half.insert(GSI1_PK.into(), AttributeValue::S("G".into()));
        assert!(matches!(
            cursor_from_key(half, Index::Gsi1),
            Err(StoreError::Corrupt(_))
        ));
    }
}
