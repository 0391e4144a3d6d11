//! Transactions: all of their writes or none, and which write made one fail.

use shared::store::{Condition, Item, Key, Query, Update, Value, Write, MAX_TRANSACTION_WRITES};

use super::support::*;

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

pub(super) async fn a_transaction_applies_all_of_its_writes(store: S) {
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

pub(super) async fn a_transaction_whose_write_k_fails_names_k_and_applies_nothing(store: S) {
    for k in 0..4 {
        let scene = TxScene::set_up(&store, &k.to_string()).await;
        let context = format!("transaction whose write {k} fails");
        let result = store.transact(scene.writes(Some(k))).await;
        assert_transaction_failed(result, k, scene.live_at(k), &context);
        scene.assert_untouched(&store, &context).await;
    }
}

pub(super) async fn a_failing_check_blocks_the_whole_transaction(store: S) {
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

pub(super) async fn transactions_treat_expired_items_as_absent(store: S) {
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

pub(super) async fn a_transaction_with_several_failing_writes_names_the_first(store: S) {
    let guard = Item::new(key("T", "guard")).with("state", "closed");
    let taken = Item::new(key("T", "taken")).with("who", "first");
    put(&store, guard.clone()).await;
    put(&store, taken.clone()).await;
    let result = store
        .transact(vec![
            Write::Put {
                item: Item::new(key("T", "new")),
                condition: Condition::NotExists,
            },
            Write::Update {
                key: key("T", "counter"),
                update: Update::default().add("n", 1),
                condition: Condition::None,
            },
            Write::Check {
                key: guard.key.clone(),
                condition: Condition::Equals("state".into(), Value::from("open")),
            },
            Write::Put {
                item: Item::new(taken.key.clone()).with("who", "second"),
                condition: Condition::NotExists,
            },
        ])
        .await;
    assert_transaction_failed(
        result,
        2,
        Some(&guard),
        "transaction whose writes 2 and 3 fail",
    );
    assert_eq!(get(&store, &key("T", "new")).await, None);
    assert_eq!(get(&store, &key("T", "counter")).await, None);
    assert_eq!(get(&store, &taken.key).await, Some(taken));
}

pub(super) async fn a_transaction_whose_update_is_invalid_applies_nothing(store: S) {
    let text = Item::new(key("T", "text")).with("n", "x");
    put(&store, text.clone()).await;
    let result = store
        .transact(vec![
            Write::Put {
                item: Item::new(key("T", "new")),
                condition: Condition::None,
            },
            Write::Update {
                key: text.key.clone(),
                update: Update::default().add("n", 1),
                condition: Condition::None,
            },
        ])
        .await;
    assert_invalid(result, "transaction adding to a string");
    assert_eq!(get(&store, &key("T", "new")).await, None);
    assert_eq!(get(&store, &text.key).await, Some(text));
}

pub(super) async fn a_transaction_touching_a_key_twice_is_invalid_and_applies_nothing(store: S) {
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

pub(super) async fn a_transaction_of_more_than_100_writes_is_invalid_and_applies_nothing(store: S) {
    let result = store
        .transact(puts("BULK", MAX_TRANSACTION_WRITES + 1))
        .await;
    assert_invalid(result, "transaction of 101 writes");
    assert!(query_page(&store, Query::partition("BULK", 1000))
        .await
        .is_empty());
}

pub(super) async fn an_empty_transaction_is_invalid(store: S) {
    assert_invalid(store.transact(Vec::new()).await, "empty transaction");
}

pub(super) async fn a_transaction_of_100_writes_succeeds(store: S) {
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
