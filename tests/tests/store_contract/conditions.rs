//! Conditions, each checked on a put, an update and a delete, both ways: what the write returns
//! and what is stored after it.

use shared::store::{Condition, Item, Update, Value};

use super::support::*;

pub(super) async fn writes_without_a_condition_succeed_whether_or_not_the_item_exists(store: S) {
    check_condition(&store, "absent", Before::Absent, Condition::None, true).await;
    check_condition(&store, "live", Before::Live, Condition::None, true).await;
}

pub(super) async fn not_exists_lets_writes_through_on_an_absent_item(store: S) {
    check_condition(&store, "x", Before::Absent, Condition::NotExists, true).await;
}

pub(super) async fn not_exists_blocks_writes_on_a_present_item_and_reports_that_item(store: S) {
    check_condition(&store, "x", Before::Live, Condition::NotExists, false).await;
}

pub(super) async fn exists_blocks_writes_on_an_absent_item(store: S) {
    check_condition(&store, "x", Before::Absent, Condition::Exists, false).await;
}

pub(super) async fn exists_lets_writes_through_on_a_present_item(store: S) {
    check_condition(&store, "x", Before::Live, Condition::Exists, true).await;
}

pub(super) async fn equals_lets_writes_through_when_the_attribute_has_the_value(store: S) {
    let condition = Condition::Equals("state".into(), Value::from("open"));
    check_condition(&store, "s", Before::Live, condition, true).await;
    let condition = Condition::Equals("n".into(), Value::N(3));
    check_condition(&store, "n", Before::Live, condition, true).await;
    let condition = Condition::Equals("on".into(), Value::Bool(true));
    check_condition(&store, "b", Before::Live, condition, true).await;
}

pub(super) async fn equals_blocks_writes_when_the_attribute_has_another_value(store: S) {
    let condition = Condition::Equals("state".into(), Value::from("closed"));
    check_condition(&store, "x", Before::Live, condition, false).await;
}

pub(super) async fn equals_blocks_writes_when_the_value_has_another_type(store: S) {
    let condition = Condition::Equals("n".into(), Value::from("3"));
    check_condition(&store, "x", Before::Live, condition, false).await;
}

pub(super) async fn equals_blocks_writes_when_the_attribute_is_missing(store: S) {
    let condition = Condition::Equals("missing".into(), Value::from("open"));
    check_condition(&store, "x", Before::Live, condition, false).await;
}

pub(super) async fn equals_blocks_writes_when_the_item_is_absent(store: S) {
    let condition = Condition::Equals("state".into(), Value::from("open"));
    check_condition(&store, "x", Before::Absent, condition, false).await;
}

pub(super) async fn all_equal_lets_writes_through_when_every_attribute_has_its_value(store: S) {
    let condition = all_equal(&[
        ("state", Value::from("open")),
        ("n", Value::N(3)),
        ("on", Value::Bool(true)),
    ]);
    check_condition(&store, "x", Before::Live, condition, true).await;
}

pub(super) async fn all_equal_blocks_writes_when_one_attribute_differs_or_is_missing(store: S) {
    let differs = all_equal(&[("state", Value::from("open")), ("n", Value::N(4))]);
    check_condition(&store, "differs", Before::Live, differs, false).await;
    let first_differs = all_equal(&[("state", Value::from("closed")), ("n", Value::N(3))]);
    check_condition(&store, "first", Before::Live, first_differs, false).await;
    let missing = all_equal(&[("state", Value::from("open")), ("missing", Value::N(3))]);
    check_condition(&store, "missing", Before::Live, missing, false).await;
    let boolean = all_equal(&[("n", Value::N(3)), ("on", Value::Bool(false))]);
    check_condition(&store, "boolean", Before::Live, boolean, false).await;
}

pub(super) async fn all_equal_blocks_writes_when_the_item_is_absent(store: S) {
    let condition = all_equal(&[("state", Value::from("open"))]);
    check_condition(&store, "absent", Before::Absent, condition.clone(), false).await;
    check_condition(&store, "expired", Before::Expired, condition, false).await;
}

pub(super) async fn all_equal_with_no_attributes_is_invalid(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).with("a", 1)).await;
    let empty = Condition::AllEqual(Vec::new());
    assert_invalid(
        store.put(Item::new(k.clone()), empty.clone()).await,
        "put guarded by an empty AllEqual",
    );
    assert_invalid(
        store
            .update(&k, Update::default().set("a", 2), empty.clone())
            .await,
        "update guarded by an empty AllEqual",
    );
    assert_invalid(
        store.delete(&k, empty.clone()).await,
        "delete guarded by an empty AllEqual",
    );
    assert_eq!(get(&store, &k).await, Some(Item::new(k).with("a", 1)));
}

pub(super) async fn below_lets_writes_through_on_an_absent_item(store: S) {
    check_condition(
        &store,
        "x",
        Before::Absent,
        Condition::Below("n".into(), 1),
        true,
    )
    .await;
}

pub(super) async fn below_lets_writes_through_when_the_attribute_is_missing(store: S) {
    let condition = Condition::Below("missing".into(), 1);
    check_condition(&store, "x", Before::Live, condition, true).await;
}

pub(super) async fn below_lets_writes_through_when_the_attribute_is_below_the_limit(store: S) {
    check_condition(
        &store,
        "x",
        Before::Live,
        Condition::Below("n".into(), 4),
        true,
    )
    .await;
}

pub(super) async fn below_blocks_writes_when_the_attribute_equals_the_limit(store: S) {
    check_condition(
        &store,
        "x",
        Before::Live,
        Condition::Below("n".into(), 3),
        false,
    )
    .await;
}

pub(super) async fn below_blocks_writes_when_the_attribute_is_above_the_limit(store: S) {
    check_condition(
        &store,
        "x",
        Before::Live,
        Condition::Below("n".into(), -5),
        false,
    )
    .await;
}

pub(super) async fn below_blocks_writes_when_the_attribute_is_not_a_number(store: S) {
    let condition = Condition::Below("state".into(), 1_000);
    check_condition(&store, "x", Before::Live, condition, false).await;
}
