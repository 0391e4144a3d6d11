//! The load generator of MyPatientPortal: drives the portal over HTTP as apps and patients do,
//! through the same front door (`make run`'s `cargo lambda watch`, or a deployed stage).
//!
//! - [`oauth`]: the OAuth-flow driver. It signs in through the login and consent pages once per
//!   client (their forms read by [`forms`]), then reuses the session for the repeated flow
//!   authorize → token (code + PKCE) → userinfo → token (refresh).
//! - [`http`]: the HTTP client under it, timing every answer by step ([`http::Stats`]) and telling
//!   the emulator's own failures apart from the functions' answers.
//! - [`soak`]: the soak (`make soak`): many patients mixing flows, searches, contested bookings,
//!   reschedules, cancellations and ASAP subscriptions, then the store's invariants checked.

pub mod http;
pub mod oauth;
pub mod soak;

pub use http::{Answer, EmulatorFault, Http, Stats, Step};
pub use oauth::{Account, App, Code, Driver, Endpoints, FlowError, Tokens};
