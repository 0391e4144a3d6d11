//! Typed reads that several repositories can share in one storage round trip.
//!
//! A repository offers a [`Read`] of one of its records (its key and how its item becomes the
//! record) instead of a key, so a flow can batch reads of different records with [`read_pair`]
//! without knowing any key layout. What a batch brings back is [`Fetched`], not yet decoded: the
//! caller decides when a record's decoding error counts (after the client is established, say).

use std::fmt;

use super::RepoError;
use crate::store::{Item, Key, Store, StoreError};

type Decode<T> = Box<dyn FnOnce(Item) -> Result<Option<T>, RepoError> + Send>;

/// A read of one record: where it lives and how its item becomes a `T` (or nothing, when the
/// item does not hold a live record).
pub struct Read<T> {
    key: Key,
    decode: Decode<T>,
}

impl<T> fmt::Debug for Read<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read").field("key", &self.key).finish()
    }
}

impl<T> Read<T> {
    /// A read of the item at `key`, decoded by `decode`.
    pub(crate) fn new(
        key: Key,
        decode: impl FnOnce(Item) -> Result<Option<T>, RepoError> + Send + 'static,
    ) -> Self {
        Self {
            key,
            decode: Box::new(decode),
        }
    }

    /// The record on its own: one round trip.
    pub async fn get(self, store: &dyn Store) -> Result<Option<T>, RepoError> {
        let item = store.get(&self.key).await?;
        self.fetched(item).decode()
    }

    fn fetched(self, item: Option<Item>) -> Fetched<T> {
        Fetched {
            item,
            decode: self.decode,
        }
    }
}

/// A record read in a batch, decoded on demand.
pub struct Fetched<T> {
    item: Option<Item>,
    decode: Decode<T>,
}

impl<T> fmt::Debug for Fetched<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetched")
            .field("found", &self.item.is_some())
            .finish()
    }
}

impl<T> Fetched<T> {
    /// The record, if one was found.
    pub fn decode(self) -> Result<Option<T>, RepoError> {
        match self.item {
            Some(item) => (self.decode)(item),
            None => Ok(None),
        }
    }
}

/// Reads `first` and, when given, `second` in one round trip (a plain read when alone).
pub async fn read_pair<A, B>(
    store: &dyn Store,
    first: Read<A>,
    second: Option<Read<B>>,
) -> Result<(Fetched<A>, Option<Fetched<B>>), RepoError> {
    let Some(second) = second else {
        let item = store.get(&first.key).await?;
        return Ok((first.fetched(item), None));
    };
    let keys = [first.key.clone(), second.key.clone()];
    let mut items = store.get_many(&keys).await?;
    if items.len() != keys.len() {
        return Err(StoreError::Corrupt(format!(
            "a batched read of {} keys answered {}",
            keys.len(),
            items.len()
        ))
        .into());
    }
    let second_item = items.pop().flatten();
    let first_item = items.pop().flatten();
    Ok((first.fetched(first_item), Some(second.fetched(second_item))))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{Condition, CountingStore};

    fn named(key: Key) -> Read<String> {
        Read::new(key, |item| Ok(Some(item.string("name")?.to_owned())))
    }

    #[tokio::test]
    async fn a_pair_is_one_round_trip_in_order_and_a_single_read_a_plain_get() {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        let store = CountingStore::new(inner);
        let (a, b) = (Key::new("A#1", "X"), Key::new("B#1", "X"));
        store
            .put(Item::new(b.clone()).with("name", "bee"), Condition::None)
            .await
            .unwrap();
        store.take();
        let (first, second) = read_pair(&store, named(a.clone()), Some(named(b.clone())))
            .await
            .unwrap();
        assert_eq!(store.take(), 1);
        assert_eq!(first.decode().unwrap(), None);
        assert_eq!(second.unwrap().decode().unwrap().as_deref(), Some("bee"));

        let (alone, none) = read_pair::<_, String>(&store, named(b), None)
            .await
            .unwrap();
        assert_eq!(store.take(), 1);
        assert!(none.is_none());
        assert_eq!(alone.decode().unwrap().as_deref(), Some("bee"));
    }

    #[tokio::test]
    async fn a_record_that_does_not_decode_fails_only_when_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        let key = Key::new("A#1", "X");
        store
            .put(Item::new(key.clone()).with("name", 7), Condition::None)
            .await
            .unwrap();
        let (fetched, _) = read_pair::<_, String>(&store, named(key), None)
            .await
            .unwrap();
        assert!(matches!(fetched.decode(), Err(RepoError::Corrupt(_))));
    }
}
