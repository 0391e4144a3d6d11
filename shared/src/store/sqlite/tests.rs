//! SQLite-specific behaviour: files, locks, processes and connections, schema versions, corrupt
//! rows, and how queries page. What every adapter must do is the contract suite's
//! (`tests/tests/store_contract/`), which runs on this adapter too.

use std::collections::BTreeSet;

use super::*;

fn store_in(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(dir.path().join("portal.db")).unwrap()
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}

fn past() -> i64 {
    now_unix() - 10
}

async fn every_key(store: &SqliteStore, query: Query) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut cursor = None;
    for _ in 0..1000 {
        let page = store.query(query.clone().after(cursor)).await.unwrap();
        assert!(page.items.len() <= query.limit as usize);
        keys.extend(page.items.into_iter().map(|item| item.key));
        match page.next {
            Some(next) => cursor = Some(Cursor::decode(&next.encode()).unwrap()),
            None => return keys,
        }
    }
    panic!("query never ended");
}

fn raw_connection(store: &SqliteStore) -> Connection {
    Connection::open(store.path()).unwrap()
}

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.key.sk.as_str()).collect()
}

#[test]
fn the_store_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SqliteStore>();
}

#[tokio::test]
async fn deleting_an_expired_item_reports_nothing_and_removes_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let k = key("P", "S");
    store
        .put(Item::new(k.clone()).expiring_at(past()), Condition::None)
        .await
        .unwrap();
    assert_eq!(store.delete(&k, Condition::None).await.unwrap(), None);
    let rows: i64 = raw_connection(&store)
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn an_update_that_overflows_a_number_is_invalid_and_writes_nothing() {
    // SQLite applies updates in Rust (`Update::apply`), which refuses to wrap a 64-bit counter.
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let k = key("P", "S");
    let item = Item::new(k.clone())
        .with("big", i64::MAX)
        .with("small", i64::MIN);
    store.put(item.clone(), Condition::None).await.unwrap();
    for bad in [
        Update::default().set("x", 1).add("big", 1),
        Update::default().set("x", 1).add("small", -1),
    ] {
        let err = store.update(&k, bad, Condition::None).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }
    assert_eq!(store.get(&k).await.unwrap(), Some(item));
}

#[test]
fn the_prefix_upper_bound_skips_surrogates_and_carries_past_the_last_code_point() {
    assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
    assert_eq!(
        prefix_upper_bound("a\u{D7FF}").as_deref(),
        Some("a\u{E000}")
    );
    assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
    assert_eq!(prefix_upper_bound("\u{10FFFF}\u{10FFFF}"), None);
    assert_eq!(prefix_upper_bound(""), None);
}

#[tokio::test]
async fn a_full_page_that_ends_at_the_last_live_item_has_no_cursor() {
    // The page query fetches one row more than the limit, after expired rows are filtered out, so
    // a page that happens to end the partition says so (DynamoDB may return a cursor there).
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    for i in 0..6 {
        let item = Item::new(key("P", &format!("S#{i}")));
        let item = if i % 2 == 1 {
            item.expiring_at(past())
        } else {
            item
        };
        store.put(item, Condition::None).await.unwrap();
    }
    let page = store.query(Query::partition("P", 3)).await.unwrap();
    assert_eq!(sks(&page.items), ["S#0", "S#2", "S#4"]);
    assert_eq!(page.next, None);
    // An empty prefix has no upper bound: it is the whole partition.
    let page = store
        .query(Query::partition("P", 3).prefix(""))
        .await
        .unwrap();
    assert_eq!(sks(&page.items), ["S#0", "S#2", "S#4"]);
    let page = store.query(Query::partition("P", 2)).await.unwrap();
    assert_eq!(sks(&page.items), ["S#0", "S#2"]);
    assert!(page.next.is_some());
}

#[tokio::test]
async fn a_gsi1_query_orders_by_index_sort_key_and_pages_through_ties() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    // Several items share an index sort key; they come out ordered by table key.
    let rows = [
        ("USER#b", "APPT#1", "2026-12-01"),
        ("USER#a", "APPT#2", "2026-12-01"),
        ("USER#a", "APPT#1", "2026-12-01"),
        ("USER#c", "APPT#1", "2026-11-30"),
        ("USER#c", "APPT#2", "2026-12-02"),
    ];
    for (pk, sk, day) in rows {
        store
            .put(
                Item::new(key(pk, sk)).indexed(key("SLOTS", day)),
                Condition::None,
            )
            .await
            .unwrap();
    }
    store
        .put(
            Item::new(key("USER#d", "APPT#1")).indexed(key("OTHER", "2026-12-01")),
            Condition::None,
        )
        .await
        .unwrap();
    store
        .put(Item::new(key("USER#e", "APPT#1")), Condition::None)
        .await
        .unwrap();
    let expected = vec![
        key("USER#c", "APPT#1"),
        key("USER#a", "APPT#1"),
        key("USER#a", "APPT#2"),
        key("USER#b", "APPT#1"),
        key("USER#c", "APPT#2"),
    ];
    for limit in [1, 2, 5, 10] {
        assert_eq!(
            every_key(&store, Query::partition("SLOTS", limit).on_index()).await,
            expected
        );
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(
            every_key(
                &store,
                Query::partition("SLOTS", limit).on_index().descending()
            )
            .await,
            reversed
        );
    }
    let page = store
        .query(
            Query::partition("SLOTS", 10)
                .on_index()
                .prefix("2026-12-01"),
        )
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.key.clone()).collect::<Vec<_>>(),
        expected[1..4]
    );
    assert_eq!(page.items[0].gsi1, Some(key("SLOTS", "2026-12-01")));
    let page = store
        .query(Query::partition("SLOTS", 1).on_index())
        .await
        .unwrap();
    let next = page.next.unwrap();
    assert_eq!(next.key, key("USER#c", "APPT#1"));
    assert_eq!(next.gsi1, Some(key("SLOTS", "2026-11-30")));
}

#[tokio::test]
async fn two_stores_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("deeper").join("portal.db");
    let one = SqliteStore::open(&path).unwrap();
    let two = SqliteStore::open(&path).unwrap();
    assert_eq!(one.path(), path.as_path());
    let item = Item::new(key("P", "S")).with("from", "one");
    one.put(item.clone(), Condition::NotExists).await.unwrap();
    assert_eq!(two.get(&item.key).await.unwrap(), Some(item.clone()));
    assert!(two
        .put(item.clone(), Condition::NotExists)
        .await
        .unwrap_err()
        .is_condition_failure());
    two.update(
        &item.key,
        Update::default().set("from", "two"),
        Condition::Exists,
    )
    .await
    .unwrap();
    assert_eq!(
        one.get(&item.key)
            .await
            .unwrap()
            .unwrap()
            .string("from")
            .unwrap(),
        "two"
    );
    assert_eq!(
        sks(&one.query(Query::partition("P", 10)).await.unwrap().items),
        ["S"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_counters_from_two_stores_lose_no_increment_and_respect_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let one = store_in(&dir);
    let two = store_in(&dir);
    let k = key("SLOT", "CAPACITY");
    let start = Arc::new(tokio::sync::Barrier::new(30));
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let store = if i % 2 == 0 { one.clone() } else { two.clone() };
            let k = k.clone();
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                store
                    .update(
                        &k,
                        Update::default().add("taken", 1),
                        Condition::Below("taken".into(), 25),
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut full = 0;
    let mut seen = BTreeSet::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(item) => {
                ok += 1;
                assert!(seen.insert(item.number("taken").unwrap()));
            }
            Err(StoreError::ConditionFailed { .. }) => full += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((ok, full), (25, 5));
    assert_eq!(seen, (1..=25).collect());
    assert_eq!(
        one.get(&k).await.unwrap().unwrap().number("taken").unwrap(),
        25
    );
}

#[test]
fn several_threads_can_create_a_new_database_at_the_same_moment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                SqliteStore::open(&path)
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_held_write_lock_makes_writes_unavailable_but_not_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    let store = SqliteStore::open_with_busy_timeout(&path, Duration::from_millis(200)).unwrap();
    let item = Item::new(key("P", "S")).with("v", 1);
    store.put(item.clone(), Condition::None).await.unwrap();

    let other = raw_connection(&store);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let err = store.put(item.clone(), Condition::None).await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(150));
    match err {
        StoreError::Unavailable(reason) => assert_eq!(reason, "database is busy"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(store.get(&item.key).await.unwrap(), Some(item.clone()));
    assert_eq!(
        store
            .query(Query::partition("P", 5))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    other.execute_batch("COMMIT").unwrap();
    store
        .update(&item.key, Update::default().add("v", 1), Condition::Exists)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_writer_waits_for_the_lock_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let other = raw_connection(&store);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.execute_batch("COMMIT").unwrap();
    });
    store
        .put(Item::new(key("P", "S")), Condition::NotExists)
        .await
        .unwrap();
    release.join().unwrap();
}

#[tokio::test]
async fn undecodable_stored_attributes_are_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let conn = raw_connection(&store);
    conn.execute(
        "INSERT INTO items (pk, sk, attrs) VALUES ('P', 'bad', '{\"x\": {\"Q\": 1}}')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO items (pk, sk, attrs, gsi1pk) VALUES ('P', 'half', '{}', 'G')",
        [],
    )
    .unwrap();
    for sk in ["bad", "half"] {
        assert!(matches!(
            store.get(&key("P", sk)).await,
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            store
                .put(Item::new(key("P", sk)), Condition::NotExists)
                .await,
            Err(StoreError::Corrupt(_))
        ));
    }
    assert!(matches!(
        store.query(Query::partition("P", 10)).await,
        Err(StoreError::Corrupt(_))
    ));
    // A failed write left the connection usable.
    store
        .put(Item::new(key("P", "ok")), Condition::None)
        .await
        .unwrap();
}

#[tokio::test]
async fn reopening_keeps_the_data_and_drops_expired_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .put(Item::new(key("P", "kept")).with("v", 1), Condition::None)
            .await
            .unwrap();
        store
            .put(
                Item::new(key("P", "gone")).expiring_at(past()),
                Condition::None,
            )
            .await
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.get(&key("P", "kept")).await.unwrap(),
        Some(Item::new(key("P", "kept")).with("v", 1))
    );
    let rows: i64 = raw_connection(&store)
        .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn a_database_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    drop(SqliteStore::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    match SqliteStore::open(&path) {
        Err(StoreError::Unavailable(reason)) => {
            assert!(reason.contains("99"), "{reason}");
            assert!(reason.contains(&path.display().to_string()), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_unusable_path_is_unavailable_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let path = file.join("portal.db");
    match SqliteStore::open(&path) {
        Err(StoreError::Unavailable(reason)) => {
            assert!(reason.contains(&path.display().to_string()), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    let dir_as_db = dir.path().to_path_buf();
    match SqliteStore::open(&dir_as_db) {
        Err(StoreError::Unavailable(reason)) => {
            assert!(
                reason.contains(&dir_as_db.display().to_string()),
                "{reason}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_poisoned_pool_lock_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(&dir);
    let shared = Arc::clone(&store.shared);
    let _ = std::thread::spawn(move || {
        let _guard = shared.idle.lock().unwrap();
        panic!("poison the pool");
    })
    .join();
    assert!(store.shared.idle.is_poisoned());
    store
        .put(Item::new(key("P", "S")), Condition::None)
        .await
        .unwrap();
    assert!(store.get(&key("P", "S")).await.unwrap().is_some());
}
