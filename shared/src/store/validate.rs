//! Checks rules both adapters share, so a request DynamoDB would reject fails the same way locally.

use super::*;

/// Keys: non-empty, at most 1 KB (DynamoDB's sort-key limit, also applied to the partition key).
pub fn key(key: &Key) -> Result<(), StoreError> {
    for (part, name) in [(&key.pk, "partition key"), (&key.sk, "sort key")] {
        if part.is_empty() {
            return Err(StoreError::Invalid(format!("empty {name}")));
        }
        if part.len() > 1024 {
            return Err(StoreError::Invalid(format!(
                "{name} longer than 1024 bytes"
            )));
        }
    }
    Ok(())
}

/// The keys of a batched read: at most [`MAX_BATCH_GET_KEYS`], each valid.
pub fn keys(keys: &[Key]) -> Result<(), StoreError> {
    if keys.len() > MAX_BATCH_GET_KEYS {
        return Err(StoreError::Invalid(format!(
            "a batched read of {} keys exceeds the limit of {MAX_BATCH_GET_KEYS}",
            keys.len()
        )));
    }
    keys.iter().try_for_each(key)
}

/// Attribute names: 1..=255 ASCII letters, digits and underscores, not reserved.
pub fn attribute_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(StoreError::Invalid(format!("bad attribute name `{name}`")));
    }
    if RESERVED_ATTRIBUTES.contains(&name) {
        return Err(StoreError::Invalid(format!(
            "attribute name `{name}` is reserved for the store"
        )));
    }
    Ok(())
}

/// A whole item: key, index key, names and size.
pub fn item(item: &Item) -> Result<(), StoreError> {
    key(&item.key)?;
    if let Some(index) = &item.gsi1 {
        self::key(index)?;
    }
    for name in item.attrs.keys() {
        attribute_name(name)?;
    }
    if item.size() > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!(
            "item {} is larger than DynamoDB's 400 KB limit",
            item.key
        )));
    }
    Ok(())
}

/// A condition's attribute name, if it has one.
pub fn condition(condition: &Condition) -> Result<(), StoreError> {
    match condition {
        Condition::Equals(name, _) | Condition::Below(name, _) => attribute_name(name),
        Condition::AllEqual(pairs) => {
            if pairs.is_empty() {
                return Err(StoreError::Invalid(
                    "AllEqual needs at least one attribute".into(),
                ));
            }
            pairs.iter().try_for_each(|(name, _)| attribute_name(name))
        }
        _ => Ok(()),
    }
}

/// An update: names, and no attribute touched twice (DynamoDB rejects overlapping paths).
pub fn update(k: &Key, update: &Update) -> Result<(), StoreError> {
    key(k)?;
    if let Some(index) = &update.gsi1 {
        key(index)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in update.names() {
        attribute_name(name)?;
        if !seen.insert(name) {
            return Err(StoreError::Invalid(format!(
                "attribute `{name}` appears twice in one update"
            )));
        }
    }
    Ok(())
}

/// A transaction: 1..=100 writes, each valid, no key twice.
pub fn transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Err(StoreError::Invalid("empty transaction".into()));
    }
    if writes.len() > MAX_TRANSACTION_WRITES {
        return Err(StoreError::Invalid(format!(
            "transaction of {} writes exceeds the limit of {MAX_TRANSACTION_WRITES}",
            writes.len()
        )));
    }
    let mut keys = std::collections::BTreeSet::new();
    for write in writes {
        if !keys.insert(write.key()) {
            return Err(StoreError::Invalid(format!(
                "transaction touches {} twice",
                write.key()
            )));
        }
        condition(write.condition())?;
        match write {
            Write::Put { item, .. } => self::item(item)?,
            Write::Update {
                key: k, update: u, ..
            } => self::update(k, u)?,
            Write::Delete { key: k, .. } | Write::Check { key: k, .. } => key(k)?,
        }
    }
    Ok(())
}

/// A query: a partition and a sane limit.
pub fn query(query: &Query) -> Result<(), StoreError> {
    if query.pk.is_empty() {
        return Err(StoreError::Invalid("empty partition key in query".into()));
    }
    if query.limit == 0 || query.limit > MAX_QUERY_LIMIT {
        return Err(StoreError::Invalid(format!(
            "query limit must be 1..={MAX_QUERY_LIMIT}"
        )));
    }
    if let SortKeyRange::Between(low, high) = &query.range {
        if low > high {
            return Err(StoreError::Invalid(
                "query range low bound is above its high bound".into(),
            ));
        }
    }
    Ok(())
}
