//! Validation: requests DynamoDB would reject fail the same way on every adapter, writing nothing.

use shared::store::{Condition, Item, Update, Value, Write, RESERVED_ATTRIBUTES};

use super::support::*;

/// Every write that could store attribute `name`, each expected to be rejected.
async fn assert_name_rejected(store: &S, name: &str) {
    let k = key("P", "1");
    let context = |what: &str| format!("{what} with attribute name {name:?}");
    let item = Item::new(k.clone()).with(name, 1);
    assert_invalid(
        store.put(item.clone(), Condition::None).await,
        &context("put"),
    );
    assert_invalid(
        store
            .update(&k, Update::default().set(name, 1), Condition::None)
            .await,
        &context("update set"),
    );
    assert_invalid(
        store
            .update(&k, Update::default().remove(name), Condition::None)
            .await,
        &context("update remove"),
    );
    assert_invalid(
        store
            .update(&k, Update::default().add(name, 1), Condition::None)
            .await,
        &context("update add"),
    );
    assert_invalid(
        store
            .delete(&k, Condition::Equals(name.to_owned(), Value::N(1)))
            .await,
        &context("delete guarded by Equals"),
    );
    assert_invalid(
        store
            .put(Item::new(k.clone()), Condition::Below(name.to_owned(), 1))
            .await,
        &context("put guarded by Below"),
    );
    assert_invalid(
        store
            .update(
                &k,
                Update::default().set("ok", 1),
                all_equal(&[("ok", Value::N(1)), (name, Value::N(1))]),
            )
            .await,
        &context("update guarded by AllEqual"),
    );
    assert_invalid(
        store
            .transact(vec![Write::Put {
                item,
                condition: Condition::None,
            }])
            .await,
        &context("transactional put"),
    );
    assert_eq!(get(store, &k).await, None, "{}", context("nothing stored"));
}

pub(super) async fn reserved_attribute_names_are_invalid_everywhere(store: S) {
    for name in RESERVED_ATTRIBUTES {
        assert_name_rejected(&store, name).await;
    }
}

pub(super) async fn malformed_attribute_names_are_invalid(store: S) {
    for name in ["", "a-b", "a b", "a.b", "é", "#a", ":a", &"x".repeat(256)] {
        assert_name_rejected(&store, name).await;
    }
}

pub(super) async fn empty_keys_are_invalid(store: S) {
    for k in [key("", "s"), key("p", "")] {
        let context = |what: &str| format!("{what} at {k:?}");
        assert_invalid(store.get(&k).await, &context("get"));
        assert_invalid(
            store
                .put(Item::new(k.clone()).with("a", 1), Condition::None)
                .await,
            &context("put"),
        );
        assert_invalid(
            store
                .update(&k, Update::default().set("a", 1), Condition::None)
                .await,
            &context("update"),
        );
        assert_invalid(store.delete(&k, Condition::None).await, &context("delete"));
        assert_invalid(
            store
                .transact(vec![Write::Check {
                    key: k.clone(),
                    condition: Condition::None,
                }])
                .await,
            &context("transactional check"),
        );
        let indexed_badly = Item::new(key("P", "1")).indexed(k.clone());
        assert_invalid(
            store.put(indexed_badly, Condition::None).await,
            &context("index key"),
        );
    }
    assert_eq!(get(&store, &key("P", "1")).await, None);
}

pub(super) async fn an_item_over_400_kb_is_invalid(store: S) {
    let k = key("P", "big");
    let big = Item::new(k.clone()).with("blob", vec![7u8; 401 * 1024]);
    assert_invalid(
        store.put(big, Condition::None).await,
        "put of a 401 KB item",
    );
    assert_eq!(get(&store, &k).await, None);
    let fits = Item::new(k.clone()).with("blob", vec![7u8; 300 * 1024]);
    put(&store, fits.clone()).await;
    assert_eq!(get(&store, &k).await, Some(fits), "a 300 KB item is fine");
}

pub(super) async fn an_update_growing_an_item_over_400_kb_is_invalid_and_changes_nothing(store: S) {
    let k = key("P", "big");
    let item = Item::new(k.clone()).with("blob", vec![7u8; 300 * 1024]);
    put(&store, item.clone()).await;
    let result = store
        .update(
            &k,
            Update::default().set("more", vec![8u8; 150 * 1024]),
            Condition::None,
        )
        .await;
    assert_invalid(result, "an update to a 450 KB item");
    assert_eq!(get(&store, &k).await, Some(item));
}

pub(super) async fn an_update_touching_one_attribute_twice_is_invalid(store: S) {
    let k = key("P", "1");
    let item = Item::new(k.clone()).with("a", 1);
    put(&store, item.clone()).await;
    for update in [
        Update::default().set("a", 2).remove("a"),
        Update::default().set("a", 2).add("a", 1),
        Update::default().add("a", 1).add("a", 1),
    ] {
        assert_invalid(
            store.update(&k, update.clone(), Condition::None).await,
            &format!("{update:?}"),
        );
    }
    assert_eq!(get(&store, &k).await, Some(item));
}
