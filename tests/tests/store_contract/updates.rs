//! Updates: set, remove and add, the expiry and the index key.

use shared::store::{Condition, Item, Query, Update, Value};

use super::support::*;

pub(super) async fn update_sets_removes_and_adds_while_leaving_other_attributes_alone(store: S) {
    let k = key("P", "1");
    let original = Item::new(k.clone())
        .with("keep", "same")
        .with("replace", "old")
        .with("drop", true)
        .with("count", 10)
        .expiring_at(future())
        .indexed(key("G", "1"));
    put(&store, original.clone()).await;
    let update = Update::default()
        .set("replace", "new")
        .set("added", strings(&["x"]))
        .remove("drop")
        .remove("never_there")
        .add("count", -3);
    let updated = store.update(&k, update, Condition::None).await.unwrap();
    let expected = Item::new(k.clone())
        .with("keep", "same")
        .with("replace", "new")
        .with("added", strings(&["x"]))
        .with("count", 7)
        .expiring_at(original.expires_at.unwrap())
        .indexed(key("G", "1"));
    assert_eq!(updated, expected);
    assert_eq!(get(&store, &k).await, Some(expected));
}

pub(super) async fn update_adds_to_a_missing_number_starting_from_zero(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).with("other", 1)).await;
    let updated = store
        .update(
            &k,
            Update::default().add("up", 5).add("down", -2),
            Condition::None,
        )
        .await
        .unwrap();
    assert_eq!(updated.get("up"), Some(&Value::N(5)));
    assert_eq!(updated.get("down"), Some(&Value::N(-2)));
    assert_eq!(updated.get("other"), Some(&Value::N(1)));
}

pub(super) async fn update_creates_the_item_when_it_is_absent(store: S) {
    let k = key("P", "new");
    let update = Update::default()
        .set("name", "created")
        .add("count", 1)
        .remove("nothing");
    let created = store.update(&k, update, Condition::None).await.unwrap();
    let expected = Item::new(k.clone())
        .with("name", "created")
        .with("count", 1);
    assert_eq!(created, expected);
    assert_eq!(get(&store, &k).await, Some(expected));
}

pub(super) async fn update_guarded_by_exists_does_not_create_an_absent_item(store: S) {
    let k = key("P", "new");
    let result = store
        .update(&k, Update::default().set("name", "x"), Condition::Exists)
        .await;
    assert_condition_failed(result, None, "update guarded by Exists of an absent item");
    assert_eq!(get(&store, &k).await, None);
}

pub(super) async fn update_sets_keeps_and_clears_the_expiry(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).with("a", 1)).await;
    let at = future();

    let set = store
        .update(&k, Update::default().expire_at(at), Condition::None)
        .await
        .unwrap();
    assert_eq!(set.expires_at, Some(at));
    assert_eq!(get(&store, &k).await.unwrap().expires_at, Some(at));

    let kept = store
        .update(&k, Update::default().set("b", 2), Condition::None)
        .await
        .unwrap();
    assert_eq!(
        kept.expires_at,
        Some(at),
        "an update without expiry keeps it"
    );

    let cleared = Update {
        expires_at: Some(None),
        ..Update::default()
    };
    let cleared = store.update(&k, cleared, Condition::None).await.unwrap();
    assert_eq!(cleared.expires_at, None);
    let stored = get(&store, &k).await.unwrap();
    assert_eq!(stored.expires_at, None);
    assert_eq!(stored, Item::new(k).with("a", 1).with("b", 2));
}

pub(super) async fn update_sets_the_index_key_and_keeps_it_when_not_given(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).with("a", 1)).await;
    let indexed = store
        .update(&k, Update::default().index(key("G", "x")), Condition::None)
        .await
        .unwrap();
    assert_eq!(indexed.gsi1, Some(key("G", "x")));
    let kept = store
        .update(&k, Update::default().set("b", 2), Condition::None)
        .await
        .unwrap();
    assert_eq!(
        kept.gsi1,
        Some(key("G", "x")),
        "an update without index key keeps it"
    );
    let found = query_page(&store, Query::partition("G", 10).on_index()).await;
    assert_eq!(found, vec![kept]);
}

pub(super) async fn adding_to_a_non_numeric_attribute_is_invalid_and_changes_nothing(store: S) {
    let k = key("P", "1");
    let item = Item::new(k.clone()).with("name", "text").with("n", 1);
    put(&store, item.clone()).await;
    let result = store
        .update(
            &k,
            Update::default().add("name", 1).add("n", 1),
            Condition::None,
        )
        .await;
    assert_invalid(result, "adding to a string");
    assert_eq!(get(&store, &k).await, Some(item));
}
