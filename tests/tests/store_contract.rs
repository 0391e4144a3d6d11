//! The storage contract: every test is written once against `Arc<dyn Store>` and instantiated for
//! both adapters (`sqlite::…` and `dynamodb::…`), so code that passes locally behaves the same deployed.
//!
//! Each test gets its own store (a temporary SQLite file or a fresh DynamoDB table on moto), so tests
//! run in parallel. Moto handles only ~400 requests per second: tests keep their request counts low.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

use portal_tests::{dynamo_store, sqlite_store};
use shared::store::{
    now_unix, Condition, Cursor, Item, Key, Query, Store, StoreError, Update, Value, Write,
    MAX_QUERY_LIMIT, MAX_TRANSACTION_WRITES, RESERVED_ATTRIBUTES,
};
use tempfile::TempDir;
use tokio::sync::Barrier;

type S = Arc<dyn Store>;

/// A fresh store and whatever must outlive it (the SQLite file's directory).
struct Fixture {
    store: S,
    _dir: Option<TempDir>,
}

async fn sqlite_fixture() -> Fixture {
    let (store, dir) = sqlite_store();
    Fixture {
        store,
        _dir: Some(dir),
    }
}

async fn dynamodb_fixture() -> Fixture {
    Fixture {
        store: dynamo_store().await,
        _dir: None,
    }
}

/// Instantiates every contract test for one adapter, as `$adapter::<test name>`.
macro_rules! contract_tests {
    ($adapter:ident, $fixture:ident) => {
        mod $adapter {
            contract_tests!(@each $fixture;
                get_of_a_missing_key_returns_none,
                put_then_get_round_trips_every_value_kind_with_expiry_and_index_key,
                empty_strings_empty_bytes_and_empty_lists_round_trip,
                items_are_told_apart_by_both_partition_and_sort_key,
                put_returns_the_live_item_it_replaced_and_replaces_it_whole,
                delete_returns_the_removed_item_and_deleting_an_absent_key_returns_none,
                update_returns_the_item_as_stored_after_the_update,
                writes_without_a_condition_succeed_whether_or_not_the_item_exists,
                not_exists_lets_writes_through_on_an_absent_item,
                not_exists_blocks_writes_on_a_present_item_and_reports_that_item,
                exists_blocks_writes_on_an_absent_item,
                exists_lets_writes_through_on_a_present_item,
                equals_lets_writes_through_when_the_attribute_has_the_value,
                equals_blocks_writes_when_the_attribute_has_another_value,
                equals_blocks_writes_when_the_value_has_another_type,
                equals_blocks_writes_when_the_attribute_is_missing,
                equals_blocks_writes_when_the_item_is_absent,
                all_equal_lets_writes_through_when_every_attribute_has_its_value,
                all_equal_blocks_writes_when_one_attribute_differs_or_is_missing,
                all_equal_blocks_writes_when_the_item_is_absent,
                all_equal_with_no_attributes_is_invalid,
                below_lets_writes_through_on_an_absent_item,
                below_lets_writes_through_when_the_attribute_is_missing,
                below_lets_writes_through_when_the_attribute_is_below_the_limit,
                below_blocks_writes_when_the_attribute_equals_the_limit,
                below_blocks_writes_when_the_attribute_is_above_the_limit,
                below_blocks_writes_when_the_attribute_is_not_a_number,
                update_sets_removes_and_adds_while_leaving_other_attributes_alone,
                update_adds_to_a_missing_number_starting_from_zero,
                update_creates_the_item_when_it_is_absent,
                update_guarded_by_exists_does_not_create_an_absent_item,
                update_sets_keeps_and_clears_the_expiry,
                update_sets_the_index_key_and_keeps_it_when_not_given,
                adding_to_a_non_numeric_attribute_is_invalid_and_changes_nothing,
                expired_items_are_never_returned_by_get_or_query,
                an_item_expiring_this_very_second_is_already_gone,
                items_expiring_in_the_future_are_visible,
                put_with_not_exists_replaces_an_expired_item,
                update_of_an_expired_item_starts_from_an_empty_item,
                conditions_treat_an_expired_item_as_absent,
                deleting_an_expired_item_returns_none,
                a_transaction_applies_all_of_its_writes,
                a_transaction_whose_write_k_fails_names_k_and_applies_nothing,
                a_failing_check_blocks_the_whole_transaction,
                transactions_treat_expired_items_as_absent,
                a_transaction_touching_a_key_twice_is_invalid_and_applies_nothing,
                a_transaction_of_more_than_100_writes_is_invalid_and_applies_nothing,
                an_empty_transaction_is_invalid,
                a_transaction_of_100_writes_succeeds,
                query_returns_one_partition_in_sort_key_order,
                prefix_query_matches_exactly_the_sort_keys_with_that_prefix,
                between_query_includes_both_bounds,
                descending_query_returns_the_highest_sort_key_first,
                paging_by_3_over_10_items_visits_every_item_once_in_order,
                paging_over_partly_expired_items_visits_every_live_item_once,
                paging_stays_inside_a_prefix_or_between_range,
                index_query_finds_only_live_indexed_items_in_index_order,
                index_paging_visits_every_item_once_even_when_index_sort_keys_repeat,
                a_cursor_survives_encoding_and_a_malformed_cursor_is_invalid,
                queries_with_a_bad_limit_an_inverted_range_or_no_partition_are_invalid,
                reserved_attribute_names_are_invalid_everywhere,
                malformed_attribute_names_are_invalid,
                empty_keys_are_invalid,
                an_item_over_400_kb_is_invalid,
                an_update_touching_one_attribute_twice_is_invalid,
                twenty_concurrent_not_exists_puts_have_exactly_one_winner_in_each_of_50_rounds,
                twenty_concurrent_claiming_transactions_have_one_winner_and_losers_leave_nothing,
                twenty_concurrent_capped_increments_stop_exactly_at_the_cap,
            );
        }
    };
    (@each $fixture:ident; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                let fixture = super::$fixture().await;
                super::$test(fixture.store.clone()).await;
            }
        )*
    };
}

contract_tests!(sqlite, sqlite_fixture);
contract_tests!(dynamodb, dynamodb_fixture);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

/// An hour ago: safely expired even if the clock ticks during the test.
fn past() -> i64 {
    now_unix() - 3600
}

/// An hour ahead: safely alive for the whole test.
fn future() -> i64 {
    now_unix() + 3600
}

fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.key.sk.clone()).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

async fn put(store: &S, item: Item) {
    store
        .put(item.clone(), Condition::None)
        .await
        .unwrap_or_else(|e| panic!("setup put of {} failed: {e}", item.key));
}

async fn get(store: &S, key: &Key) -> Option<Item> {
    store
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("get of {key} failed: {e}"))
}

#[track_caller]
fn assert_condition_failed<T: Debug>(
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
fn assert_invalid<T: Debug>(result: Result<T, StoreError>, context: &str) {
    match result {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("{context}: expected Invalid, got {other:?}"),
    }
}

#[track_caller]
fn assert_transaction_failed(
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
async fn query_all(store: &S, query: Query) -> Vec<Item> {
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
async fn query_page(store: &S, query: Query) -> Vec<Item> {
    store
        .query(query.clone())
        .await
        .unwrap_or_else(|e| panic!("query {query:?} failed: {e}"))
        .items
}

/// What is at a key before a conditional write.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Before {
    Absent,
    /// `{state: "open", n: 3}`.
    Live,
    /// `{state: "open", n: 3}` that expired an hour ago.
    Expired,
}

/// Runs a put, an update and a delete (each on its own key) guarded by `condition` over an item in
/// state `before`, and checks the outcome both ways: the returned value and what is stored after.
async fn check_condition(
    store: &S,
    label: &str,
    before: Before,
    condition: Condition,
    holds: bool,
) {
    let update = Update::default().set("written", "update").add("hits", 1);
    for op in ["put", "update", "delete"] {
        let key = key(&format!("COND#{label}"), op);
        let stored = Item::new(key.clone()).with("state", "open").with("n", 3);
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

// ---------------------------------------------------------------------------------------------
// Reads and plain writes
// ---------------------------------------------------------------------------------------------

async fn get_of_a_missing_key_returns_none(store: S) {
    assert_eq!(get(&store, &key("NOPE", "nothing")).await, None);
}

async fn put_then_get_round_trips_every_value_kind_with_expiry_and_index_key(store: S) {
    let item = Item::new(key("USER#1", "PROFILE"))
        .with("name", "Zoë Ünal — 患者 🩺")
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

async fn empty_strings_empty_bytes_and_empty_lists_round_trip(store: S) {
    let item = Item::new(key("USER#1", "EMPTY"))
        .with("text", "")
        .with("bytes", Vec::<u8>::new())
        .with("list", Vec::<String>::new());
    put(&store, item.clone()).await;
    assert_eq!(get(&store, &item.key).await, Some(item));
}

async fn items_are_told_apart_by_both_partition_and_sort_key(store: S) {
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

async fn put_returns_the_live_item_it_replaced_and_replaces_it_whole(store: S) {
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

async fn delete_returns_the_removed_item_and_deleting_an_absent_key_returns_none(store: S) {
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

async fn update_returns_the_item_as_stored_after_the_update(store: S) {
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

// ---------------------------------------------------------------------------------------------
// Conditions, each on put, update and delete
// ---------------------------------------------------------------------------------------------

async fn writes_without_a_condition_succeed_whether_or_not_the_item_exists(store: S) {
    check_condition(&store, "absent", Before::Absent, Condition::None, true).await;
    check_condition(&store, "live", Before::Live, Condition::None, true).await;
}

async fn not_exists_lets_writes_through_on_an_absent_item(store: S) {
    check_condition(&store, "x", Before::Absent, Condition::NotExists, true).await;
}

async fn not_exists_blocks_writes_on_a_present_item_and_reports_that_item(store: S) {
    check_condition(&store, "x", Before::Live, Condition::NotExists, false).await;
}

async fn exists_blocks_writes_on_an_absent_item(store: S) {
    check_condition(&store, "x", Before::Absent, Condition::Exists, false).await;
}

async fn exists_lets_writes_through_on_a_present_item(store: S) {
    check_condition(&store, "x", Before::Live, Condition::Exists, true).await;
}

async fn equals_lets_writes_through_when_the_attribute_has_the_value(store: S) {
    let condition = Condition::Equals("state".into(), Value::from("open"));
    check_condition(&store, "s", Before::Live, condition, true).await;
    let condition = Condition::Equals("n".into(), Value::N(3));
    check_condition(&store, "n", Before::Live, condition, true).await;
}

async fn equals_blocks_writes_when_the_attribute_has_another_value(store: S) {
    let condition = Condition::Equals("state".into(), Value::from("closed"));
    check_condition(&store, "x", Before::Live, condition, false).await;
}

async fn equals_blocks_writes_when_the_value_has_another_type(store: S) {
    let condition = Condition::Equals("n".into(), Value::from("3"));
    check_condition(&store, "x", Before::Live, condition, false).await;
}

async fn equals_blocks_writes_when_the_attribute_is_missing(store: S) {
    let condition = Condition::Equals("missing".into(), Value::from("open"));
    check_condition(&store, "x", Before::Live, condition, false).await;
}

async fn equals_blocks_writes_when_the_item_is_absent(store: S) {
    let condition = Condition::Equals("state".into(), Value::from("open"));
    check_condition(&store, "x", Before::Absent, condition, false).await;
}

fn all_equal(pairs: &[(&str, Value)]) -> Condition {
    Condition::AllEqual(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
    )
}

async fn all_equal_lets_writes_through_when_every_attribute_has_its_value(store: S) {
    let condition = all_equal(&[("state", Value::from("open")), ("n", Value::N(3))]);
    check_condition(&store, "x", Before::Live, condition, true).await;
}

async fn all_equal_blocks_writes_when_one_attribute_differs_or_is_missing(store: S) {
    let differs = all_equal(&[("state", Value::from("open")), ("n", Value::N(4))]);
    check_condition(&store, "differs", Before::Live, differs, false).await;
    let first_differs = all_equal(&[("state", Value::from("closed")), ("n", Value::N(3))]);
    check_condition(&store, "first", Before::Live, first_differs, false).await;
    let missing = all_equal(&[("state", Value::from("open")), ("missing", Value::N(3))]);
    check_condition(&store, "missing", Before::Live, missing, false).await;
}

async fn all_equal_blocks_writes_when_the_item_is_absent(store: S) {
    let condition = all_equal(&[("state", Value::from("open"))]);
    check_condition(&store, "absent", Before::Absent, condition.clone(), false).await;
    check_condition(&store, "expired", Before::Expired, condition, false).await;
}

async fn all_equal_with_no_attributes_is_invalid(store: S) {
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

async fn below_lets_writes_through_on_an_absent_item(store: S) {
    check_condition(
        &store,
        "x",
        Before::Absent,
        Condition::Below("n".into(), 1),
        true,
    )
    .await;
}

async fn below_lets_writes_through_when_the_attribute_is_missing(store: S) {
    let condition = Condition::Below("missing".into(), 1);
    check_condition(&store, "x", Before::Live, condition, true).await;
}

async fn below_lets_writes_through_when_the_attribute_is_below_the_limit(store: S) {
    check_condition(
        &store,
        "x",
        Before::Live,
        Condition::Below("n".into(), 4),
        true,
    )
    .await;
}

async fn below_blocks_writes_when_the_attribute_equals_the_limit(store: S) {
    check_condition(
        &store,
        "x",
        Before::Live,
        Condition::Below("n".into(), 3),
        false,
    )
    .await;
}

async fn below_blocks_writes_when_the_attribute_is_above_the_limit(store: S) {
    check_condition(
        &store,
        "x",
        Before::Live,
        Condition::Below("n".into(), -5),
        false,
    )
    .await;
}

async fn below_blocks_writes_when_the_attribute_is_not_a_number(store: S) {
    let condition = Condition::Below("state".into(), 1_000);
    check_condition(&store, "x", Before::Live, condition, false).await;
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

async fn update_sets_removes_and_adds_while_leaving_other_attributes_alone(store: S) {
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

async fn update_adds_to_a_missing_number_starting_from_zero(store: S) {
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

async fn update_creates_the_item_when_it_is_absent(store: S) {
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

async fn update_guarded_by_exists_does_not_create_an_absent_item(store: S) {
    let k = key("P", "new");
    let result = store
        .update(&k, Update::default().set("name", "x"), Condition::Exists)
        .await;
    assert_condition_failed(result, None, "update guarded by Exists of an absent item");
    assert_eq!(get(&store, &k).await, None);
}

async fn update_sets_keeps_and_clears_the_expiry(store: S) {
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

async fn update_sets_the_index_key_and_keeps_it_when_not_given(store: S) {
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

async fn adding_to_a_non_numeric_attribute_is_invalid_and_changes_nothing(store: S) {
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

// ---------------------------------------------------------------------------------------------
// Expiry
// ---------------------------------------------------------------------------------------------

async fn expired_items_are_never_returned_by_get_or_query(store: S) {
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

async fn an_item_expiring_this_very_second_is_already_gone(store: S) {
    // `Item::is_expired` is `expires_at <= now`: the boundary second belongs to the past.
    let item = Item::new(key("P", "now")).expiring_at(now_unix());
    put(&store, item.clone()).await;
    assert_eq!(get(&store, &item.key).await, None);
    assert!(query_page(&store, Query::partition("P", 10))
        .await
        .is_empty());
}

async fn items_expiring_in_the_future_are_visible(store: S) {
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

async fn put_with_not_exists_replaces_an_expired_item(store: S) {
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

async fn update_of_an_expired_item_starts_from_an_empty_item(store: S) {
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

async fn conditions_treat_an_expired_item_as_absent(store: S) {
    check_condition(&store, "ne", Before::Expired, Condition::NotExists, true).await;
    check_condition(&store, "ex", Before::Expired, Condition::Exists, false).await;
    let equals = Condition::Equals("state".into(), Value::from("open"));
    check_condition(&store, "eq", Before::Expired, equals, false).await;
    let below = Condition::Below("n".into(), 1);
    check_condition(&store, "bl", Before::Expired, below, true).await;
}

async fn deleting_an_expired_item_returns_none(store: S) {
    let k = key("P", "1");
    put(&store, Item::new(k.clone()).expiring_at(past())).await;
    assert_eq!(store.delete(&k, Condition::None).await.unwrap(), None);
    assert_eq!(get(&store, &k).await, None);
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/// The items a four-write transaction works on, stored before it runs.
struct TxScene {
    new: Key,
    counter: Item,
    doomed: Item,
    checked: Item,
}

impl TxScene {
    async fn set_up(store: &S, label: &str) -> Self {
        let pk = format!("TX#{label}");
        let scene = Self {
            new: key(&pk, "new"),
            counter: Item::new(key(&pk, "counter")).with("n", 1),
            doomed: Item::new(key(&pk, "doomed")).with("state", "open"),
            checked: Item::new(key(&pk, "checked")).with("state", "open"),
        };
        for item in [&scene.counter, &scene.doomed, &scene.checked] {
            put(store, item.clone()).await;
        }
        scene
    }

    /// Put of `new`, update of `counter`, delete of `doomed`, check of `checked`; write `failing`
    /// (if any) gets a condition that does not hold.
    fn writes(&self, failing: Option<usize>) -> Vec<Write> {
        let open = Value::from("open");
        let closed = Value::from("closed");
        let pick =
            |k: usize, good: Condition, bad: Condition| if failing == Some(k) { bad } else { good };
        vec![
            Write::Put {
                item: Item::new(self.new.clone()).with("made", true),
                condition: pick(0, Condition::NotExists, Condition::Exists),
            },
            Write::Update {
                key: self.counter.key.clone(),
                update: Update::default().add("n", 1),
                condition: pick(
                    1,
                    Condition::Below("n".into(), 5),
                    Condition::Below("n".into(), 1),
                ),
            },
            Write::Delete {
                key: self.doomed.key.clone(),
                condition: pick(
                    2,
                    Condition::Equals("state".into(), open.clone()),
                    Condition::Equals("state".into(), closed.clone()),
                ),
            },
            Write::Check {
                key: self.checked.key.clone(),
                condition: pick(
                    3,
                    Condition::Equals("state".into(), open),
                    Condition::Equals("state".into(), closed),
                ),
            },
        ]
    }

    /// The live item at write `k`'s key before the transaction.
    fn live_at(&self, k: usize) -> Option<&Item> {
        [
            None,
            Some(&self.counter),
            Some(&self.doomed),
            Some(&self.checked),
        ][k]
    }

    async fn assert_untouched(&self, store: &S, context: &str) {
        assert_eq!(get(store, &self.new).await, None, "{context}: put applied");
        assert_eq!(
            get(store, &self.counter.key).await.as_ref(),
            Some(&self.counter),
            "{context}: update applied"
        );
        assert_eq!(
            get(store, &self.doomed.key).await.as_ref(),
            Some(&self.doomed),
            "{context}: delete applied"
        );
        assert_eq!(
            get(store, &self.checked.key).await.as_ref(),
            Some(&self.checked),
            "{context}: checked item changed"
        );
    }
}

async fn a_transaction_applies_all_of_its_writes(store: S) {
    let scene = TxScene::set_up(&store, "ok").await;
    store.transact(scene.writes(None)).await.unwrap();
    assert_eq!(
        get(&store, &scene.new).await,
        Some(Item::new(scene.new.clone()).with("made", true))
    );
    assert_eq!(
        get(&store, &scene.counter.key).await,
        Some(scene.counter.clone().with("n", 2))
    );
    assert_eq!(get(&store, &scene.doomed.key).await, None);
    assert_eq!(
        get(&store, &scene.checked.key).await,
        Some(scene.checked.clone())
    );
}

async fn a_transaction_whose_write_k_fails_names_k_and_applies_nothing(store: S) {
    for k in 0..4 {
        let scene = TxScene::set_up(&store, &k.to_string()).await;
        let context = format!("transaction whose write {k} fails");
        let result = store.transact(scene.writes(Some(k))).await;
        assert_transaction_failed(result, k, scene.live_at(k), &context);
        scene.assert_untouched(&store, &context).await;
    }
}

async fn a_failing_check_blocks_the_whole_transaction(store: S) {
    let result = store
        .transact(vec![
            Write::Put {
                item: Item::new(key("A", "1")).with("x", 1),
                condition: Condition::None,
            },
            Write::Update {
                key: key("B", "1"),
                update: Update::default().set("x", 1),
                condition: Condition::None,
            },
            Write::Check {
                key: key("C", "1"),
                condition: Condition::Exists,
            },
        ])
        .await;
    assert_transaction_failed(
        result,
        2,
        None,
        "transaction checking an absent item exists",
    );
    assert_eq!(get(&store, &key("A", "1")).await, None);
    assert_eq!(get(&store, &key("B", "1")).await, None);
}

async fn transactions_treat_expired_items_as_absent(store: S) {
    put(
        &store,
        Item::new(key("E", "1")).with("x", 1).expiring_at(past()),
    )
    .await;
    put(
        &store,
        Item::new(key("E", "2")).with("x", 2).expiring_at(past()),
    )
    .await;
    let result = store
        .transact(vec![
            Write::Put {
                item: Item::new(key("E", "1")).with("x", 10),
                condition: Condition::NotExists,
            },
            Write::Check {
                key: key("E", "2"),
                condition: Condition::Exists,
            },
        ])
        .await;
    assert_transaction_failed(result, 1, None, "Exists over an expired item");
    assert_eq!(get(&store, &key("E", "1")).await, None);

    store
        .transact(vec![
            Write::Put {
                item: Item::new(key("E", "1")).with("x", 10),
                condition: Condition::NotExists,
            },
            Write::Update {
                key: key("E", "2"),
                update: Update::default().add("y", 1),
                condition: Condition::NotExists,
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        get(&store, &key("E", "1")).await,
        Some(Item::new(key("E", "1")).with("x", 10))
    );
    assert_eq!(
        get(&store, &key("E", "2")).await,
        Some(Item::new(key("E", "2")).with("y", 1)),
        "a transactional update of an expired item starts from an empty item"
    );
}

async fn a_transaction_touching_a_key_twice_is_invalid_and_applies_nothing(store: S) {
    let result = store
        .transact(vec![
            Write::Put {
                item: Item::new(key("A", "1")),
                condition: Condition::None,
            },
            Write::Put {
                item: Item::new(key("B", "1")),
                condition: Condition::None,
            },
            Write::Update {
                key: key("A", "1"),
                update: Update::default().set("x", 1),
                condition: Condition::None,
            },
        ])
        .await;
    assert_invalid(result, "transaction touching A/1 twice");
    assert_eq!(get(&store, &key("A", "1")).await, None);
    assert_eq!(get(&store, &key("B", "1")).await, None);
}

fn puts(pk: &str, count: usize) -> Vec<Write> {
    (0..count)
        .map(|i| Write::Put {
            item: Item::new(key(pk, &format!("{i:03}"))).with("i", i as i64),
            condition: Condition::NotExists,
        })
        .collect()
}

async fn a_transaction_of_more_than_100_writes_is_invalid_and_applies_nothing(store: S) {
    let result = store
        .transact(puts("BULK", MAX_TRANSACTION_WRITES + 1))
        .await;
    assert_invalid(result, "transaction of 101 writes");
    assert!(query_page(&store, Query::partition("BULK", 1000))
        .await
        .is_empty());
}

async fn an_empty_transaction_is_invalid(store: S) {
    assert_invalid(store.transact(Vec::new()).await, "empty transaction");
}

async fn a_transaction_of_100_writes_succeeds(store: S) {
    store
        .transact(puts("BULK", MAX_TRANSACTION_WRITES))
        .await
        .unwrap();
    let stored = query_all(&store, Query::partition("BULK", 1000)).await;
    let expected: Vec<String> = (0..MAX_TRANSACTION_WRITES)
        .map(|i| format!("{i:03}"))
        .collect();
    assert_eq!(sort_keys(&stored), expected);
}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

/// Stores an item with `tag = sk` at each `pk/sk`.
async fn put_all(store: &S, pk: &str, sks: &[&str]) {
    for sk in sks {
        put(store, Item::new(key(pk, sk)).with("tag", *sk)).await;
    }
}

async fn query_returns_one_partition_in_sort_key_order(store: S) {
    put_all(&store, "P1", &["c", "a", "B", "b", "a#2"]).await;
    // Neighbouring partitions, including one whose name extends "P1".
    put_all(&store, "P10", &["a"]).await;
    put_all(&store, "P", &["a"]).await;
    put_all(&store, "p1", &["a"]).await;
    let items = query_page(&store, Query::partition("P1", 100)).await;
    assert_eq!(sort_keys(&items), strings(&["B", "a", "a#2", "b", "c"]));
    assert!(items.iter().all(|i| i.key.pk == "P1"));
    assert_eq!(items[0], Item::new(key("P1", "B")).with("tag", "B"));
}

async fn prefix_query_matches_exactly_the_sort_keys_with_that_prefix(store: S) {
    put_all(
        &store,
        "P",
        &[
            "APPT#1",
            "APPT#2",
            "APPT#é",
            "APPT#\u{10FFFF}",
            "APPTX",
            "APPT",
            "APPS",
            "APPU#1",
            "appt#3",
            "A_1",
            "AB1",
            "A%1",
            "AX%",
            "A\\1",
            "A1",
        ],
    )
    .await;
    let cases: [(&str, &[&str]); 6] = [
        ("APPT#", &["APPT#1", "APPT#2", "APPT#é", "APPT#\u{10FFFF}"]),
        (
            "APPT",
            &[
                "APPT",
                "APPT#1",
                "APPT#2",
                "APPT#é",
                "APPT#\u{10FFFF}",
                "APPTX",
            ],
        ),
        // Characters that are wildcards or escapes in SQL LIKE match only themselves.
        ("A_", &["A_1"]),
        ("A%", &["A%1"]),
        ("A\\", &["A\\1"]),
        ("Z", &[]),
    ];
    for (prefix, expected) in cases {
        let items = query_page(&store, Query::partition("P", 100).prefix(prefix)).await;
        assert_eq!(sort_keys(&items), strings(expected), "prefix {prefix:?}");
    }
}

async fn between_query_includes_both_bounds(store: S) {
    let sks: Vec<String> = (1..=10).map(|i| format!("{i:02}")).collect();
    let sks: Vec<&str> = sks.iter().map(String::as_str).collect();
    put_all(&store, "P", &sks).await;
    let cases: [(&str, &str, &[&str]); 4] = [
        ("03", "07", &["03", "04", "05", "06", "07"]),
        ("03", "03", &["03"]),
        ("025", "065", &["03", "04", "05", "06"]),
        ("11", "99", &[]),
    ];
    for (low, high, expected) in cases {
        let items = query_page(&store, Query::partition("P", 100).between(low, high)).await;
        assert_eq!(
            sort_keys(&items),
            strings(expected),
            "between {low:?} and {high:?}"
        );
    }
}

async fn descending_query_returns_the_highest_sort_key_first(store: S) {
    put_all(&store, "P", &["a1", "a2", "a3", "b1", "b2"]).await;
    let all = query_page(&store, Query::partition("P", 100).descending()).await;
    assert_eq!(sort_keys(&all), strings(&["b2", "b1", "a3", "a2", "a1"]));
    let prefixed = query_page(&store, Query::partition("P", 100).prefix("a").descending()).await;
    assert_eq!(sort_keys(&prefixed), strings(&["a3", "a2", "a1"]));
    let between = query_page(
        &store,
        Query::partition("P", 100).between("a2", "b1").descending(),
    )
    .await;
    assert_eq!(sort_keys(&between), strings(&["b1", "a3", "a2"]));
    let top = query_page(&store, Query::partition("P", 2).descending()).await;
    assert_eq!(sort_keys(&top), strings(&["b2", "b1"]));
}

async fn paging_by_3_over_10_items_visits_every_item_once_in_order(store: S) {
    let sks: Vec<String> = (0..10).map(|i| format!("ITEM#{i:02}")).collect();
    let refs: Vec<&str> = sks.iter().map(String::as_str).collect();
    put_all(&store, "P", &refs).await;
    put_all(&store, "Q", &["ITEM#00"]).await;

    let first = store.query(Query::partition("P", 3)).await.unwrap();
    assert_eq!(
        sort_keys(&first.items),
        sks[..3].to_vec(),
        "first page is full"
    );
    assert!(
        first.next.is_some(),
        "a full first page of more has a cursor"
    );

    let ascending = query_all(&store, Query::partition("P", 3)).await;
    assert_eq!(sort_keys(&ascending), sks);

    let descending = query_all(&store, Query::partition("P", 3).descending()).await;
    let mut reversed = sks.clone();
    reversed.reverse();
    assert_eq!(sort_keys(&descending), reversed);
}

async fn paging_over_partly_expired_items_visits_every_live_item_once(store: S) {
    let mut live = Vec::new();
    for i in 0..12 {
        let sk = format!("ITEM#{i:02}");
        // The first, the last and every third item in between are expired.
        let expired = i == 0 || i == 11 || i % 3 == 1;
        let item = Item::new(key("P", &sk)).with("i", i);
        let item = if expired {
            item.expiring_at(past())
        } else {
            live.push(sk);
            item.expiring_at(future())
        };
        put(&store, item).await;
    }
    let ascending = query_all(&store, Query::partition("P", 3)).await;
    assert_eq!(sort_keys(&ascending), live);
    let descending = query_all(&store, Query::partition("P", 3).descending()).await;
    live.reverse();
    assert_eq!(sort_keys(&descending), live);
}

async fn paging_stays_inside_a_prefix_or_between_range(store: S) {
    put_all(
        &store,
        "P",
        &[
            "A#1", "A#2", "A#3", "A#4", "A#5", "AB", "B#1", "B#2", "B#3", "B#4", "C",
        ],
    )
    .await;
    let prefixed = query_all(&store, Query::partition("P", 2).prefix("A#")).await;
    assert_eq!(
        sort_keys(&prefixed),
        strings(&["A#1", "A#2", "A#3", "A#4", "A#5"])
    );
    let between = query_all(
        &store,
        Query::partition("P", 2).between("A#4", "B#3").descending(),
    )
    .await;
    assert_eq!(
        sort_keys(&between),
        strings(&["B#3", "B#2", "B#1", "AB", "A#5", "A#4"])
    );
}

async fn index_query_finds_only_live_indexed_items_in_index_order(store: S) {
    let day3 = Item::new(key("APPT#1", "A"))
        .with("n", 1)
        .indexed(key("DOC#1", "2024-01-03"));
    let day1 = Item::new(key("APPT#2", "A"))
        .with("n", 2)
        .indexed(key("DOC#1", "2024-01-01"));
    let day2 = Item::new(key("APPT#3", "A"))
        .with("n", 3)
        .indexed(key("DOC#1", "2024-01-02"));
    let other_doctor = Item::new(key("APPT#4", "A")).indexed(key("DOC#2", "2024-01-01"));
    let neighbour = Item::new(key("APPT#5", "A")).indexed(key("DOC#10", "2024-01-01"));
    let not_indexed = Item::new(key("DOC#1", "2024-01-01")).with("n", 5);
    let expired = Item::new(key("APPT#6", "A"))
        .indexed(key("DOC#1", "2024-01-04"))
        .expiring_at(past());
    for item in [
        &day3,
        &day1,
        &day2,
        &other_doctor,
        &neighbour,
        &not_indexed,
        &expired,
    ] {
        put(&store, item.clone()).await;
    }
    let on_index = || Query::partition("DOC#1", 100).on_index();
    assert_eq!(
        query_page(&store, on_index()).await,
        vec![day1.clone(), day2.clone(), day3.clone()],
        "whole items, in index sort-key order"
    );
    assert_eq!(
        query_page(&store, on_index().descending()).await,
        vec![day3.clone(), day2.clone(), day1.clone()]
    );
    assert_eq!(
        query_page(
            &store,
            on_index().prefix("2024-01-0").descending().after(None)
        )
        .await,
        vec![day3.clone(), day2.clone(), day1.clone()]
    );
    assert_eq!(
        query_page(&store, on_index().between("2024-01-02", "2024-01-03")).await,
        vec![day2.clone(), day3.clone()]
    );
    assert_eq!(
        query_all(&store, Query::partition("DOC#1", 1).on_index()).await,
        vec![day1, day2, day3],
        "paging one by one"
    );
    assert_eq!(
        query_page(&store, Query::partition("DOC#1", 100)).await,
        vec![not_indexed],
        "the table key and the index key are separate"
    );
}

async fn index_paging_visits_every_item_once_even_when_index_sort_keys_repeat(store: S) {
    // Several appointments in the same slot share an index key; paging must still see each once.
    let mut expected = BTreeSet::new();
    for i in 0..7 {
        let slot = if i < 4 { "SLOT#09:00" } else { "SLOT#10:00" };
        let k = key(&format!("APPT#{i}"), "A");
        put(&store, Item::new(k.clone()).indexed(key("DAY#1", slot))).await;
        expected.insert(k);
    }
    for query in [
        Query::partition("DAY#1", 2).on_index(),
        Query::partition("DAY#1", 2).on_index().descending(),
    ] {
        let items = query_all(&store, query.clone()).await;
        let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
        let distinct: BTreeSet<Key> = keys.iter().cloned().collect();
        assert_eq!(
            keys.len(),
            distinct.len(),
            "{query:?}: an item came twice: {keys:?}"
        );
        assert_eq!(distinct, expected, "{query:?}: items missing");
        let slots: Vec<String> = items.iter().map(|i| i.gsi1.clone().unwrap().sk).collect();
        let mut sorted = slots.clone();
        sorted.sort();
        if query.descending {
            sorted.reverse();
        }
        assert_eq!(slots, sorted, "{query:?}: out of index order");
    }
}

async fn a_cursor_survives_encoding_and_a_malformed_cursor_is_invalid(store: S) {
    put_all(&store, "P", &["a", "b", "c", "d"]).await;
    let first = store.query(Query::partition("P", 2)).await.unwrap();
    let cursor = first.next.expect("a cursor after a full page");
    let text = cursor.encode();
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "cursor text is URL-safe: {text}"
    );
    let decoded = Cursor::decode(&text).unwrap();
    assert_eq!(decoded, cursor);
    let second = query_page(&store, Query::partition("P", 2).after(Some(decoded))).await;
    assert_eq!(sort_keys(&second), strings(&["c", "d"]));

    for bad in [
        "",
        "not a cursor!",
        "e30",
        "bnVsbA",
        &text[..text.len() / 2],
    ] {
        assert_invalid(Cursor::decode(bad), &format!("decoding {bad:?}"));
    }
}

async fn queries_with_a_bad_limit_an_inverted_range_or_no_partition_are_invalid(store: S) {
    put_all(&store, "P", &["a"]).await;
    for (query, what) in [
        (Query::partition("P", 0), "limit 0"),
        (
            Query::partition("P", MAX_QUERY_LIMIT + 1),
            "limit above the maximum",
        ),
        (
            Query::partition("P", 10).between("b", "a"),
            "inverted range",
        ),
        (Query::partition("", 10), "empty partition"),
        (Query::partition("", 10).on_index(), "empty index partition"),
    ] {
        assert_invalid(store.query(query).await, what);
    }
    assert_eq!(
        query_page(&store, Query::partition("P", MAX_QUERY_LIMIT))
            .await
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

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

async fn reserved_attribute_names_are_invalid_everywhere(store: S) {
    for name in RESERVED_ATTRIBUTES {
        assert_name_rejected(&store, name).await;
    }
}

async fn malformed_attribute_names_are_invalid(store: S) {
    for name in ["", "a-b", "a b", "a.b", "é", "#a", ":a", &"x".repeat(256)] {
        assert_name_rejected(&store, name).await;
    }
}

async fn empty_keys_are_invalid(store: S) {
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

async fn an_item_over_400_kb_is_invalid(store: S) {
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

async fn an_update_touching_one_attribute_twice_is_invalid(store: S) {
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

// ---------------------------------------------------------------------------------------------
// Races: conditions are evaluated atomically with their write
// ---------------------------------------------------------------------------------------------

const RACERS: usize = 20;

/// Runs `RACERS` copies of `attempt` at once (each gets its index and its own handle on the store).
async fn race<T, F, Fut>(store: &S, attempt: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, S) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let barrier = barrier.clone();
        let attempt = attempt(i, store.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            attempt.await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("racer panicked"));
    }
    results
}

async fn twenty_concurrent_not_exists_puts_have_exactly_one_winner_in_each_of_50_rounds(store: S) {
    for round in 0..50 {
        let k = key("RACE", &format!("{round:02}"));
        let results = race(&store, |i, store| {
            let k = k.clone();
            async move {
                let item = Item::new(k).with("racer", i as i64);
                store.put(item, Condition::NotExists).await
            }
        })
        .await;
        let winners: Vec<usize> = (0..RACERS).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: winners {winners:?}, results {results:?}"
        );
        let winner = winners[0];
        let stored = get(&store, &k).await.expect("the winner's item is stored");
        assert_eq!(
            stored.number("racer").unwrap(),
            winner as i64,
            "round {round}"
        );
        for (i, result) in results.into_iter().enumerate() {
            if i == winner {
                assert_eq!(
                    result.unwrap(),
                    None,
                    "round {round}: the winner replaced nothing"
                );
            } else {
                assert_condition_failed(
                    result,
                    Some(&stored),
                    &format!("round {round}, racer {i}"),
                );
            }
        }
    }
}

async fn twenty_concurrent_claiming_transactions_have_one_winner_and_losers_leave_nothing(
    store: S,
) {
    for round in 0..10 {
        let claim = key("CLAIM", &format!("{round:02}"));
        let own_partition = format!("OWN#{round:02}");
        let results = race(&store, |i, store| {
            let claim = claim.clone();
            let own = key(&own_partition, &format!("{i:02}"));
            async move {
                store
                    .transact(vec![
                        Write::Put {
                            item: Item::new(claim).with("racer", i as i64),
                            condition: Condition::NotExists,
                        },
                        Write::Put {
                            item: Item::new(own).with("racer", i as i64),
                            condition: Condition::NotExists,
                        },
                    ])
                    .await
            }
        })
        .await;
        let winners: Vec<usize> = (0..RACERS).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: winners {winners:?}, results {results:?}"
        );
        let winner = winners[0];
        let stored = get(&store, &claim).await.expect("the claim is stored");
        assert_eq!(
            stored.number("racer").unwrap(),
            winner as i64,
            "round {round}"
        );
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(()) => {}
                Err(StoreError::TransactionFailed { index: 0, current }) => {
                    if let Some(current) = current {
                        assert_eq!(*current, stored, "round {round}, racer {i}: reported claim");
                    }
                }
                // DynamoDB may cancel a transaction that collides with one in flight.
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("round {round}, racer {i}: unexpected {other:?}"),
            }
        }
        let own = query_page(&store, Query::partition(own_partition, 100)).await;
        assert_eq!(
            sort_keys(&own),
            vec![format!("{winner:02}")],
            "round {round}: only the winner's own item exists"
        );
    }
}

async fn twenty_concurrent_capped_increments_stop_exactly_at_the_cap(store: S) {
    for round in 0..5 {
        let k = key("COUNTER", &round.to_string());
        let results = race(&store, |_, store| {
            let k = k.clone();
            async move {
                store
                    .update(
                        &k,
                        Update::default().add("n", 1),
                        Condition::Below("n".into(), 5),
                    )
                    .await
            }
        })
        .await;
        let mut seen = Vec::new();
        let mut refused = 0;
        for result in results {
            match result {
                Ok(item) => seen.push(item.number("n").unwrap()),
                Err(StoreError::ConditionFailed { current }) => {
                    refused += 1;
                    let current = current.expect("a refused increment reports the counter");
                    assert_eq!(current.number("n").unwrap(), 5, "round {round}");
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            vec![1, 2, 3, 4, 5],
            "round {round}: each success saw its own count"
        );
        assert_eq!(refused, RACERS - 5, "round {round}");
        assert_eq!(
            get(&store, &k).await.unwrap().number("n").unwrap(),
            5,
            "round {round}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite only: the race across processes sharing one database file
// ---------------------------------------------------------------------------------------------

mod sqlite_across_processes {
    use std::io::{BufRead, BufReader, Write as _};
    use std::process::{Child, ChildStdin, Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use shared::store::sqlite::SqliteStore;
    use shared::store::{Key, Store};

    const WORKERS: usize = 20;
    const ROUNDS: usize = 10;
    /// Generous: 20 processes start on 2 cores; a stuck worker must fail the test, not hang it.
    const PHASE_TIMEOUT: Duration = Duration::from_secs(30);

    /// Kills whatever workers are still running when a round ends early (a failed assertion).
    struct Workers(Vec<Child>);

    impl Drop for Workers {
        fn drop(&mut self) {
            for child in &mut self.0 {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Collects one line from each worker, failing on `ERROR`, on a worker that closes its output
    /// before answering, and on the deadline. `closed` remembers across phases who has exited.
    fn collect(
        lines: &mpsc::Receiver<(usize, Option<String>)>,
        closed: &mut [bool],
        round: usize,
        phase: &str,
    ) -> Vec<String> {
        let deadline = Instant::now() + PHASE_TIMEOUT;
        let mut got: Vec<Option<String>> = vec![None; WORKERS];
        while got.iter().any(Option::is_none) {
            if let Some(worker) = (0..WORKERS).find(|w| closed[*w] && got[*w].is_none()) {
                panic!("round {round}: worker {worker} exited before answering during {phase}");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let (worker, line) = lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("round {round}: workers silent during {phase}: {got:?}")
            });
            let Some(line) = line else {
                closed[worker] = true;
                continue;
            };
            assert!(
                !line.starts_with("ERROR"),
                "round {round}, worker {worker}: {line}"
            );
            assert!(
                got[worker].is_none(),
                "round {round}, worker {worker}: extra line {line}"
            );
            got[worker] = Some(line);
        }
        got.into_iter().flatten().collect()
    }

    // A plain test: the workers are driven with blocking pipes; only the final read needs a runtime.
    #[test]
    fn twenty_processes_racing_a_not_exists_put_on_one_file_have_exactly_one_winner_in_each_of_10_rounds(
    ) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        for round in 0..ROUNDS {
            // A new file each round, so the 20 processes also race to create the schema.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("race.db");
            let (sender, lines) = mpsc::channel();
            let mut workers = Workers(Vec::new());
            let mut stdins: Vec<ChildStdin> = Vec::new();
            for worker in 0..WORKERS {
                let mut child = Command::new(env!("CARGO_BIN_EXE_store_race_worker"))
                    .arg(&path)
                    .arg("RACE")
                    .arg(format!("{round:02}"))
                    .arg(worker.to_string())
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("start store_race_worker");
                stdins.push(child.stdin.take().unwrap());
                let stdout = child.stdout.take().unwrap();
                workers.0.push(child);
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stdout).lines() {
                        let _ = sender.send((
                            worker,
                            Some(line.unwrap_or_else(|e| format!("ERROR reading: {e}"))),
                        ));
                    }
                    let _ = sender.send((worker, None));
                });
            }

            let mut closed = [false; WORKERS];
            let ready = collect(&lines, &mut closed, round, "start-up");
            assert!(
                ready.iter().all(|l| l == "READY"),
                "round {round}: {ready:?}"
            );
            // Every worker has opened the store and waits on its stdin: release them together.
            for stdin in &mut stdins {
                stdin
                    .write_all(b"go\n")
                    .and_then(|()| stdin.flush())
                    .unwrap();
            }
            let outcomes = collect(&lines, &mut closed, round, "the race");
            let winners: Vec<usize> = (0..WORKERS).filter(|w| outcomes[*w] == "WON").collect();
            let losers = outcomes.iter().filter(|l| *l == "LOST").count();
            assert_eq!(winners.len(), 1, "round {round}: outcomes {outcomes:?}");
            assert_eq!(losers, WORKERS - 1, "round {round}: outcomes {outcomes:?}");
            for child in &mut workers.0 {
                assert!(
                    child.wait().unwrap().success(),
                    "round {round}: a worker failed"
                );
            }

            let store = SqliteStore::open(&path).unwrap();
            let stored = runtime
                .block_on(store.get(&Key::new("RACE", format!("{round:02}"))))
                .unwrap()
                .expect("the winner's item is stored");
            assert_eq!(
                stored.string("worker").unwrap(),
                winners[0].to_string(),
                "round {round}"
            );
        }
    }
}
