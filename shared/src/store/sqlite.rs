//! SQLite adapter of the storage port, for local runs and tests.
//!
//! One database file is used by several processes at once (`cargo lambda watch` runs every function as
//! its own process, and the admin CLI opens the same file), so correctness rests on SQLite's file locks,
//! never on anything held in one process:
//! - WAL journal mode, so readers neither block nor are blocked by the writer;
//! - every write starts with `BEGIN IMMEDIATE`, taking the write lock *before* reading the rows its
//!   conditions depend on. A deferred transaction would read first and upgrade later, and an upgrade that
//!   finds the lock taken fails with `SQLITE_BUSY` at once instead of waiting;
//! - a busy timeout, so writers queue for the lock instead of failing.
//!
//! rusqlite is synchronous: every call runs on tokio's blocking pool with a connection of its own from a
//! small pool, so concurrent tasks of one process contend on the lock exactly as separate processes do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    params, params_from_iter, Connection, ErrorCode, OpenFlags, OptionalExtension, Row,
    Transaction, TransactionBehavior,
};

use super::{
    condition_holds, now_unix, validate, Attrs, Condition, Cursor, Index, Item, Key, Page, Query,
    SortKeyRange, Store, StoreError, Update, Write,
};

/// Version of the schema below, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// How long a write waits for another connection (or process) to release the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections kept open between calls; more are opened under load and closed afterwards.
const MAX_IDLE_CONNECTIONS: usize = 8;

/// One table mirroring the DynamoDB single table. `attrs` is the JSON of [`Attrs`]; the index is on
/// `(gsi1pk, gsi1sk)` and, the table being `WITHOUT ROWID`, its entries end with `(pk, sk)`, which makes
/// `(gsi1sk, pk, sk)` a total order the index can serve.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk         TEXT    NOT NULL,
    sk         TEXT    NOT NULL,
    attrs      TEXT    NOT NULL,
    expires_at INTEGER NULL,
    gsi1pk     TEXT    NULL,
    gsi1sk     TEXT    NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk);
";

const COLUMNS: &str = "pk, sk, attrs, expires_at, gsi1pk, gsi1sk";

/// The storage port on a SQLite file. Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating file, parent directories and schema if missing) the database at `path`.
    ///
    /// Safe to call from several processes on a new file at the same moment. Fails with
    /// [`StoreError::Unavailable`] naming the path when the file cannot be opened or created, or when it
    /// was written by a newer schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        Self::open_with_busy_timeout(path.as_ref(), BUSY_TIMEOUT)
    }

    /// The database file this store uses.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    fn open_with_busy_timeout(
        path: &Path,
        busy_timeout: Duration,
    ) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create directory {} for database {}: {e}",
                    parent.display(),
                    path.display()
                ))
            })?;
        }
        let mut conn = connect(path, busy_timeout)?;
        migrate(&mut conn, path)?;
        let shared = Shared {
            path: path.to_path_buf(),
            busy_timeout,
            idle: Mutex::new(Vec::new()),
        };
        shared.give(conn);
        tracing::debug!(path = %path.display(), "sqlite store opened");
        Ok(SqliteStore {
            shared: Arc::new(shared),
        })
    }

    /// Runs `op` on a pooled connection on the blocking pool.
    async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let result = tokio::task::spawn_blocking(move || {
            let mut conn = shared.take()?;
            let result = op(&mut conn);
            shared.give(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("storage worker stopped: {e}")))?;
        if let Err(StoreError::Unavailable(reason)) = &result {
            tracing::warn!(path = %self.shared.path.display(), %reason, "sqlite store unavailable");
        }
        result
    }
}

impl Shared {
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => connect(&self.path, self.busy_timeout),
        }
    }

    fn give(&self, conn: Connection) {
        // A transaction left open by a failed ROLLBACK must not leak into the next caller's work.
        if !conn.is_autocommit()
            && (conn.execute_batch("ROLLBACK").is_err() || !conn.is_autocommit())
        {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_CONNECTIONS {
            idle.push(conn);
        }
    }
}

/// Opens one connection with the settings every connection needs (they are per connection).
fn connect(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let failed = |e: rusqlite::Error| {
        StoreError::Unavailable(format!("cannot open database {}: {e}", path.display()))
    };
    // No SQLITE_OPEN_URI: a path is a path, even if it starts with `file:`.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(failed)?;
    conn.busy_timeout(busy_timeout).map_err(failed)?;
    let mode = enable_wal(&conn, Instant::now() + busy_timeout).map_err(failed)?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Still correct (BEGIN IMMEDIATE + busy timeout), only readers now wait for writers.
        tracing::warn!(path = %path.display(), %mode, "sqlite could not switch to WAL journal mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(failed)?;
    Ok(conn)
}

/// Switching to WAL needs an exclusive lock and does not always go through the busy handler, so a
/// process opening a new file while another one initialises it retries until the deadline.
fn enable_wal(conn: &Connection, deadline: Instant) -> rusqlite::Result<String> {
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Creates or checks the schema. Runs under the write lock, so processes opening a new file together
/// create it once and the others see it done. Also drops expired rows, as DynamoDB's TTL eventually does.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let failed = |e: rusqlite::Error| match sql_error(e) {
        StoreError::Unavailable(reason) => {
            StoreError::Unavailable(format!("cannot open database {}: {reason}", path.display()))
        }
        other => other,
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(failed)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Unavailable(format!(
            "database {} has schema version {version}, newer than version {SCHEMA_VERSION} this build understands",
            path.display()
        )));
    }
    if version < SCHEMA_VERSION {
        tx.execute_batch(SCHEMA).map_err(failed)?;
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(failed)?;
    }
    let purged = tx
        .execute(
            "DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1",
            [now_unix()],
        )
        .map_err(failed)?;
    tx.commit().map_err(failed)?;
    if purged > 0 {
        tracing::debug!(path = %path.display(), purged, "expired items removed");
    }
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn sql_error(e: rusqlite::Error) -> StoreError {
    if is_busy(&e) {
        return StoreError::Unavailable("database is busy".into());
    }
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt(format!("database file is damaged: {e}"))
        }
        Some(_) => StoreError::Unavailable(format!("sqlite: {e}")),
        None => match e {
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(..) => {
                StoreError::Corrupt(format!("unexpected stored value: {e}"))
            }
            other => StoreError::Unavailable(format!("sqlite: {other}")),
        },
    }
}

/// A row as stored, before its attributes are decoded.
struct RawRow {
    pk: String,
    sk: String,
    attrs: String,
    expires_at: Option<i64>,
    gsi1pk: Option<String>,
    gsi1sk: Option<String>,
}

impl RawRow {
    /// Reads the columns of [`COLUMNS`], in that order.
    fn read(row: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            pk: row.get(0)?,
            sk: row.get(1)?,
            attrs: row.get(2)?,
            expires_at: row.get(3)?,
            gsi1pk: row.get(4)?,
            gsi1sk: row.get(5)?,
        })
    }

    fn into_item(self) -> Result<Item, StoreError> {
        let key = Key::new(self.pk, self.sk);
        let attrs: Attrs = serde_json::from_str(&self.attrs).map_err(|e| {
            StoreError::Corrupt(format!("item {key} has undecodable attributes: {e}"))
        })?;
        let gsi1 = match (self.gsi1pk, self.gsi1sk) {
            (Some(pk), Some(sk)) => Some(Key::new(pk, sk)),
            (None, None) => None,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "item {key} has half of its gsi1 key"
                )))
            }
        };
        Ok(Item {
            key,
            attrs,
            expires_at: self.expires_at,
            gsi1,
        })
    }
}

/// Starts a write transaction holding the write lock, runs `body` with the current time, and commits
/// only if it succeeds.
fn in_write_transaction<T>(
    conn: &mut Connection,
    body: impl FnOnce(&Transaction<'_>, i64) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_error)?;
    // Read after the lock is held, so expiry is judged as of the moment the write really happens.
    let now = now_unix();
    match body(&tx, now) {
        Ok(value) => {
            tx.commit().map_err(sql_error)?;
            Ok(value)
        }
        Err(e) => {
            // If this fails, the pool sees the open transaction and discards the connection.
            let _ = tx.rollback();
            Err(e)
        }
    }
}

/// The row at `key` unless it is missing or expired at `now`.
fn load_live(conn: &Connection, key: &Key, now: i64) -> Result<Option<Item>, StoreError> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2"
        ))
        .and_then(|mut stmt| {
            stmt.query_row(params![key.pk, key.sk], RawRow::read)
                .optional()
        })
        .map_err(sql_error)?;
    match raw {
        Some(raw) if raw.expires_at.is_none_or(|t| t > now) => raw.into_item().map(Some),
        _ => Ok(None),
    }
}

fn store_item(conn: &Connection, item: &Item) -> Result<(), StoreError> {
    let attrs = serde_json::to_string(&item.attrs).map_err(|e| {
        StoreError::Invalid(format!("attributes of {} cannot be encoded: {e}", item.key))
    })?;
    let (gsi1pk, gsi1sk) = match &item.gsi1 {
        Some(index) => (Some(index.pk.as_str()), Some(index.sk.as_str())),
        None => (None, None),
    };
    conn.prepare_cached(&format!(
        "INSERT INTO items ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (pk, sk) DO UPDATE SET attrs = excluded.attrs, expires_at = excluded.expires_at,
             gsi1pk = excluded.gsi1pk, gsi1sk = excluded.gsi1sk"
    ))
    .and_then(|mut stmt| {
        stmt.execute(params![
            item.key.pk,
            item.key.sk,
            attrs,
            item.expires_at,
            gsi1pk,
            gsi1sk
        ])
    })
    .map_err(sql_error)?;
    Ok(())
}

fn delete_row(conn: &Connection, key: &Key) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
        .and_then(|mut stmt| stmt.execute(params![key.pk, key.sk]))
        .map_err(sql_error)?;
    Ok(())
}

/// The new item an update produces, checked as a whole (an update can grow an item past the size limit).
fn updated(key: &Key, update: &Update, live: Option<Item>) -> Result<Item, StoreError> {
    let item = update.apply(key, live)?;
    validate::item(&item)?;
    Ok(item)
}

/// The smallest string above every string that starts with `prefix`, if there is one. Comparing against
/// it keeps a prefix query a plain range on the index, with no pattern syntax to escape. SQLite compares
/// TEXT bytewise and UTF-8 byte order is code point order, so incrementing the last code point that can
/// be incremented (dropping trailing `char::MAX`) gives the bound.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            char::MAX => None,
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The SQL and parameters of one query page (fetching one row more than the limit, to know whether
/// another page follows). Rejects a cursor that does not belong to the query.
fn page_sql(query: &Query, now: i64) -> Result<(String, Vec<SqlValue>), StoreError> {
    let (pk_col, sk_col) = match query.index {
        Index::Primary => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
    };
    let mut sql = format!("SELECT {COLUMNS} FROM items WHERE {pk_col} = ?");
    let mut args = vec![SqlValue::Text(query.pk.clone())];
    match &query.range {
        SortKeyRange::All => {}
        SortKeyRange::Prefix(prefix) if prefix.is_empty() => {}
        SortKeyRange::Prefix(prefix) => {
            sql.push_str(&format!(" AND {sk_col} >= ?"));
            args.push(SqlValue::Text(prefix.clone()));
            if let Some(upper) = prefix_upper_bound(prefix) {
                sql.push_str(&format!(" AND {sk_col} < ?"));
                args.push(SqlValue::Text(upper));
            }
        }
        SortKeyRange::Between(low, high) => {
            sql.push_str(&format!(" AND {sk_col} >= ? AND {sk_col} <= ?"));
            args.push(SqlValue::Text(low.clone()));
            args.push(SqlValue::Text(high.clone()));
        }
    }
    let (after, direction) = if query.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(cursor) = &query.cursor {
        let foreign = || StoreError::Invalid("cursor does not belong to this query".into());
        match query.index {
            Index::Primary => {
                if cursor.key.pk != query.pk {
                    return Err(foreign());
                }
                sql.push_str(&format!(" AND sk {after} ?"));
                args.push(SqlValue::Text(cursor.key.sk.clone()));
            }
            Index::Gsi1 => {
                let index = cursor
                    .gsi1
                    .as_ref()
                    .filter(|index| index.pk == query.pk)
                    .ok_or_else(foreign)?;
                sql.push_str(&format!(" AND (gsi1sk, pk, sk) {after} (?, ?, ?)"));
                args.push(SqlValue::Text(index.sk.clone()));
                args.push(SqlValue::Text(cursor.key.pk.clone()));
                args.push(SqlValue::Text(cursor.key.sk.clone()));
            }
        }
    }
    sql.push_str(" AND (expires_at IS NULL OR expires_at > ?)");
    args.push(SqlValue::Integer(now));
    match query.index {
        Index::Primary => sql.push_str(&format!(" ORDER BY sk {direction}")),
        Index::Gsi1 => sql.push_str(&format!(
            " ORDER BY gsi1sk {direction}, pk {direction}, sk {direction}"
        )),
    }
    sql.push_str(" LIMIT ?");
    args.push(SqlValue::Integer(i64::from(query.limit) + 1));
    Ok((sql, args))
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        let key = key.clone();
        self.run(move |conn| load_live(conn, &key, now_unix()))
            .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        validate::item(&item)?;
        validate::condition(&condition)?;
        self.run(move |conn| {
            in_write_transaction(conn, |tx, now| {
                let live = load_live(tx, &item.key, now)?;
                if !condition_holds(&condition, live.as_ref()) {
                    return Err(StoreError::ConditionFailed {
                        current: live.map(Box::new),
                    });
                }
                store_item(tx, &item)?;
                Ok(live)
            })
        })
        .await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        validate::update(key, &update)?;
        validate::condition(&condition)?;
        let key = key.clone();
        self.run(move |conn| {
            in_write_transaction(conn, |tx, now| {
                let live = load_live(tx, &key, now)?;
                if !condition_holds(&condition, live.as_ref()) {
                    return Err(StoreError::ConditionFailed {
                        current: live.map(Box::new),
                    });
                }
                let item = updated(&key, &update, live)?;
                store_item(tx, &item)?;
                Ok(item)
            })
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        validate::condition(&condition)?;
        let key = key.clone();
        self.run(move |conn| {
            in_write_transaction(conn, |tx, now| {
                let live = load_live(tx, &key, now)?;
                if !condition_holds(&condition, live.as_ref()) {
                    return Err(StoreError::ConditionFailed {
                        current: live.map(Box::new),
                    });
                }
                // Also removes an expired row, as DynamoDB would.
                delete_row(tx, &key)?;
                Ok(live)
            })
        })
        .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate::transaction(&writes)?;
        self.run(move |conn| {
            in_write_transaction(conn, |tx, now| {
                // Every condition first, so the reported failure is the first failing write in order
                // whatever the later writes would do.
                let mut lives = Vec::with_capacity(writes.len());
                for (index, write) in writes.iter().enumerate() {
                    let live = load_live(tx, write.key(), now)?;
                    if !condition_holds(write.condition(), live.as_ref()) {
                        return Err(StoreError::TransactionFailed {
                            index,
                            current: live.map(Box::new),
                        });
                    }
                    lives.push(live);
                }
                for (write, live) in writes.iter().zip(lives) {
                    match write {
                        Write::Put { item, .. } => store_item(tx, item)?,
                        Write::Update { key, update, .. } => {
                            store_item(tx, &updated(key, update, live)?)?;
                        }
                        Write::Delete { key, .. } => delete_row(tx, key)?,
                        Write::Check { .. } => {}
                    }
                }
                Ok(())
            })
        })
        .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        validate::query(&query)?;
        let (sql, args) = page_sql(&query, now_unix())?;
        let limit = query.limit as usize;
        let index = query.index;
        self.run(move |conn| {
            let rows = conn
                .prepare_cached(&sql)
                .and_then(|mut stmt| {
                    stmt.query_map(params_from_iter(args), RawRow::read)?
                        .collect::<rusqlite::Result<Vec<RawRow>>>()
                })
                .map_err(sql_error)?;
            let more = rows.len() > limit;
            let items = rows
                .into_iter()
                .take(limit)
                .map(RawRow::into_item)
                .collect::<Result<Vec<Item>, StoreError>>()?;
            let next = match items.last() {
                Some(last) if more => Some(Cursor {
                    key: last.key.clone(),
                    gsi1: match index {
                        Index::Primary => None,
                        Index::Gsi1 => last.gsi1.clone(),
                    },
                }),
                _ => None,
            };
            Ok(Page { items, next })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;
    use std::collections::BTreeSet;

    fn store_in(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(dir.path().join("portal.db")).unwrap()
    }

    fn key(pk: &str, sk: &str) -> Key {
        Key::new(pk, sk)
    }

    fn past() -> i64 {
        now_unix() - 10
    }

    fn future() -> i64 {
        now_unix() + 3600
    }

    /// Pages through a query to the end, passing the cursor through its text form as a client would.
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

    #[test]
    fn the_store_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<SqliteStore>();
    }

    #[tokio::test]
    async fn put_then_get_round_trips_every_value_kind() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let item = Item::new(key("USER#1", "PROFILE"))
            .with("name", "Zoë \u{1F600} \"quoted\" \0 nul")
            .with("empty", "")
            .with("min", i64::MIN)
            .with("max", i64::MAX)
            .with("bytes", vec![0u8, 255, 128, 10])
            .with("no_bytes", Vec::<u8>::new())
            .with("yes", true)
            .with("no", false)
            .with("list", vec!["a".to_owned(), String::new(), "ü".to_owned()])
            .with("empty_list", Vec::<String>::new())
            .expiring_at(future())
            .indexed(key("EMAIL#zoe@example.org", "USER#1"));
        assert_eq!(
            store.put(item.clone(), Condition::None).await.unwrap(),
            None
        );
        assert_eq!(store.get(&item.key).await.unwrap(), Some(item.clone()));
        assert_eq!(item.get("min"), Some(&Value::N(i64::MIN)));
    }

    #[tokio::test]
    async fn get_of_a_missing_key_is_none_and_an_empty_key_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        assert_eq!(store.get(&key("A", "B")).await.unwrap(), None);
        assert!(matches!(
            store.get(&key("A", "")).await,
            Err(StoreError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn put_returns_the_live_item_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let first = Item::new(key("P", "S")).with("v", 1);
        let second = Item::new(key("P", "S")).with("w", 2);
        store.put(first.clone(), Condition::None).await.unwrap();
        assert_eq!(
            store.put(second.clone(), Condition::None).await.unwrap(),
            Some(first)
        );
        // A put replaces the whole item: the old attribute is gone.
        assert_eq!(store.get(&second.key).await.unwrap(), Some(second));
    }

    #[tokio::test]
    async fn not_exists_fails_on_a_live_item_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let item = Item::new(key("P", "S")).with("v", 1);
        store.put(item.clone(), Condition::NotExists).await.unwrap();
        let err = store
            .put(Item::new(key("P", "S")).with("v", 2), Condition::NotExists)
            .await
            .unwrap_err();
        match err {
            StoreError::ConditionFailed { current } => assert_eq!(current.as_deref(), Some(&item)),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(store.get(&item.key).await.unwrap(), Some(item));
    }

    #[tokio::test]
    async fn exists_fails_on_an_absent_item_and_holds_on_a_live_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let item = Item::new(key("P", "S")).with("v", 1);
        let err = store
            .put(item.clone(), Condition::Exists)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ConditionFailed { current: None }));
        assert_eq!(store.get(&item.key).await.unwrap(), None);
        store.put(item.clone(), Condition::None).await.unwrap();
        store
            .put(item.clone().with("v", 2), Condition::Exists)
            .await
            .unwrap();
        assert_eq!(
            store
                .get(&item.key)
                .await
                .unwrap()
                .unwrap()
                .number("v")
                .unwrap(),
            2
        );
    }

    #[tokio::test]
    async fn equals_compares_the_attribute_value_and_its_type() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("P", "S");
        store
            .put(
                Item::new(k.clone()).with("state", "open").with("n", 1),
                Condition::None,
            )
            .await
            .unwrap();
        for wrong in [
            Condition::Equals("state".into(), Value::from("closed")),
            Condition::Equals("n".into(), Value::from("1")),
            Condition::Equals("missing".into(), Value::from("open")),
        ] {
            let err = store
                .update(&k, Update::default().set("state", "closed"), wrong)
                .await
                .unwrap_err();
            assert!(matches!(
                err,
                StoreError::ConditionFailed { current: Some(_) }
            ));
        }
        let err = store
            .update(
                &key("P", "absent"),
                Update::default().set("state", "closed"),
                Condition::Equals("state".into(), Value::from("open")),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ConditionFailed { current: None }));
        let updated = store
            .update(
                &k,
                Update::default().set("state", "closed"),
                Condition::Equals("state".into(), Value::from("open")),
            )
            .await
            .unwrap();
        assert_eq!(updated.string("state").unwrap(), "closed");
    }

    #[tokio::test]
    async fn all_equal_needs_every_listed_attribute_to_match() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("GRANT#1", "GRANT");
        let guard = |generation: i64, revoked: bool| {
            Condition::AllEqual(vec![
                ("generation".into(), Value::N(generation)),
                ("revoked".into(), Value::Bool(revoked)),
            ])
        };
        let err = store
            .update(&k, Update::default().add("generation", 1), guard(0, false))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ConditionFailed { current: None }));
        store
            .put(
                Item::new(k.clone())
                    .with("generation", 3)
                    .with("revoked", false),
                Condition::None,
            )
            .await
            .unwrap();
        for wrong in [guard(2, false), guard(3, true)] {
            let err = store
                .update(&k, Update::default().add("generation", 1), wrong)
                .await
                .unwrap_err();
            assert!(matches!(
                err,
                StoreError::ConditionFailed { current: Some(_) }
            ));
        }
        let new = store
            .update(&k, Update::default().add("generation", 1), guard(3, false))
            .await
            .unwrap();
        assert_eq!(new.number("generation").unwrap(), 4);
        assert!(matches!(
            store
                .update(
                    &k,
                    Update::default().add("generation", 1),
                    Condition::AllEqual(vec![])
                )
                .await,
            Err(StoreError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn below_admits_absent_items_missing_attributes_and_smaller_numbers_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("SLOT#1", "COUNT");
        let bump = || Update::default().add("taken", 1);
        let below_two = || Condition::Below("taken".into(), 2);
        // Absent item, then 1 < 2: both admitted.
        assert_eq!(
            store
                .update(&k, bump(), below_two())
                .await
                .unwrap()
                .number("taken")
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .update(&k, bump(), below_two())
                .await
                .unwrap()
                .number("taken")
                .unwrap(),
            2
        );
        // 2 is not below 2.
        let err = store.update(&k, bump(), below_two()).await.unwrap_err();
        assert!(matches!(
            err,
            StoreError::ConditionFailed { current: Some(_) }
        ));
        assert_eq!(
            store
                .get(&k)
                .await
                .unwrap()
                .unwrap()
                .number("taken")
                .unwrap(),
            2
        );
        // An item without the attribute is admitted; one with a non-number is not.
        let other = key("SLOT#2", "COUNT");
        store
            .put(Item::new(other.clone()).with("label", "x"), Condition::None)
            .await
            .unwrap();
        store.update(&other, bump(), below_two()).await.unwrap();
        let text = key("SLOT#3", "COUNT");
        store
            .put(
                Item::new(text.clone()).with("taken", "zero"),
                Condition::None,
            )
            .await
            .unwrap();
        assert!(store
            .update(&text, Update::default().set("x", 1), below_two())
            .await
            .unwrap_err()
            .is_condition_failure());
    }

    #[tokio::test]
    async fn update_adds_sets_and_removes_and_returns_the_new_item() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("P", "S");
        store
            .put(
                Item::new(k.clone())
                    .with("keep", "k")
                    .with("gone", "g")
                    .with("n", 5),
                Condition::None,
            )
            .await
            .unwrap();
        let expiry = future();
        let new = store
            .update(
                &k,
                Update::default()
                    .set("fresh", true)
                    .remove("gone")
                    .add("n", -7)
                    .add("m", 3)
                    .expire_at(expiry)
                    .index(key("G", "1")),
                Condition::Exists,
            )
            .await
            .unwrap();
        let expected = Item::new(k.clone())
            .with("keep", "k")
            .with("fresh", true)
            .with("n", -2)
            .with("m", 3)
            .expiring_at(expiry)
            .indexed(key("G", "1"));
        assert_eq!(new, expected);
        assert_eq!(store.get(&k).await.unwrap(), Some(expected));
    }

    #[tokio::test]
    async fn update_creates_an_absent_item() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("P", "new");
        let new = store
            .update(
                &k,
                Update::default().set("a", "b").add("n", 2),
                Condition::NotExists,
            )
            .await
            .unwrap();
        assert_eq!(new, Item::new(k.clone()).with("a", "b").with("n", 2));
        assert_eq!(store.get(&k).await.unwrap(), Some(new));
    }

    #[tokio::test]
    async fn an_invalid_update_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("P", "S");
        let item = Item::new(k.clone()).with("s", "text").with("big", i64::MAX);
        store.put(item.clone(), Condition::None).await.unwrap();
        for bad in [
            Update::default().set("x", 1).add("s", 1),
            Update::default().set("x", 1).add("big", 1),
            Update::default().set("x", "y".repeat(crate::store::MAX_ITEM_BYTES)),
        ] {
            let err = store.update(&k, bad, Condition::None).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        for rejected in [
            Update::default().set("pk", "x"),
            Update::default().set("a", 1).remove("a"),
        ] {
            let err = store
                .update(&k, rejected, Condition::None)
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        assert_eq!(store.get(&k).await.unwrap(), Some(item));
    }

    #[tokio::test]
    async fn an_invalid_put_is_rejected_before_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        for bad in [
            Item::new(key("", "S")),
            Item::new(key("P", "S")).with("ttl", 1),
            Item::new(key("P", "S")).with("bad-name", 1),
            Item::new(key("P", "S")).indexed(key("G", "")),
        ] {
            let err = store.put(bad, Condition::None).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        let err = store
            .put(
                Item::new(key("P", "S")),
                Condition::Equals("gsi1pk".into(), Value::from("x")),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
        assert_eq!(store.get(&key("P", "S")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_expired_item_is_invisible_to_get_and_query() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let gone = Item::new(key("P", "a"))
            .with("v", 1)
            .expiring_at(past())
            .indexed(key("G", "1"));
        let live = Item::new(key("P", "b"))
            .with("v", 2)
            .expiring_at(future())
            .indexed(key("G", "2"));
        store.put(gone.clone(), Condition::None).await.unwrap();
        store.put(live.clone(), Condition::None).await.unwrap();
        assert_eq!(store.get(&gone.key).await.unwrap(), None);
        assert_eq!(store.get(&live.key).await.unwrap(), Some(live.clone()));
        let page = store.query(Query::partition("P", 10)).await.unwrap();
        assert_eq!(page.items, vec![live.clone()]);
        assert_eq!(page.next, None);
        let page = store
            .query(Query::partition("G", 10).on_index())
            .await
            .unwrap();
        assert_eq!(page.items, vec![live]);
    }

    #[tokio::test]
    async fn an_expired_item_counts_as_absent_for_conditions_and_updates() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let k = key("CODE", "abc");
        let expired = Item::new(k.clone())
            .with("n", 41)
            .with("old", "x")
            .expiring_at(past());
        store.put(expired.clone(), Condition::None).await.unwrap();
        let err = store
            .update(&k, Update::default().set("a", 1), Condition::Exists)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::ConditionFailed { current: None }));
        // NotExists holds, and the replaced item is reported as absent.
        let fresh = Item::new(k.clone()).with("v", 1);
        assert_eq!(store.put(fresh, Condition::NotExists).await.unwrap(), None);

        store.put(expired, Condition::None).await.unwrap();
        let new = store
            .update(&k, Update::default().add("n", 1), Condition::NotExists)
            .await
            .unwrap();
        // Starts from empty: no old attributes, no old expiry.
        assert_eq!(new, Item::new(k.clone()).with("n", 1));
        assert_eq!(store.get(&k).await.unwrap(), Some(new));
    }

    #[tokio::test]
    async fn delete_returns_the_live_item_and_respects_its_condition() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let item = Item::new(key("P", "S")).with("owner", "me");
        store.put(item.clone(), Condition::None).await.unwrap();
        let err = store
            .delete(
                &item.key,
                Condition::Equals("owner".into(), Value::from("you")),
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::ConditionFailed { current: Some(_) }
        ));
        assert_eq!(store.get(&item.key).await.unwrap(), Some(item.clone()));
        assert_eq!(
            store
                .delete(
                    &item.key,
                    Condition::Equals("owner".into(), Value::from("me"))
                )
                .await
                .unwrap(),
            Some(item.clone())
        );
        assert_eq!(store.get(&item.key).await.unwrap(), None);
        assert_eq!(
            store.delete(&item.key, Condition::None).await.unwrap(),
            None
        );
        assert!(store
            .delete(&item.key, Condition::Exists)
            .await
            .unwrap_err()
            .is_condition_failure());
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
    async fn a_transaction_applies_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        store
            .put(Item::new(key("T", "counter")).with("n", 1), Condition::None)
            .await
            .unwrap();
        store
            .put(Item::new(key("T", "doomed")), Condition::None)
            .await
            .unwrap();
        store
            .put(
                Item::new(key("T", "guard")).with("state", "open"),
                Condition::None,
            )
            .await
            .unwrap();
        store
            .transact(vec![
                Write::Put {
                    item: Item::new(key("T", "new")).with("v", "x"),
                    condition: Condition::NotExists,
                },
                Write::Update {
                    key: key("T", "counter"),
                    update: Update::default().add("n", 1),
                    condition: Condition::Below("n".into(), 5),
                },
                Write::Delete {
                    key: key("T", "doomed"),
                    condition: Condition::Exists,
                },
                Write::Check {
                    key: key("T", "guard"),
                    condition: Condition::Equals("state".into(), Value::from("open")),
                },
            ])
            .await
            .unwrap();
        assert_eq!(
            store.get(&key("T", "new")).await.unwrap(),
            Some(Item::new(key("T", "new")).with("v", "x"))
        );
        assert_eq!(
            store
                .get(&key("T", "counter"))
                .await
                .unwrap()
                .unwrap()
                .number("n")
                .unwrap(),
            2
        );
        assert_eq!(store.get(&key("T", "doomed")).await.unwrap(), None);
        assert_eq!(
            store.get(&key("T", "guard")).await.unwrap(),
            Some(Item::new(key("T", "guard")).with("state", "open"))
        );
    }

    #[tokio::test]
    async fn a_failing_transaction_writes_nothing_and_names_the_first_failing_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let guard = Item::new(key("T", "guard")).with("state", "closed");
        let taken = Item::new(key("T", "taken")).with("who", "first");
        store.put(guard.clone(), Condition::None).await.unwrap();
        store.put(taken.clone(), Condition::None).await.unwrap();
        let err = store
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
                    key: key("T", "guard"),
                    condition: Condition::Equals("state".into(), Value::from("open")),
                },
                Write::Put {
                    item: Item::new(key("T", "taken")).with("who", "second"),
                    condition: Condition::NotExists,
                },
            ])
            .await
            .unwrap_err();
        match err {
            StoreError::TransactionFailed { index, current } => {
                assert_eq!(index, 2);
                assert_eq!(current.as_deref(), Some(&guard));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(store.get(&key("T", "new")).await.unwrap(), None);
        assert_eq!(store.get(&key("T", "counter")).await.unwrap(), None);
        assert_eq!(store.get(&key("T", "taken")).await.unwrap(), Some(taken));

        let err = store
            .transact(vec![
                Write::Put {
                    item: Item::new(key("T", "new")),
                    condition: Condition::None,
                },
                Write::Check {
                    key: key("T", "absent"),
                    condition: Condition::Exists,
                },
            ])
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::TransactionFailed {
                index: 1,
                current: None
            }
        ));
        assert_eq!(store.get(&key("T", "new")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_transaction_whose_update_is_invalid_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        store
            .put(Item::new(key("T", "text")).with("n", "x"), Condition::None)
            .await
            .unwrap();
        let err = store
            .transact(vec![
                Write::Put {
                    item: Item::new(key("T", "new")),
                    condition: Condition::None,
                },
                Write::Update {
                    key: key("T", "text"),
                    update: Update::default().add("n", 1),
                    condition: Condition::None,
                },
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
        assert_eq!(store.get(&key("T", "new")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn malformed_transactions_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        assert!(matches!(
            store.transact(vec![]).await,
            Err(StoreError::Invalid(_))
        ));
        let twice = vec![
            Write::Check {
                key: key("T", "a"),
                condition: Condition::None,
            },
            Write::Delete {
                key: key("T", "a"),
                condition: Condition::None,
            },
        ];
        assert!(matches!(
            store.transact(twice).await,
            Err(StoreError::Invalid(_))
        ));
        let too_many = (0..=crate::store::MAX_TRANSACTION_WRITES)
            .map(|i| Write::Put {
                item: Item::new(key("T", &i.to_string())),
                condition: Condition::None,
            })
            .collect();
        assert!(matches!(
            store.transact(too_many).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(store
            .query(Query::partition("T", 10))
            .await
            .unwrap()
            .items
            .is_empty());
    }

    async fn put_keys(store: &SqliteStore, pk: &str, sks: &[&str]) {
        for sk in sks {
            store
                .put(Item::new(key(pk, sk)), Condition::None)
                .await
                .unwrap();
        }
    }

    fn sks(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.key.sk.as_str()).collect()
    }

    #[tokio::test]
    async fn a_prefix_query_returns_exactly_the_sort_keys_with_that_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        put_keys(
            &store,
            "P",
            &[
                "APPT#1",
                "APPT#2",
                "APPT",
                "APPS",
                "APPT$",
                "APPU",
                "A%PPT",
                "A_PPT",
                "B",
                "x\u{10FFFF}",
                "x\u{10FFFF}a",
                "y",
                "\u{D7FF}",
                "\u{D7FF}z",
                "\u{E000}",
            ],
        )
        .await;
        put_keys(&store, "Q", &["APPT#9"]).await;
        let page = store
            .query(Query::partition("P", 100).prefix("APPT"))
            .await
            .unwrap();
        assert_eq!(sks(&page.items), ["APPT", "APPT#1", "APPT#2", "APPT$"]);
        // LIKE wildcards are plain characters.
        let page = store
            .query(Query::partition("P", 100).prefix("A%"))
            .await
            .unwrap();
        assert_eq!(sks(&page.items), ["A%PPT"]);
        let page = store
            .query(Query::partition("P", 100).prefix("A_"))
            .await
            .unwrap();
        assert_eq!(sks(&page.items), ["A_PPT"]);
        // Prefixes whose last character cannot simply be incremented.
        let page = store
            .query(Query::partition("P", 100).prefix("x\u{10FFFF}"))
            .await
            .unwrap();
        assert_eq!(sks(&page.items), ["x\u{10FFFF}", "x\u{10FFFF}a"]);
        let page = store
            .query(Query::partition("P", 100).prefix("\u{D7FF}"))
            .await
            .unwrap();
        assert_eq!(sks(&page.items), ["\u{D7FF}", "\u{D7FF}z"]);
        let page = store
            .query(Query::partition("P", 100).prefix(""))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 15);
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
    async fn a_between_query_includes_both_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        put_keys(
            &store,
            "DAY",
            &[
                "2026-12-01T08",
                "2026-12-01T09",
                "2026-12-01T10",
                "2026-12-01T11",
                "2026-12-02",
            ],
        )
        .await;
        let page = store
            .query(Query::partition("DAY", 100).between("2026-12-01T09", "2026-12-01T11"))
            .await
            .unwrap();
        assert_eq!(
            sks(&page.items),
            ["2026-12-01T09", "2026-12-01T10", "2026-12-01T11"]
        );
        let page = store
            .query(
                Query::partition("DAY", 100)
                    .between("2026-12-01T09", "2026-12-01T11")
                    .descending(),
            )
            .await
            .unwrap();
        assert_eq!(
            sks(&page.items),
            ["2026-12-01T11", "2026-12-01T10", "2026-12-01T09"]
        );
        assert!(matches!(
            store
                .query(Query::partition("DAY", 100).between("b", "a"))
                .await,
            Err(StoreError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn a_descending_query_returns_the_highest_sort_key_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        put_keys(&store, "P", &["b", "a", "d", "c"]).await;
        let page = store
            .query(Query::partition("P", 3).descending())
            .await
            .unwrap();
        assert_eq!(sks(&page.items), ["d", "c", "b"]);
        assert!(page.next.is_some());
    }

    #[tokio::test]
    async fn paging_through_a_partition_sees_every_live_item_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        let mut expected = Vec::new();
        for i in 0..23 {
            let mut item = Item::new(key("P", &format!("S#{i:02}")));
            if i % 4 == 1 {
                item = item.expiring_at(past());
            } else {
                expected.push(item.key.clone());
            }
            store.put(item, Condition::None).await.unwrap();
        }
        put_keys(&store, "P2", &["S#00", "S#99"]).await;
        for limit in [1, 3, 4, 17, 18, 1000] {
            assert_eq!(
                every_key(&store, Query::partition("P", limit)).await,
                expected
            );
            let mut reversed = expected.clone();
            reversed.reverse();
            assert_eq!(
                every_key(&store, Query::partition("P", limit).descending()).await,
                reversed
            );
            assert_eq!(
                every_key(&store, Query::partition("P", limit).prefix("S#1")).await,
                expected
                    .iter()
                    .filter(|k| k.sk.starts_with("S#1"))
                    .cloned()
                    .collect::<Vec<_>>()
            );
        }
        // A full last page says there is nothing more.
        let page = store.query(Query::partition("P", 17)).await.unwrap();
        assert_eq!(page.items.len(), 17);
        assert_eq!(page.next, None);
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
    async fn a_cursor_from_another_query_is_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        put_keys(&store, "P", &["a", "b"]).await;
        let other_partition = Cursor {
            key: key("Q", "a"),
            gsi1: None,
        };
        assert!(matches!(
            store
                .query(Query::partition("P", 1).after(Some(other_partition.clone())))
                .await,
            Err(StoreError::Invalid(_))
        ));
        // A table cursor carries no index key, so it cannot continue an index query.
        let table_cursor = Cursor {
            key: key("P", "a"),
            gsi1: None,
        };
        assert!(matches!(
            store
                .query(
                    Query::partition("P", 1)
                        .on_index()
                        .after(Some(table_cursor))
                )
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.query(Query::partition("P", 0)).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store.query(Query::partition("", 1)).await,
            Err(StoreError::Invalid(_))
        ));
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
    async fn twenty_concurrent_conditional_puts_on_one_key_have_exactly_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir);
        // Several rounds, so the puts really overlap once the pool is warm.
        for round in 0..10 {
            let k = key("SLOT", &format!("2026-12-01T09:{round:02}"));
            let start = Arc::new(tokio::sync::Barrier::new(20));
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let store = store.clone();
                    let k = k.clone();
                    let start = Arc::clone(&start);
                    tokio::spawn(async move {
                        start.wait().await;
                        store
                            .put(Item::new(k).with("who", i), Condition::NotExists)
                            .await
                    })
                })
                .collect();
            let mut winners = Vec::new();
            let mut losers = 0;
            for (i, task) in tasks.into_iter().enumerate() {
                match task.await.unwrap() {
                    Ok(None) => winners.push(i as i64),
                    Err(StoreError::ConditionFailed { current: Some(_) }) => losers += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(winners.len(), 1);
            assert_eq!(losers, 19);
            let stored = store.get(&k).await.unwrap().unwrap();
            assert_eq!(stored.number("who").unwrap(), winners[0]);
        }
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
}
