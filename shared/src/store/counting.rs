//! A store wrapper that counts round trips, so tests and benchmarks can state how many storage calls
//! an operation costs, and records which partitions were touched, so tests can check a function's
//! IAM `dynamodb:LeadingKeys` list against what it really does.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};

/// Counts every call made through it (each call is one round trip), notes the partition keys it
/// touches, then forwards it.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    calls: AtomicU64,
    partitions: Mutex<BTreeSet<String>>,
}

impl CountingStore {
    /// Wraps a store.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
            partitions: Mutex::new(BTreeSet::new()),
        }
    }

    /// Round trips since creation or the last [`CountingStore::take`].
    pub fn round_trips(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// Returns the count and starts again from zero (call between requests).
    pub fn take(&self) -> u64 {
        self.calls.swap(0, Ordering::SeqCst)
    }

    /// Every partition key (`pk`) read, written, checked or queried since creation or the last
    /// call, and starts again from none.
    pub fn take_partitions(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A panicking test thread poisons the lock; the set itself is still whole.
        self.partitions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self, partitions: &[&str]) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut seen = self.lock();
        for pk in partitions {
            if !seen.contains(*pk) {
                seen.insert((*pk).to_owned());
            }
        }
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.count(&[&key.pk]);
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        // One request however many keys, and none for no keys (the adapters make no call).
        if !keys.is_empty() {
            let partitions: Vec<&str> = keys.iter().map(|k| k.pk.as_str()).collect();
            self.count(&partitions);
        }
        self.inner.get_many(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.count(&[&item.key.pk]);
        self.inner.put(item, condition).await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        self.count(&[&key.pk]);
        self.inner.update(key, update, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.count(&[&key.pk]);
        self.inner.delete(key, condition).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let partitions: Vec<&str> = writes.iter().map(|w| w.key().pk.as_str()).collect();
        self.count(&partitions);
        self.inner.transact(writes).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.count(&[&query.pk]);
        self.inner.query(query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test]
    async fn every_call_counts_as_one_round_trip_and_take_resets() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        let store = CountingStore::new(inner);
        let key = Key::new("P", "S");
        store
            .put(Item::new(key.clone()), Condition::NotExists)
            .await
            .unwrap();
        store.get(&key).await.unwrap();
        let _ = store
            .put(Item::new(key.clone()), Condition::NotExists)
            .await;
        assert_eq!(store.take(), 3);
        assert_eq!(store.round_trips(), 0);
    }

    #[tokio::test]
    async fn a_batched_read_is_one_round_trip_noting_each_partition_and_no_keys_none() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        let store = CountingStore::new(inner);
        let keys = [
            Key::new("A#1", "S"),
            Key::new("B#1", "S"),
            Key::new("A#1", "S"),
        ];
        assert_eq!(store.get_many(&keys).await.unwrap(), [None, None, None]);
        assert_eq!(store.take(), 1);
        let seen: Vec<String> = store.take_partitions().into_iter().collect();
        assert_eq!(seen, ["A#1", "B#1"]);
        assert!(store.get_many(&[]).await.unwrap().is_empty());
        assert_eq!(store.take(), 0);
    }

    #[tokio::test]
    async fn every_partition_touched_is_noted_including_each_write_of_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        let store = CountingStore::new(inner);
        store.get(&Key::new("A#1", "S")).await.unwrap();
        store
            .transact(vec![
                Write::Put {
                    item: Item::new(Key::new("B#1", "S")),
                    condition: Condition::NotExists,
                },
                Write::Put {
                    item: Item::new(Key::new("C#1", "S")),
                    condition: Condition::NotExists,
                },
            ])
            .await
            .unwrap();
        let seen: Vec<String> = store.take_partitions().into_iter().collect();
        assert_eq!(seen, ["A#1", "B#1", "C#1"]);
        assert!(store.take_partitions().is_empty());
    }
}
