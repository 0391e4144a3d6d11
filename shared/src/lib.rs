//! MyPatientPortal's common crate: everything the Lambda functions share.
//!
//! Functions stay thin: they parse the request, call into this crate and map the result to a response.
//! - [`config`]: configuration from the environment, read and validated once at start-up.
//! - [`store`]: the storage port and its SQLite and DynamoDB adapters.
//! - [`http`]: request parsing, routing, responses, and the one error-to-response mapping.
//! - [`telemetry`], [`metrics`]: structured JSON logs; each request's log line with its
//!   CloudWatch metrics (Embedded Metric Format).
//! - [`boot`], [`allocator`]: what every function does once at init (allocator settings, config,
//!   logs, store, keys).
//! - [`aws`]: the one AWS SDK set-up (region, endpoint, timeouts, retries) and one-line SDK errors.
//! - [`crypto`], [`keys`], [`jwt`], [`bearer`]: randomness, sealing, signing keys, JWTs and the one
//!   bearer-token check every resource endpoint uses (no storage read).
//! - [`scope`], [`domain`], [`repo`]: scopes, clients and patients, and the repositories over the store.
//! - [`oauth`], [`oidc`], [`pages`], [`cors`]: the authorization-server flows (one module per endpoint
//!   flow, no HTTP beyond the RFCs' wire formats), discovery/userinfo/profile, the login and consent
//!   pages, and CORS for browser clients.
//! - [`booking`]: catalog, availabilities and appointments.
//! - [`openapi`]: the OpenAPI 3.1 document of every route, generated from the types above.
//! - [`asap`], [`mail`]: the ASAP list (subscriptions, transactional outbox, notifier) and
//!   outgoing mail (`.eml` outbox folder locally, SES deployed).
//! - [`audit`]: the audit log of patient-data access (one record per request of an app that
//!   reads or changes a patient's data), stored per patient and mirrored to the request's log line.
//! - [`i18n`]: the languages patients read pages and mails in (English, German), their message
//!   catalogs, and how a page's language is chosen.

pub mod account;
pub mod allocator;
pub mod asap;
pub mod audit;
pub mod aws;
pub mod bearer;
pub mod blocking;
pub mod booking;
pub mod boot;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod i18n;
pub mod jwt;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod pages;
pub mod repo;
pub mod scope;
pub mod store;
pub mod telemetry;
