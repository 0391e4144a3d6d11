//! Helpers of the contract tests: set-up writes and reads that fail loudly, assertions on store
//! errors, paging to the end, and the put/update/delete check of one condition.

use std::fmt::Debug;
use std::sync::Arc;

use shared::store::{now_unix, Condition, Item, Key, Query, Store, StoreError, Update, Value};

/// The store under test, whichever adapter it is.
pub(super) type S = Arc<dyn Store>;

pub(super) fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

/// An hour ago: safely expired even if the clock ticks during the test.
pub(super) fn past() -> i64 {
    now_unix() - 3600
}

/// An hour ahead: safely alive for the whole test.
pub(super) fn future() -> i64 {
    now_unix() + 3600
}

pub(super) fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.key.sk.clone()).collect()
}

pub(super) fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

pub(super) async fn put(store: &S, item: Item) {
    store
        .put(item.clone(), Condition::None)
        .await
        .unwrap_or_else(|e| panic!("setup put of {} failed: {e}", item.key));
}

pub(super) async fn get(store: &S, key: &Key) -> Option<Item> {
    store
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("get of {key} failed: {e}"))
}

#[track_caller]
pub(super) fn assert_condition_failed<T: Debug>(
    result: Result<T, StoreError>,
    current: Option<&Item>,
    context: &str,
) {
    match result {
        Err(StoreError::ConditionFailed { current: reported }) => assert_eq!(
            reported.as_deref(),
            current,
            "{context}: ConditionFailed must carry the live item at the key"
        ),
        other => panic!("{context}: expected ConditionFailed, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn assert_invalid<T: Debug>(result: Result<T, StoreError>, context: &str) {
    match result {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{context}: expected Invalid, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn assert_transaction_failed(
    result: Result<(), StoreError>,
    index: usize,
    current: Option<&Item>,
    context: &str,
) {
    match result {
        Err(StoreError::TransactionFailed {
            index: reported,
            current: reported_current,
        }) => {
            assert_eq!(reported, index, "{context}: wrong failing write reported");
            assert_eq!(
                reported_current.as_deref(),
                current,
                "{context}: TransactionFailed must carry the live item at the failing write's key"
            );
        }
        other => panic!("{context}: expected TransactionFailed at {index}, got {other:?}"),
    }
}

/// Runs `query` page by page to the end and returns every item, checking each page's size.
pub(super) async fn query_all(store: &S, query: Query) -> Vec<Item> {
    let limit = query.limit as usize;
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = store
            .query(query.clone().after(cursor))
            .await
            .unwrap_or_else(|e| panic!("query {query:?} failed: {e}"));
        assert!(
            page.items.len() <= limit,
            "a page of {} items exceeds the limit of {limit}",
            page.items.len()
        );
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
    panic!("query {query:?} did not end within 100 pages (is the cursor advancing?)");
}

/// One page of `query`.
pub(super) async fn query_page(store: &S, query: Query) -> Vec<Item> {
    store
        .query(query.clone())
        .await
        .unwrap_or_else(|e| panic!("query {query:?} failed: {e}"))
        .items
}

/// What is at a key before a conditional write.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Before {
    Absent,
    /// `{state: "open", n: 3, on: true}`.
    Live,
    /// `{state: "open", n: 3, on: true}` that expired an hour ago.
    Expired,
}

/// Runs a put, an update and a delete (each on its own key) guarded by `condition` over an item in
/// state `before`, and checks the outcome both ways: the returned value and what is stored after.
pub(super) async fn check_condition(
    store: &S,
    label: &str,
    before: Before,
    condition: Condition,
    holds: bool,
) {
    let update = Update::default().set("written", "update").add("hits", 1);
    for op in ["put", "update", "delete"] {
        let key = key(&format!("COND#{label}"), op);
        let stored = Item::new(key.clone())
            .with("state", "open")
            .with("n", 3)
            .with("on", true);
        let live = match before {
            Before::Absent => None,
            Before::Live => {
                put(store, stored.clone()).await;
                Some(stored)
            }
            Before::Expired => {
                put(store, stored.expiring_at(past())).await;
                None
            }
        };
        let context = format!("{op} guarded by {condition:?} over {before:?} item");
        match op {
            "put" => {
                let new = Item::new(key.clone()).with("written", "put");
                let result = store.put(new.clone(), condition.clone()).await;
                if holds {
                    let old =
                        result.unwrap_or_else(|e| panic!("{context}: expected Ok, got {e:?}"));
                    assert_eq!(
                        old, live,
                        "{context}: put returns the live item it replaced"
                    );
                    assert_eq!(get(store, &key).await, Some(new), "{context}: stored");
                } else {
                    assert_condition_failed(result, live.as_ref(), &context);
                    assert_eq!(get(store, &key).await, live, "{context}: unchanged");
                }
            }
            "update" => {
                let result = store.update(&key, update.clone(), condition.clone()).await;
                if holds {
                    let expected = update.apply(&key, live.clone()).unwrap();
                    let new =
                        result.unwrap_or_else(|e| panic!("{context}: expected Ok, got {e:?}"));
                    assert_eq!(new, expected, "{context}: update returns the new item");
                    assert_eq!(get(store, &key).await, Some(expected), "{context}: stored");
                } else {
                    assert_condition_failed(result, live.as_ref(), &context);
                    assert_eq!(get(store, &key).await, live, "{context}: unchanged");
                }
            }
            _ => {
                let result = store.delete(&key, condition.clone()).await;
                if holds {
                    let old =
                        result.unwrap_or_else(|e| panic!("{context}: expected Ok, got {e:?}"));
                    assert_eq!(
                        old, live,
                        "{context}: delete returns the live item it removed"
                    );
                    assert_eq!(get(store, &key).await, None, "{context}: gone");
                } else {
                    assert_condition_failed(result, live.as_ref(), &context);
                    assert_eq!(get(store, &key).await, live, "{context}: unchanged");
                }
            }
        }
    }
}

pub(super) fn all_equal(pairs: &[(&str, Value)]) -> Condition {
    Condition::AllEqual(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
    )
}
