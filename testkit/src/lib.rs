//! The one test kit of MyPatientPortal, shared by the cross-function tests (`tests/`), the
//! benchmarks (`bench/`) and the example client's tests (`examples/booking-client`): never a
//! dependency of a function.
//!
//! - [`Event`]: real API Gateway v2 events, parsed as the Lambda runtime parses them.
//! - [`TestContext`]: a portal on a fresh data folder (SQLite store counting round trips, fresh
//!   keys, local configuration), and what to seed it with: a client, a patient, the demo catalog,
//!   access tokens, sealed codes and availability ids (`TestContext::client` and the methods after
//!   it).
//! - [`tokens`]: access tokens as the token function issues them; [`oauth`]: redirect URI, PKCE,
//!   client authentication and sealed authorization codes.
//! - [`jws`]: reading and forging compact JWS; [`forms`]: reading the pages' forms.
//! - [`api`]: a patient with a bearer token calling the resource API; reading responses.
//! - [`catalog`]: the demo catalog; [`patients`]: stored patients.
//! - [`ses`]: SES bounce and complaint notifications as SNS delivers them to a function.
//! - [`stream`]: DynamoDB Stream batches of outbox records; [`mail`]: a mailer that records.
//! - [`invariants`]: what must hold in a whole table after any load, faults and races (the soak
//!   and the fault tests check it).
//!
//! Every test owns its data: each [`TestContext`] has its own folder, and seeded clients, patients
//! and ids are random, so tests run in parallel without seeing each other. Set-up failures panic
//! with what failed.

pub mod api;
pub mod catalog;
pub mod context;
pub mod events;
pub mod forms;
pub mod invariants;
pub mod jws;
pub mod mail;
pub mod oauth;
pub mod patients;
mod seed;
pub mod ses;
pub mod stream;
pub mod tokens;

pub use context::{portal_keys, TestContext, ISSUER};
pub use events::Event;
