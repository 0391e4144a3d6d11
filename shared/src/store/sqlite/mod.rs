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
//! rusqlite is synchronous. Each call takes a connection of its own from a small pool and runs through
//! [`crate::blocking::run`]: inline on a current-thread runtime (every function's: no thread hop per
//! call), on tokio's blocking pool on a multi-thread one, where concurrent tasks of one process then
//! contend on the lock exactly as separate processes do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    params, params_from_iter, Connection, ErrorCode, OpenFlags, OptionalExtension, Row,
    TransactionBehavior,
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

    /// Runs `op` on a pooled connection: inline on a current-thread runtime, else on the blocking
    /// pool (see the module documentation).
    async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let result = crate::blocking::run(
            move || shared.with_connection(op),
            |e| StoreError::Unavailable(format!("storage worker stopped: {e}")),
        )
        .await;
        if let Err(StoreError::Unavailable(reason)) = &result {
            tracing::warn!(path = %self.shared.path.display(), %reason, "sqlite store unavailable");
        }
        result
    }
}

impl Shared {
    fn with_connection<T>(
        &self,
        op: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let result = op(&mut conn);
        self.give(conn);
        result
    }

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
///
/// BEGIN, COMMIT and ROLLBACK run as cached prepared statements: rusqlite's `Transaction` sends them
/// through `execute_batch`, which parses the SQL again on every write (the parser showed in the
/// profile of every writing request).
fn in_write_transaction<T>(
    conn: &mut Connection,
    body: impl FnOnce(&Connection, i64) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let run = |conn: &Connection, sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute([]))
            .map(drop)
    };
    run(conn, "BEGIN IMMEDIATE").map_err(sql_error)?;
    // Read after the lock is held, so expiry is judged as of the moment the write really happens.
    let now = now_unix();
    let outcome = body(conn, now);
    let ended = match outcome {
        Ok(_) => run(conn, "COMMIT"),
        Err(_) => run(conn, "ROLLBACK"),
    };
    match (outcome, ended) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) => {
            // A failed COMMIT leaves the transaction open: end it, or the pool sees it open and
            // discards the connection.
            let _ = run(conn, "ROLLBACK");
            Err(sql_error(e))
        }
        // If the ROLLBACK failed, the pool sees the open transaction and discards the connection.
        (Err(e), _) => Err(e),
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

impl SqliteStore {
    /// Every live item of the database, in key order, read in one statement (so one consistent
    /// snapshot, even while other processes write). For tools and the invariant checks of the
    /// soak and fault tests; never on a request path.
    pub async fn snapshot(&self) -> Result<Vec<Item>, StoreError> {
        let now = now_unix();
        self.run(move |conn| {
            conn.prepare(&format!(
                "SELECT {COLUMNS} FROM items WHERE expires_at IS NULL OR expires_at > ?1 ORDER BY pk, sk"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([now], RawRow::read)?
                    .collect::<rusqlite::Result<Vec<RawRow>>>()
            })
            .map_err(sql_error)?
            .into_iter()
            .map(RawRow::into_item)
            .collect()
        })
        .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        let key = key.clone();
        self.run(move |conn| load_live(conn, &key, now_unix()))
            .await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        validate::keys(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        // One connection and one `now`, so every key is judged by the same clock.
        self.run(move |conn| {
            let now = now_unix();
            keys.iter().map(|key| load_live(conn, key, now)).collect()
        })
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
mod tests;
