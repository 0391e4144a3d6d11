//! Fresh, private stores for tests: one temporary SQLite file or one new DynamoDB table per call.

use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use shared::store::dynamo::DynamoStore;
use shared::store::sqlite::SqliteStore;
use shared::store::Store;
use tempfile::TempDir;

use crate::moto::{moto_endpoint, unique_table_name};

/// A SQLite store in a new temporary directory. Keep the [`TempDir`] alive as long as the store is
/// used: dropping it deletes the database.
///
/// # Panics
/// When the directory or the database cannot be created.
pub fn sqlite_store() -> (Arc<dyn Store>, TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
    let path = dir.path().join("store.db");
    let store = SqliteStore::open(&path)
        .unwrap_or_else(|e| panic!("cannot open SQLite store {}: {e}", path.display()));
    (Arc::new(store), dir)
}

/// A DynamoDB store on a new table of the test moto server (see [`moto_endpoint`]).
///
/// # Panics
/// When moto is unavailable or the table cannot be created.
pub async fn dynamo_store() -> Arc<dyn Store> {
    Arc::new(dynamo_adapter("store").await)
}

/// Like [`dynamo_store`], but returns the concrete adapter (for tests that need its client or
/// table name) and names the table after `prefix`. The table is created with
/// [`DynamoStore::create_table`], then opened the way the functions open theirs
/// ([`DynamoStore::connect`], which checks the table's schema).
///
/// # Panics
/// When moto is unavailable or the table cannot be created.
pub async fn dynamo_adapter(prefix: &str) -> DynamoStore {
    let endpoint = moto_endpoint();
    let table = unique_table_name(prefix);
    DynamoStore::create_table(&dynamo_client(), &table)
        .await
        .unwrap_or_else(|e| panic!("cannot create table {table} at {endpoint}: {e}"));
    DynamoStore::connect(&table, Some(&endpoint))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to table {table} at {endpoint}: {e}"))
}

/// A DynamoDB client for the test moto server, with dummy credentials and region set explicitly
/// (not read from the environment), for set-up work such as creating tables.
pub fn dynamo_client() -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "portal-tests"))
        .endpoint_url(moto_endpoint())
        .build();
    Client::from_conf(config)
}
