//! Batched reads ([`crate::store::Store::get_many`]) as one BatchGetItem: strongly consistent like
//! GetItem, each key asked once (DynamoDB refuses a request naming a key twice), the answers put
//! back in the caller's order, and the keys DynamoDB leaves unprocessed (throttling, or a response
//! over 16 MB) asked again a bounded number of times.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::error::build_error;
use super::item::{item_from_attributes, key_attributes};
use super::names::Attributes;
use super::{backoff, DynamoStore};
use crate::store::{now_unix, validate, Item, Key, StoreError};

/// Requests of one batched read: the first and, while keys stay unprocessed, two more.
const BATCH_ATTEMPTS: u32 = 3;

impl DynamoStore {
    /// [`crate::store::Store::get_many`] on the table.
    pub(super) async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        validate::keys(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_unix();
        let mut found = HashMap::with_capacity(keys.len());
        let mut pending: Vec<Attributes> = unique(keys).map(key_attributes).collect();
        for attempt in 0..BATCH_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt - 1).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(build_error)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|err| self.error("BatchGetItem", &err))?;
            let items = out
                .responses
                .and_then(|mut tables| tables.remove(&self.table))
                .unwrap_or_default();
            for attributes in items {
                let item = item_from_attributes(attributes)?;
                found.insert(item.key.clone(), item);
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(&self.table))
                .map(|unprocessed| unprocessed.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(answers(keys, &found, now));
            }
        }
        tracing::warn!(
            table = %self.table,
            unprocessed = pending.len(),
            attempts = BATCH_ATTEMPTS,
            "DynamoDB BatchGetItem left keys unprocessed, giving up"
        );
        Err(StoreError::Unavailable(format!(
            "DynamoDB BatchGetItem on `{}`: throttled ({} of {} keys still unprocessed after {BATCH_ATTEMPTS} attempts)",
            self.table,
            pending.len(),
            keys.len()
        )))
    }
}

/// Each key once, in first-seen order.
fn unique(keys: &[Key]) -> impl Iterator<Item = &Key> {
    let mut seen = HashSet::with_capacity(keys.len());
    keys.iter().filter(move |key| seen.insert(*key))
}

/// The answer of every key, in the caller's order: the item read at it unless it has expired.
fn answers(keys: &[Key], found: &HashMap<Key, Item>, now: i64) -> Vec<Option<Item>> {
    keys.iter()
        .map(|key| found.get(key).filter(|item| !item.is_expired(now)).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_asked_once_in_first_seen_order() {
        let (a, b) = (Key::new("P", "a"), Key::new("P", "b"));
        let keys = [a.clone(), b.clone(), a.clone(), b.clone()];
        assert_eq!(unique(&keys).collect::<Vec<_>>(), [&a, &b]);
    }

    #[test]
    fn answers_follow_the_keys_and_hide_expired_items() {
        let live = Item::new(Key::new("P", "live"));
        let expired = Item::new(Key::new("P", "old")).expiring_at(100);
        let found = HashMap::from([
            (live.key.clone(), live.clone()),
            (expired.key.clone(), expired.clone()),
        ]);
        let keys = [
            expired.key.clone(),
            live.key.clone(),
            Key::new("P", "missing"),
            live.key.clone(),
        ];
        assert_eq!(
            answers(&keys, &found, 100),
            [None, Some(live.clone()), None, Some(live)]
        );
    }
}
