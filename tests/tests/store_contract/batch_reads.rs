//! Batched reads (`get_many`): one round trip for several keys, answered in the keys' order with
//! the same rules as `get` (missing and expired items are `None`, the latest write is seen), a key
//! asked twice answered twice, and DynamoDB's limit of 100 keys enforced everywhere.

use shared::store::{
    now_unix, Condition, Item, Key, StoreError, Update, Value, MAX_BATCH_GET_KEYS,
};

use super::support::*;

async fn get_many(store: &S, keys: &[Key]) -> Vec<Option<Item>> {
    store
        .get_many(keys)
        .await
        .unwrap_or_else(|e| panic!("get_many of {} keys failed: {e}", keys.len()))
}

pub(super) async fn answers_come_in_the_keys_order_with_none_for_missing_keys(store: S) {
    let a = Item::new(key("P#1", "a"))
        .with("name", "Ada")
        .with("n", 7)
        .with("tags", strings(&["x", "y"]))
        .expiring_at(future())
        .indexed(key("G", "a"));
    let b = Item::new(key("Q#2", "b")).with("flag", true);
    put(&store, a.clone()).await;
    put(&store, b.clone()).await;
    let missing = key("P#1", "missing");
    assert_eq!(
        get_many(&store, &[b.key.clone(), missing.clone(), a.key.clone()]).await,
        [Some(b.clone()), None, Some(a.clone())]
    );
    assert_eq!(
        get_many(&store, &[a.key.clone(), b.key.clone()]).await,
        [Some(a), Some(b)]
    );
    assert_eq!(get_many(&store, &[missing]).await, [None]);
}

pub(super) async fn expired_items_are_none_like_for_get(store: S) {
    let expired = Item::new(key("P", "old")).expiring_at(past());
    let this_second = Item::new(key("P", "now")).expiring_at(now_unix());
    let live = Item::new(key("P", "live")).expiring_at(future());
    for item in [&expired, &this_second, &live] {
        put(&store, item.clone()).await;
    }
    let keys = [
        expired.key.clone(),
        live.key.clone(),
        this_second.key.clone(),
    ];
    assert_eq!(get_many(&store, &keys).await, [None, Some(live), None]);
}

pub(super) async fn a_key_asked_twice_is_answered_twice(store: S) {
    let item = Item::new(key("P", "twice")).with("x", 1);
    put(&store, item.clone()).await;
    let missing = key("P", "absent");
    let keys = [item.key.clone(), missing.clone(), item.key.clone(), missing];
    assert_eq!(
        get_many(&store, &keys).await,
        [Some(item.clone()), None, Some(item), None]
    );
}

pub(super) async fn no_keys_answer_nothing(store: S) {
    assert!(get_many(&store, &[]).await.is_empty());
}

pub(super) async fn a_batched_read_sees_the_latest_write(store: S) {
    let k = key("P", "fresh");
    let other = key("P", "other");
    put(&store, Item::new(k.clone()).with("v", 1)).await;
    store
        .update(&k, Update::default().set("v", 2), Condition::None)
        .await
        .unwrap();
    put(&store, Item::new(other.clone())).await;
    store.delete(&other, Condition::None).await.unwrap();
    let read = get_many(&store, &[k.clone(), other]).await;
    assert_eq!(
        read[0].as_ref().and_then(|i| i.get("v")),
        Some(&Value::N(2))
    );
    assert_eq!(read[1], None, "deleted just before");
}

pub(super) async fn more_than_100_keys_or_a_bad_key_are_invalid_and_100_are_read(store: S) {
    let keys: Vec<Key> = (0..=MAX_BATCH_GET_KEYS)
        .map(|n| key("MANY", &format!("{n:03}")))
        .collect();
    put(&store, Item::new(keys[99].clone())).await;
    let too_many = store.get_many(&keys).await;
    assert!(
        matches!(too_many, Err(StoreError::Invalid(ref m)) if m.contains("100")),
        "{too_many:?}"
    );
    let read = get_many(&store, &keys[..MAX_BATCH_GET_KEYS]).await;
    assert_eq!(read.len(), MAX_BATCH_GET_KEYS);
    assert_eq!(read.iter().filter(|i| i.is_some()).count(), 1);
    assert!(read[99].is_some());
    assert_invalid(
        store.get_many(&[keys[0].clone(), key("", "s")]).await,
        "a batch with an empty partition key",
    );
}

/// DynamoDB answers at most 16 MB per request and leaves the rest unprocessed; the adapter asks
/// again, so the caller still gets every item.
pub(super) async fn a_batch_larger_than_one_response_is_answered_whole(store: S) {
    let filler = "x".repeat(400_000);
    let keys: Vec<Key> = (0..48).map(|n| key("BIG", &format!("{n:02}"))).collect();
    for k in &keys {
        put(&store, Item::new(k.clone()).with("filler", filler.as_str())).await;
    }
    let read = get_many(&store, &keys).await;
    let found: Vec<&Key> = read.iter().flatten().map(|item| &item.key).collect();
    assert_eq!(found, keys.iter().collect::<Vec<_>>());
}
