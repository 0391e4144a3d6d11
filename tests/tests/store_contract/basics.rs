//! Reads and plain writes: what a put, get, update and delete return and store.

use shared::store::{Condition, Item, Query, Update};

use super::support::*;

pub(super) async fn get_of_a_missing_key_returns_none(store: S) {
    assert_eq!(get(&store, &key("NOPE", "nothing")).await, None);
}

pub(super) async fn put_then_get_round_trips_every_value_kind_with_expiry_and_index_key(store: S) {
    let item = Item::new(key("USER#1", "PROFILE"))
        .with("name", "Zoë Ünal — 患者 🩺 \"quoted\" \\ \0 nul")
        .with("zero", 0)
        .with("negative", -42)
        .with("large", 9_007_199_254_740_993_i64) // above 2^53: must not pass through a float
        .with("max", i64::MAX)
        .with("min", i64::MIN)
        .with("bytes", (0..=255u8).collect::<Vec<u8>>())
        .with("yes", true)
        .with("no", false)
        .with("list", strings(&["b", "a", "b", ""]))
        .with("empty_list", Vec::<String>::new())
        .expiring_at(future())
        .indexed(key("EMAIL#zoe@example.org", "USER#1"));
    let replaced = store.put(item.clone(), Condition::None).await.unwrap();
    assert_eq!(replaced, None, "nothing was there before");
    assert_eq!(get(&store, &item.key).await, Some(item));
}

pub(super) async fn empty_strings_empty_bytes_and_empty_lists_round_trip(store: S) {
    let item = Item::new(key("USER#1", "EMPTY"))
        .with("text", "")
        .with("bytes", Vec::<u8>::new())
        .with("list", Vec::<String>::new());
    put(&store, item.clone()).await;
    assert_eq!(get(&store, &item.key).await, Some(item));
}

pub(super) async fn items_are_told_apart_by_both_partition_and_sort_key(store: S) {
    let a = Item::new(key("P", "S")).with("which", "a");
    let b = Item::new(key("P", "T")).with("which", "b");
    let c = Item::new(key("Q", "S")).with("which", "c");
    for item in [&a, &b, &c] {
        put(&store, item.clone()).await;
    }
    assert_eq!(get(&store, &a.key).await, Some(a));
    assert_eq!(get(&store, &b.key).await, Some(b));
    assert_eq!(get(&store, &c.key).await, Some(c));
    assert_eq!(get(&store, &key("P", "U")).await, None);
}

pub(super) async fn put_returns_the_live_item_it_replaced_and_replaces_it_whole(store: S) {
    let first = Item::new(key("P", "1"))
        .with("version", 1)
        .with("only_in_first", "x")
        .expiring_at(future())
        .indexed(key("G", "1"));
    let second = Item::new(key("P", "1")).with("version", 2);
    assert_eq!(
        store.put(first.clone(), Condition::None).await.unwrap(),
        None
    );
    assert_eq!(
        store.put(second.clone(), Condition::None).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        get(&store, &second.key).await,
        Some(second),
        "no attribute, expiry or index key of the first item survives"
    );
    assert!(
        query_page(&store, Query::partition("G", 10).on_index())
            .await
            .is_empty(),
        "the replaced item's index entry is gone"
    );
}

pub(super) async fn delete_returns_the_removed_item_and_deleting_an_absent_key_returns_none(
    store: S,
) {
    let item = Item::new(key("P", "1")).with("a", 1);
    put(&store, item.clone()).await;
    assert_eq!(
        store.delete(&item.key, Condition::None).await.unwrap(),
        Some(item.clone())
    );
    assert_eq!(get(&store, &item.key).await, None);
    assert_eq!(
        store.delete(&item.key, Condition::None).await.unwrap(),
        None
    );
}

pub(super) async fn update_returns_the_item_as_stored_after_the_update(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).with("a", 1).with("keep", "k")).await;
    let returned = store
        .update(
            &k,
            Update::default().set("b", "two").add("a", 10),
            Condition::None,
        )
        .await
        .unwrap();
    let expected = Item::new(k.clone())
        .with("a", 11)
        .with("b", "two")
        .with("keep", "k");
    assert_eq!(returned, expected);
    assert_eq!(get(&store, &k).await, Some(expected));
}
