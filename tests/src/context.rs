//! A function context for handler tests: a fresh SQLite store in its own temporary folder, freshly
//! generated keys, and the local configuration (issuer `http://127.0.0.1:9000`).

use std::sync::Arc;

use shared::boot::Context;
use shared::config::Config;
use shared::keys::{KeyMaterial, KeySet};
use shared::store::sqlite::SqliteStore;
use shared::store::{CountingStore, Store};
use tempfile::TempDir;

/// A handler-test context; keep the `TempDir` alive as long as the context.
pub struct TestContext {
    /// What functions are built with.
    pub context: Context,
    /// The store behind it, counting round trips.
    pub counter: Arc<CountingStore>,
    /// The key material the context's keys were parsed from.
    pub material: KeyMaterial,
    /// Owns the data folder.
    pub dir: TempDir,
}

impl TestContext {
    /// A new context with its own store and keys.
    pub fn new() -> Self {
        Self::with_env(&[])
    }

    /// Like [`TestContext::new`], with these environment variables on top of the local defaults
    /// (e.g. `PORTAL_ASAP_DISPATCH=stream`, as deployed).
    pub fn with_env(vars: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = SqliteStore::open(dir.path().join("portal.db")).expect("open store");
        let counter = Arc::new(CountingStore::new(Arc::new(sqlite)));
        let store: Arc<dyn Store> = counter.clone();
        let material = KeyMaterial::generate().expect("generate keys");
        let keys = KeySet::from_material(&material).expect("parse keys");
        let data_dir = dir.path().display().to_string();
        let config = Config::from_lookup(|name| match name {
            "PORTAL_DATA_DIR" => Some(data_dir.clone()),
            _ => vars
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned()),
        })
        .expect("default configuration");
        let context = shared::boot::context(config, store, keys);
        Self {
            context,
            counter,
            material,
            dir,
        }
    }

    /// An access token of this context's issuer for `patient` with `scope`, as the token
    /// endpoint signs them (client `client-1`, five minutes).
    pub fn bearer(&self, patient: &str, scope: &str) -> String {
        let config = &self.context.config;
        let now = shared::store::now_unix();
        let claims = shared::bearer::AccessClaims {
            iss: config.issuer_str().to_owned(),
            sub: patient.to_owned(),
            aud: shared::jwt::Audience::one(config.api_audience.clone()),
            client_id: "client-1".to_owned(),
            scope: scope.to_owned(),
            exp: now + 300,
            iat: now,
            jti: shared::crypto::random_id(16),
            gid: "grant-1".to_owned(),
            auth_time: now - 60,
        };
        self.context
            .keys
            .sign_jwt("at+jwt", &claims)
            .expect("sign an access token")
    }

    /// The store (uncounted calls go through the counter too; call `counter.take()` to reset).
    pub fn store(&self) -> Arc<dyn Store> {
        self.context.store.clone()
    }
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}
