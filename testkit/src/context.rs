//! A portal on a fresh local data folder, what every handler test and benchmark runs against: a
//! SQLite store behind a round-trip counter, freshly generated keys (written to `keys/`, the
//! operator's document and one per function, so a `bootstrap` started on the same folder loads the
//! same keys) and the local configuration (issuer [`ISSUER`]).
//!
//! [`TestContext::context`] holds every function's keys (a test mints codes, tokens and ids with
//! them); [`TestContext::function`] is what one function runs with: its own key document only.
//!
//! Set-up failures panic with what failed: a kit that cannot make its folder, store or keys leaves
//! nothing to test or measure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use shared::boot::Context;
use shared::config::{AsapDispatch, Config};
use shared::keys::{self, AdminKeys, KeySet, KeySource, Keys, Role};
use shared::store::sqlite::SqliteStore;
use shared::store::{now_unix, CountingStore, SharedStore, Store};
use tempfile::TempDir;

/// The issuer of a [`TestContext`] (the local default).
pub const ISSUER: &str = "http://127.0.0.1:9000";

/// The SQLite file inside the data folder.
const DATABASE: &str = "portal.db";

/// A portal context on its own data folder; the folder is deleted when this is dropped, so keep it
/// alive as long as the context.
pub struct TestContext {
    /// The configuration, the store (counting round trips) and every function's keys.
    pub context: Context,
    /// The round-trip counter in front of the SQLite store (`counter.take()` reads and resets it).
    pub counter: Arc<CountingStore>,
    /// The operator's key document the keys were made from (also in `keys/admin.json`).
    pub admin: AdminKeys,
    /// Owns the data folder.
    pub dir: TempDir,
}

impl TestContext {
    /// A new context with its own store and keys and the local defaults (inline ASAP dispatch,
    /// mail to `<data folder>/outbox`).
    pub fn new() -> Self {
        Self::with_env(&[])
    }

    /// Like [`TestContext::new`], with these environment variables on top of the local defaults
    /// (e.g. `PORTAL_ASAP_DISPATCH=stream`, as deployed).
    ///
    /// # Panics
    /// When the folder, the store or the keys cannot be made, or the variables are not a valid
    /// configuration.
    pub fn with_env(vars: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("portal-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}"));
        let path = dir.path().join(DATABASE);
        let sqlite = SqliteStore::open(&path)
            .unwrap_or_else(|e| panic!("cannot open the SQLite store {}: {e}", path.display()));
        let counter = Arc::new(CountingStore::new(Arc::new(sqlite)));
        let store: Arc<dyn Store> = counter.clone();
        let keys_dir = keys::keys_dir(dir.path());
        keys::ensure_local(&keys_dir, now_unix())
            .unwrap_or_else(|e| panic!("cannot create the keys: {e}"));
        let admin = keys::read_admin(&keys_dir)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no keys in {}", keys_dir.display()));
        let keys = Keys::fixed(all_keys(&admin));
        let data_dir = dir.path().display().to_string();
        let config = Config::from_lookup(|name| match name {
            "PORTAL_DATA_DIR" => Some(data_dir.clone()),
            _ => vars
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned()),
        })
        .unwrap_or_else(|e| panic!("not a valid test configuration: {e}"));
        Self {
            context: shared::boot::context(config, store, keys),
            counter,
            admin,
            dir,
        }
    }

    /// The store (through the counter; call `counter.take()` to reset it).
    pub fn store(&self) -> SharedStore {
        self.context.store.clone()
    }

    /// Every function's keys: signs access tokens, seals codes, availability ids, links...
    pub fn keys(&self) -> Arc<KeySet> {
        self.context.keys.current()
    }

    /// What the function `role` runs with: this context's configuration and store, and only its
    /// own key document from the folder (re-read from there when it meets a key it does not know,
    /// as a deployed instance does). `booking` with inline ASAP dispatch also reads `asap`'s.
    ///
    /// # Panics
    /// When the document cannot be read.
    pub fn function(&self, role: Role) -> Context {
        let mut roles = vec![role];
        if role == Role::Booking && self.context.config.asap_dispatch == AsapDispatch::Inline {
            roles.push(Role::Asap);
        }
        let dir = keys::keys_dir(self.data_dir());
        let documents: Vec<_> = roles
            .iter()
            .map(|&role| {
                keys::read_document(&dir, role)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| panic!("no {role} key document in {}", dir.display()))
            })
            .collect();
        let set = KeySet::from_documents(&documents)
            .unwrap_or_else(|e| panic!("cannot parse the {role} keys: {e}"));
        Context {
            keys: Arc::new(Keys::with_source(set, KeySource::LocalFiles { dir, roles })),
            ..self.context.clone()
        }
    }

    /// The data folder (`PORTAL_DATA_DIR` of a `bootstrap` sharing this portal).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite file (`PORTAL_STORE=sqlite:<this>`).
    pub fn database(&self) -> PathBuf {
        self.dir.path().join(DATABASE)
    }

    /// This context's configuration and keys over another store (a DynamoDB table, a store that
    /// fails or waits on purpose).
    pub fn with_store(&self, store: SharedStore) -> Context {
        Context {
            store,
            ..self.context.clone()
        }
    }

    /// [`TestContext::function`] over another store.
    pub fn function_over(&self, role: Role, store: SharedStore) -> Context {
        Context {
            store,
            ..self.function(role)
        }
    }

    /// Rotates the keys in the folder (forced: at once), as `portal-admin keys rotate --force`
    /// does, and returns the context with every function's keys after it. Functions built with
    /// [`TestContext::function`] before keep their keys until they meet one they do not know.
    ///
    /// # Panics
    /// When the rotation fails.
    pub fn rotated(&self) -> Context {
        let dir = keys::keys_dir(self.data_dir());
        let now = now_unix();
        let mut admin = keys::read_admin(&dir)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no keys in {}", dir.display()));
        admin
            .rotate(now, true)
            .unwrap_or_else(|e| panic!("cannot rotate the keys: {e}"));
        keys::write_admin(&dir, &admin).unwrap_or_else(|e| panic!("cannot store the keys: {e}"));
        for role in Role::ALL {
            let document = admin
                .document(role, now)
                .unwrap_or_else(|e| panic!("cannot make the {role} key document: {e}"));
            keys::write_document(&dir, &document)
                .unwrap_or_else(|e| panic!("cannot store the {role} key document: {e}"));
        }
        Context {
            keys: Arc::new(Keys::fixed(all_keys(&admin))),
            ..self.context.clone()
        }
    }
}

/// Every function's keys of the portal whose data folder is `data_dir` (a `make run` or
/// `cargo lambda watch` portal): created there first if no function has started yet, exactly as
/// the first function to start would. For tests that mint tokens against a running portal.
///
/// # Panics
/// When the keys cannot be created or read.
pub fn portal_keys(data_dir: &Path) -> Keys {
    let dir = keys::keys_dir(data_dir);
    keys::ensure_local(&dir, now_unix()).unwrap_or_else(|e| panic!("cannot create the keys: {e}"));
    let admin = keys::read_admin(&dir)
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no keys in {}", dir.display()));
    Keys::fixed(all_keys(&admin))
}

/// A key set holding every function's keys, made from the operator's document.
fn all_keys(admin: &AdminKeys) -> KeySet {
    let now = now_unix();
    let documents: Vec<_> = Role::ALL
        .iter()
        .map(|&role| {
            admin
                .document(role, now)
                .unwrap_or_else(|e| panic!("cannot make the {role} key document: {e}"))
        })
        .collect();
    KeySet::from_documents(&documents).unwrap_or_else(|e| panic!("cannot parse the keys: {e}"))
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_holds_the_store_and_the_keys_a_bootstrap_would_load() {
        let ctx = TestContext::with_env(&[("PORTAL_ASAP_DISPATCH", "stream")]);
        assert_eq!(ctx.context.config.issuer_str(), ISSUER);
        assert_eq!(
            ctx.context.config.asap_dispatch,
            shared::config::AsapDispatch::Stream
        );
        assert!(ctx.database().is_file());
        let dir = keys::keys_dir(ctx.data_dir());
        assert_eq!(keys::read_admin(&dir).unwrap().unwrap(), ctx.admin);
        let booking = ctx.function(Role::Booking);
        assert_eq!(booking.keys.current().roles(), [Role::Booking]);
        assert!(booking.keys.current().active_kid().is_none());
        let rotated = ctx.rotated();
        assert_ne!(rotated.keys.current().active_kid(), ctx.keys().active_kid());
        assert_eq!(rotated.config.issuer_str(), ISSUER);
    }
}
