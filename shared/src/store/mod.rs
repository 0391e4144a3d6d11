//! The storage port: one narrow interface over a single-table model.
//!
//! Every record lives at a [`Key`] (partition key + sort key), carries typed attributes, an optional
//! expiry and an optional secondary-index key (`gsi1`). Domain repositories are written once on top of
//! [`Store`]; the adapters ([`sqlite::SqliteStore`], [`dynamo::DynamoStore`]) are the only code that knows
//! about SQL or `AttributeValue`.
//!
//! Semantics both adapters guarantee (and the contract suite in `tests/` checks):
//! - An item whose `expires_at` is in the past does not exist: reads skip it, conditions treat it as
//!   absent, and an update of it starts from an empty item.
//! - Conditions are evaluated atomically with the write they guard, never as a read before the write.
//! - [`Store::transact`] applies all writes or none and names the first write whose condition failed.

pub mod counting;
pub mod dynamo;
pub mod faults;
pub mod layout;
pub mod observed;
pub mod sqlite;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub use counting::CountingStore;
pub use faults::FaultStore;

/// Attribute names the adapters use for keys, expiry and the index; domain attributes may not use them.
pub const RESERVED_ATTRIBUTES: [&str; 5] = ["pk", "sk", "ttl", "gsi1pk", "gsi1sk"];

/// DynamoDB's transaction limit; the SQLite adapter enforces it too so code that passes locally passes deployed.
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// DynamoDB's item size limit (400 KB), enforced by both adapters.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// Largest page a query may ask for.
pub const MAX_QUERY_LIMIT: u32 = 1000;

/// Most keys one [`Store::get_many`] may read: DynamoDB's BatchGetItem limit, enforced by both
/// adapters.
pub const MAX_BATCH_GET_KEYS: usize = 100;

/// A typed attribute value. Kept to the kinds the domain needs; richer structures are stored as JSON text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    /// UTF-8 string.
    S(String),
    /// 64-bit signed integer.
    N(i64),
    /// Raw bytes.
    B(#[serde(with = "b64")] Vec<u8>),
    /// Boolean.
    Bool(bool),
    /// Ordered list of strings (may be empty).
    L(Vec<String>),
}

impl Value {
    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::S(s) => Some(s),
            _ => None,
        }
    }
    /// The number inside, if this is a number.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::N(n) => Some(*n),
            _ => None,
        }
    }
    /// The bytes inside, if this is binary.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::B(b) => Some(b),
            _ => None,
        }
    }
    /// The boolean inside, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The list inside, if this is a list.
    pub fn as_list(&self) -> Option<&[String]> {
        match self {
            Value::L(l) => Some(l),
            _ => None,
        }
    }
    /// Approximate stored size in bytes, counted the way DynamoDB does (UTF-8 length, 21 bytes per number).
    pub fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(_) => 21,
            Value::B(b) => b.len(),
            Value::Bool(_) => 1,
            Value::L(l) => 3 + l.iter().map(|s| s.len() + 1).sum::<usize>(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::S(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::S(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::N(n)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::B(b)
    }
}
impl From<Vec<String>> for Value {
    fn from(l: Vec<String>) -> Self {
        Value::L(l)
    }
}

mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// Domain attributes of an item, by name.
pub type Attrs = BTreeMap<String, Value>;

/// The primary key of an item (or, for the secondary index, its index key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    /// A key from its two parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

/// One stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Where it lives.
    pub key: Key,
    /// Its domain attributes.
    pub attrs: Attrs,
    /// Unix seconds after which the item no longer exists.
    pub expires_at: Option<i64>,
    /// Its key in the secondary index `gsi1`, if it is indexed there.
    pub gsi1: Option<Key>,
}

impl Item {
    /// An item with no attributes, no expiry and no index key.
    pub fn new(key: Key) -> Self {
        Self {
            key,
            attrs: Attrs::new(),
            expires_at: None,
            gsi1: None,
        }
    }

    /// Builder: set an attribute.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attrs.insert(name.to_owned(), value.into());
        self
    }

    /// Builder: set the expiry (unix seconds).
    pub fn expiring_at(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }

    /// Builder: index the item in `gsi1`.
    pub fn indexed(mut self, gsi1: Key) -> Self {
        self.gsi1 = Some(gsi1);
        self
    }

    /// An attribute by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attrs.get(name)
    }

    /// A string attribute, or an error naming it when missing or of another type.
    pub fn string(&self, name: &str) -> Result<&str, StoreError> {
        self.get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| self.missing(name, "string"))
    }

    /// A number attribute, or an error naming it when missing or of another type.
    pub fn number(&self, name: &str) -> Result<i64, StoreError> {
        self.get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| self.missing(name, "number"))
    }

    /// A binary attribute, or an error naming it when missing or of another type.
    pub fn bytes(&self, name: &str) -> Result<&[u8], StoreError> {
        self.get(name)
            .and_then(Value::as_bytes)
            .ok_or_else(|| self.missing(name, "binary"))
    }

    /// A boolean attribute, or an error naming it when missing or of another type.
    pub fn boolean(&self, name: &str) -> Result<bool, StoreError> {
        self.get(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| self.missing(name, "boolean"))
    }

    /// A list attribute, or an error naming it when missing or of another type.
    pub fn list(&self, name: &str) -> Result<&[String], StoreError> {
        self.get(name)
            .and_then(Value::as_list)
            .ok_or_else(|| self.missing(name, "list"))
    }

    fn missing(&self, name: &str, kind: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "item {} has no {kind} attribute `{name}`",
            self.key
        ))
    }

    /// Whether the item has expired at `now` (unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    /// Approximate stored size, as DynamoDB counts it (names plus values, keys and index keys included).
    pub fn size(&self) -> usize {
        let keys = 2 + self.key.pk.len() + 2 + self.key.sk.len();
        let index = self
            .gsi1
            .as_ref()
            .map_or(0, |k| 6 + k.pk.len() + 6 + k.sk.len());
        let ttl = self.expires_at.map_or(0, |_| 3 + 21);
        let attrs: usize = self.attrs.iter().map(|(k, v)| k.len() + v.size()).sum();
        keys + index + ttl + attrs
    }
}

/// A guard evaluated atomically with the write it belongs to. Expired items count as absent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// No guard.
    None,
    /// No live item exists at the key.
    NotExists,
    /// A live item exists at the key.
    Exists,
    /// A live item exists and its attribute equals the value.
    Equals(String, Value),
    /// A live item exists and every listed attribute equals its value (several guards on one item,
    /// e.g. a grant's generation and its revoked flag).
    AllEqual(Vec<(String, Value)>),
    /// No live item, or the item lacks the numeric attribute, or the attribute is below the limit.
    /// Used for counters (slot capacity, login attempts).
    Below(String, i64),
}

/// Changes to one item. Applied to an absent (or expired) item, it creates the item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// Attributes to set.
    pub set: Attrs,
    /// Attributes to remove.
    pub remove: Vec<String>,
    /// Numbers to add to (a missing attribute counts as 0).
    pub add: Vec<(String, i64)>,
    /// `Some(Some(t))` sets the expiry, `Some(None)` clears it, `None` leaves it.
    pub expires_at: Option<Option<i64>>,
    /// `Some(k)` sets the index key; `None` leaves it.
    pub gsi1: Option<Key>,
}

impl Update {
    /// Builder: set an attribute.
    pub fn set(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set.insert(name.to_owned(), value.into());
        self
    }
    /// Builder: remove an attribute.
    pub fn remove(mut self, name: &str) -> Self {
        self.remove.push(name.to_owned());
        self
    }
    /// Builder: add to a number.
    pub fn add(mut self, name: &str, delta: i64) -> Self {
        self.add.push((name.to_owned(), delta));
        self
    }
    /// Builder: set the expiry.
    pub fn expire_at(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(Some(unix_seconds));
        self
    }
    /// Builder: set the index key.
    pub fn index(mut self, gsi1: Key) -> Self {
        self.gsi1 = Some(gsi1);
        self
    }

    /// Applies the update to a live item (or to nothing) and returns the new item. Both adapters use
    /// this one definition for the SQLite path and for validation, so their results agree.
    pub fn apply(&self, key: &Key, current: Option<Item>) -> Result<Item, StoreError> {
        let mut item = current.unwrap_or_else(|| Item::new(key.clone()));
        for (name, value) in &self.set {
            item.attrs.insert(name.clone(), value.clone());
        }
        for name in &self.remove {
            item.attrs.remove(name);
        }
        for (name, delta) in &self.add {
            let old = match item.attrs.get(name) {
                None => 0,
                Some(Value::N(n)) => *n,
                Some(_) => {
                    return Err(StoreError::Invalid(format!(
                        "cannot add to non-numeric attribute `{name}` of {key}"
                    )))
                }
            };
            let new = old.checked_add(*delta).ok_or_else(|| {
                StoreError::Invalid(format!("number overflow in `{name}` of {key}"))
            })?;
            item.attrs.insert(name.clone(), Value::N(new));
        }
        if let Some(expiry) = self.expires_at {
            item.expires_at = expiry;
        }
        if let Some(index) = &self.gsi1 {
            item.gsi1 = Some(index.clone());
        }
        Ok(item)
    }

    /// Attribute names this update touches, for validation.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.set
            .keys()
            .map(String::as_str)
            .chain(self.remove.iter().map(String::as_str))
            .chain(self.add.iter().map(|(n, _)| n.as_str()))
    }
}

/// One write of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Replace the whole item.
    Put {
        /// The new item.
        item: Item,
        /// Its guard.
        condition: Condition,
    },
    /// Change some attributes.
    Update {
        /// Which item.
        key: Key,
        /// The changes.
        update: Update,
        /// Its guard.
        condition: Condition,
    },
    /// Remove the item.
    Delete {
        /// Which item.
        key: Key,
        /// Its guard.
        condition: Condition,
    },
    /// Only check a condition on an item, writing nothing to it.
    Check {
        /// Which item.
        key: Key,
        /// The guard.
        condition: Condition,
    },
}

impl Write {
    /// The key this write touches.
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Update { key, .. } | Write::Delete { key, .. } | Write::Check { key, .. } => key,
        }
    }
    /// The guard of this write.
    pub fn condition(&self) -> &Condition {
        match self {
            Write::Put { condition, .. }
            | Write::Update { condition, .. }
            | Write::Delete { condition, .. }
            | Write::Check { condition, .. } => condition,
        }
    }
}

/// Which key a query runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Index {
    /// The table's own key.
    #[default]
    Primary,
    /// The secondary index `gsi1` (eventually consistent when deployed).
    Gsi1,
}

/// Which sort keys of a partition a query returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SortKeyRange {
    /// Every item of the partition.
    #[default]
    All,
    /// Sort keys starting with the prefix.
    Prefix(String),
    /// Sort keys between the two bounds, both inclusive.
    Between(String, String),
}

/// A query of one partition, in sort-key order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Table key or secondary index.
    pub index: Index,
    /// The partition.
    pub pk: String,
    /// Which sort keys.
    pub range: SortKeyRange,
    /// At most this many items in the page (1..=[`MAX_QUERY_LIMIT`]).
    pub limit: u32,
    /// Where the previous page stopped.
    pub cursor: Option<Cursor>,
    /// Highest sort key first.
    pub descending: bool,
}

impl Query {
    /// All items of a partition on the table key, ascending, a page of `limit`.
    pub fn partition(pk: impl Into<String>, limit: u32) -> Self {
        Self {
            pk: pk.into(),
            limit,
            ..Self::default()
        }
    }
    /// Builder: sort keys with a prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.range = SortKeyRange::Prefix(prefix.into());
        self
    }
    /// Builder: sort keys between two inclusive bounds.
    pub fn between(mut self, low: impl Into<String>, high: impl Into<String>) -> Self {
        self.range = SortKeyRange::Between(low.into(), high.into());
        self
    }
    /// Builder: continue after a cursor.
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
    /// Builder: newest (highest sort key) first.
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }
    /// Builder: on the secondary index.
    pub fn on_index(mut self) -> Self {
        self.index = Index::Gsi1;
        self
    }
}

/// One page of a query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The live items, in order.
    pub items: Vec<Item>,
    /// Where to continue, when there may be more.
    pub next: Option<Cursor>,
}

/// Where a query page stopped: the key of the last item it looked at (and its index key on `gsi1`).
/// Opaque to callers; serialised as URL-safe base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Table key of the last item.
    pub key: Key,
    /// Index key of the last item, for index queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1: Option<Key>,
}

impl Cursor {
    /// URL-safe text form.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("cursor serialises");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }
    /// Parses the text form; anything else is [`StoreError::Invalid`].
    pub fn decode(text: &str) -> Result<Self, StoreError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| StoreError::Invalid("malformed cursor".into()))?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::Invalid("malformed cursor".into()))
    }
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A single write's condition did not hold; `current` is the live item that made it fail, if any.
    #[error("condition failed")]
    ConditionFailed {
        /// The live item at the key when the condition was evaluated.
        current: Option<Box<Item>>,
    },
    /// A transaction was not applied because the condition of write `index` did not hold.
    #[error("transaction cancelled: condition of write {index} failed")]
    TransactionFailed {
        /// Position of the failing write in the transaction.
        index: usize,
        /// The live item at that write's key, if any.
        current: Option<Box<Item>>,
    },
    /// Another transaction on the same items was in flight and retries did not get through.
    #[error("conflict with a concurrent write")]
    Conflict,
    /// The store cannot be reached or is throttling; worth retrying later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The request breaks a rule of the store (size, names, limits).
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// Stored data does not have the expected shape.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether this is a condition failure (of a single write or a transaction).
    pub fn is_condition_failure(&self) -> bool {
        matches!(
            self,
            StoreError::ConditionFailed { .. } | StoreError::TransactionFailed { .. }
        )
    }
}

/// The storage port. Implemented by the SQLite and DynamoDB adapters and by the wrappers
/// [`CountingStore`] and [`FaultStore`].
/// Every method is one round trip to the store.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The live item at `key`, if any (strongly consistent).
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The live items at `keys`, in the keys' order (`None` for a missing or expired one), in one
    /// round trip and strongly consistent like [`Store::get`]. A key may appear twice (same answer
    /// twice); no keys cost no call; more than [`MAX_BATCH_GET_KEYS`] is [`StoreError::Invalid`].
    /// Not a snapshot: each item is as fresh as a `get` of it at some moment of the call.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// Writes the whole item if `condition` holds; returns the live item it replaced.
    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError>;

    /// Applies `update` if `condition` holds; returns the item as it is after the update.
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError>;

    /// Deletes the item if `condition` holds; returns the live item it removed.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError>;

    /// Applies every write or none. At most [`MAX_TRANSACTION_WRITES`], each on a different key.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// One page of a partition in sort-key order, live items only.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
}

/// A shared handle to a store, as functions keep it across warm invocations.
pub type SharedStore = Arc<dyn Store>;

/// Current time in unix seconds, as both adapters use it for expiry.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Current time in unix milliseconds, for ordering events closer than a second apart (a consent
/// withdrawn and given again at once).
pub fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Evaluates a condition against the live item at its key. The SQLite adapter uses this inside its
/// write transaction; the DynamoDB adapter translates the same rules into condition expressions.
pub fn condition_holds(condition: &Condition, live: Option<&Item>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => live.is_none(),
        Condition::Exists => live.is_some(),
        Condition::Equals(name, value) => live.and_then(|i| i.get(name)) == Some(value),
        Condition::AllEqual(pairs) => {
            live.is_some_and(|i| pairs.iter().all(|(name, value)| i.get(name) == Some(value)))
        }
        Condition::Below(name, limit) => match live.and_then(|i| i.get(name)) {
            None => true,
            Some(Value::N(n)) => n < limit,
            Some(_) => false,
        },
    }
}
