//! Expiry: an expired item is absent for reads, conditions, updates and deletes, whether or not
//! the database has removed it yet.

use shared::store::{now_unix, Condition, Item, Query, Update, Value};

use super::support::*;

pub(super) async fn expired_items_are_never_returned_by_get_or_query(store: S) {
    let expired = Item::new(key("P", "a"))
        .with("x", 1)
        .expiring_at(past())
        .indexed(key("G", "a"));
    let live = Item::new(key("P", "b")).with("x", 2).indexed(key("G", "b"));
    put(&store, expired.clone()).await;
    put(&store, live.clone()).await;
    assert_eq!(get(&store, &expired.key).await, None);
    assert_eq!(
        query_page(&store, Query::partition("P", 10)).await,
        vec![live.clone()]
    );
    assert_eq!(
        query_page(&store, Query::partition("G", 10).on_index()).await,
        vec![live]
    );
}

pub(super) async fn an_item_expiring_this_very_second_is_already_gone(store: S) {
    // `Item::is_expired` is `expires_at <= now`: the boundary second belongs to the past.
    let item = Item::new(key("P", "now")).expiring_at(now_unix());
    put(&store, item.clone()).await;
    assert_eq!(get(&store, &item.key).await, None);
    assert!(query_page(&store, Query::partition("P", 10))
        .await
        .is_empty());
}

pub(super) async fn items_expiring_in_the_future_are_visible(store: S) {
    let item = Item::new(key("P", "soon"))
        .with("x", 1)
        .expiring_at(now_unix() + 60)
        .indexed(key("G", "soon"));
    put(&store, item.clone()).await;
    assert_eq!(get(&store, &item.key).await, Some(item.clone()));
    assert_eq!(
        query_page(&store, Query::partition("P", 10)).await,
        vec![item.clone()]
    );
    assert_eq!(
        query_page(&store, Query::partition("G", 10).on_index()).await,
        vec![item]
    );
}

pub(super) async fn put_with_not_exists_replaces_an_expired_item(store: S) {
    let k = key("SESSION", "1");
    put(
        &store,
        Item::new(k.clone()).with("old", true).expiring_at(past()),
    )
    .await;
    let fresh = Item::new(k.clone()).with("new", true);
    let replaced = store
        .put(fresh.clone(), Condition::NotExists)
        .await
        .unwrap();
    assert_eq!(
        replaced, None,
        "an expired item is not returned as replaced"
    );
    assert_eq!(get(&store, &k).await, Some(fresh));
}

pub(super) async fn update_of_an_expired_item_starts_from_an_empty_item(store: S) {
    let k = key("COUNTER", "1");
    put(
        &store,
        Item::new(k.clone())
            .with("n", 7)
            .with("stale", "x")
            .expiring_at(past())
            .indexed(key("G", "stale")),
    )
    .await;
    let updated = store
        .update(
            &k,
            Update::default().add("n", 1).set("fresh", true),
            Condition::None,
        )
        .await
        .unwrap();
    let expected = Item::new(k.clone()).with("n", 1).with("fresh", true);
    assert_eq!(
        updated, expected,
        "no attribute, expiry or index key of the expired item survives"
    );
    assert_eq!(get(&store, &k).await, Some(expected));
    assert!(
        query_page(&store, Query::partition("G", 10).on_index())
            .await
            .is_empty(),
        "the expired item's index key is gone"
    );
}

pub(super) async fn conditions_treat_an_expired_item_as_absent(store: S) {
    check_condition(&store, "ne", Before::Expired, Condition::NotExists, true).await;
    check_condition(&store, "ex", Before::Expired, Condition::Exists, false).await;
    let equals = Condition::Equals("state".into(), Value::from("open"));
    check_condition(&store, "eq", Before::Expired, equals, false).await;
    let below = Condition::Below("n".into(), 1);
    check_condition(&store, "bl", Before::Expired, below, true).await;
}

pub(super) async fn deleting_an_expired_item_returns_none(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).expiring_at(past())).await;
    assert_eq!(store.delete(&k, Condition::None).await.unwrap(), None);
    assert_eq!(get(&store, &k).await, None);
}
