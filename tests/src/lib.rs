//! Support code for MyPatientPortal's cross-function tests.
//!
//! Every test owns its data: a SQLite store lives in its own temporary directory and a DynamoDB
//! store in its own freshly created table, so tests run in parallel without seeing each other.
//! DynamoDB is emulated by one moto server per test run (see [`moto_endpoint`]).
//!
//! What handler tests, benchmarks and the example client's tests share (events, a fresh portal
//! context, tokens, seeded data) is the test kit, `testkit`; this crate holds what needs a
//! running portal, moto or a browser.

pub mod browser;
pub mod e2e;
pub mod moto;
pub mod stores;
pub mod template;
pub mod watch;

pub use moto::{moto_endpoint, unique_table_name};
pub use stores::{dynamo_adapter, dynamo_client, dynamo_store, sqlite_store};
