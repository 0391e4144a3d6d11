//! A portal on a fresh local data folder, what every handler test and benchmark runs against: a
//! SQLite store behind a round-trip counter, freshly generated keys (also written to `keys.json`,
//! so a `bootstrap` started on the same folder loads the same keys) and the local configuration
//! (issuer [`ISSUER`]).
//!
//! Set-up failures panic with what failed: a kit that cannot make its folder, store or keys leaves
//! nothing to test or measure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use shared::boot::Context;
use shared::config::Config;
use shared::keys::{self, KeyMaterial, KeySet};
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
    /// What functions are built with (its store counts round trips).
    pub context: Context,
    /// The round-trip counter in front of the SQLite store (`counter.take()` reads and resets it).
    pub counter: Arc<CountingStore>,
    /// The key material the context's keys were parsed from (also in `keys.json`).
    pub material: KeyMaterial,
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
        let material =
            KeyMaterial::generate().unwrap_or_else(|e| panic!("cannot generate keys: {e}"));
        keys::save(&dir.path().join(keys::LOCAL_FILE_NAME), &material)
            .unwrap_or_else(|e| panic!("cannot write keys.json: {e}"));
        let keys =
            KeySet::from_material(&material).unwrap_or_else(|e| panic!("cannot parse keys: {e}"));
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
            material,
            dir,
        }
    }

    /// The store (through the counter; call `counter.take()` to reset it).
    pub fn store(&self) -> SharedStore {
        self.context.store.clone()
    }

    /// The key set.
    pub fn keys(&self) -> &KeySet {
        &self.context.keys
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

    /// This context after a key rotation (same configuration and store): a new active signing
    /// key, the previous one still published and accepted.
    ///
    /// # Panics
    /// When the rotated material cannot be parsed.
    pub fn rotated(&self) -> Context {
        let mut material = self.material.clone();
        material
            .rotate(now_unix())
            .unwrap_or_else(|e| panic!("cannot rotate the keys: {e}"));
        let keys = KeySet::from_material(&material)
            .unwrap_or_else(|e| panic!("cannot parse the rotated keys: {e}"));
        Context {
            keys: Arc::new(keys),
            ..self.context.clone()
        }
    }
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
        let stored = keys::load_or_create(&ctx.data_dir().join(keys::LOCAL_FILE_NAME)).unwrap();
        assert_eq!(stored, ctx.material);
        let rotated = ctx.rotated();
        assert_ne!(rotated.keys.active_kid(), ctx.keys().active_kid());
        assert_eq!(rotated.config.issuer_str(), ISSUER);
    }
}
