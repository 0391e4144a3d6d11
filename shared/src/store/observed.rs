//! A store wrapper that counts failed storage calls, by kind, in the current request's metrics
//! (`StoreErrors`, dimension `Kind`). Condition failures are answers, not errors: not counted.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};
use crate::metrics::{self, Counter};

/// Forwards every call and counts the errors that come back.
pub struct ObservedStore {
    inner: Arc<dyn Store>,
}

impl ObservedStore {
    /// Wraps a store.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self { inner }
    }
}

/// The `Kind` of a storage error, or `None` for a condition failure.
pub fn error_kind(error: &StoreError) -> Option<&'static str> {
    match error {
        StoreError::ConditionFailed { .. } | StoreError::TransactionFailed { .. } => None,
        StoreError::Conflict => Some("conflict"),
        StoreError::Unavailable(_) => Some("unavailable"),
        StoreError::Invalid(_) => Some("invalid"),
        StoreError::Corrupt(_) => Some("corrupt"),
    }
}

fn observe<T>(result: Result<T, StoreError>) -> Result<T, StoreError> {
    if let Err(error) = &result {
        if let Some(kind) = error_kind(error) {
            metrics::count_with(Counter::StoreErrors, kind);
        }
    }
    result
}

#[async_trait]
impl Store for ObservedStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        observe(self.inner.get(key).await)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        observe(self.inner.get_many(keys).await)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        observe(self.inner.put(item, condition).await)
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        observe(self.inner.update(key, update, condition).await)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        observe(self.inner.delete(key, condition).await)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        observe(self.inner.transact(writes).await)
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        observe(self.inner.query(query).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test]
    async fn errors_are_counted_by_kind_and_condition_failures_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("db")).unwrap());
        let store = ObservedStore::new(sqlite);
        let key = Key::new("P#1", "S");
        let ((), counts) = metrics::measure(async {
            store
                .put(Item::new(key.clone()), Condition::None)
                .await
                .unwrap();
            // Exists already: a condition failure, an expected answer.
            let refused = store
                .put(Item::new(key.clone()), Condition::NotExists)
                .await;
            assert!(refused.unwrap_err().is_condition_failure());
            // A reserved attribute name breaks the store's rules: an invalid request.
            let invalid = store
                .put(Item::new(key.clone()).with("pk", "x"), Condition::None)
                .await;
            assert!(matches!(invalid, Err(StoreError::Invalid(_))));
        })
        .await;
        assert_eq!(counts.total(Counter::StoreErrors), 1);
        assert_eq!(
            counts.counts().collect::<Vec<_>>(),
            vec![(Counter::StoreErrors, Some("invalid"), 1)]
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(
            error_kind(&StoreError::Unavailable("x".into())),
            Some("unavailable")
        );
        assert_eq!(error_kind(&StoreError::Conflict), Some("conflict"));
        assert_eq!(
            error_kind(&StoreError::Corrupt("x".into())),
            Some("corrupt")
        );
        assert_eq!(
            error_kind(&StoreError::ConditionFailed { current: None }),
            None
        );
    }
}
