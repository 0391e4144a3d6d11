//! A store wrapper that counts round trips, so tests and benchmarks can state how many storage calls
//! an operation costs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use super::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};

/// Counts every call made through it (each call is one round trip), then forwards it.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    calls: AtomicU64,
}

impl CountingStore {
    /// Wraps a store.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            calls: AtomicU64::new(0),
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

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.count();
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.count();
        self.inner.put(item, condition).await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        self.count();
        self.inner.update(key, update, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.count();
        self.inner.delete(key, condition).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.count();
        self.inner.transact(writes).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.count();
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
}
