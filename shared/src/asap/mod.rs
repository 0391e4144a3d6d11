//! The ASAP list: patients with a booked appointment ask to hear about an earlier slot.
//!
//! - [`subscriptions`]: the subscription index (`ASAP#{type}` items, one per subscribed
//!   appointment, sorted by start) kept in step with the appointment in the same transactions.
//! - [`outbox`]: the transactional outbox record a cancel, a reschedule or a catalog load writes
//!   when capacity frees up (same transaction as the change, so no event is lost).
//! - [`service`]: subscribe, unsubscribe (API and one-click link) and earlier availability.
//! - [`notifier`]: turns one outbox event into at most `PORTAL_ASAP_FANOUT` emails, exactly once
//!   per (event, subscriber) through delivery records.
//! - [`message`]: the email (text + HTML, RFC 8058 unsubscribe headers).
//! - [`unsubscribe`]: the sealed, single-subscription unsubscribe token.
//! - [`stream`]: the DynamoDB Stream batch the deployed `asap` function receives.
//!
//! Deployed, outbox records reach the `asap` function through the table's stream (filtered to
//! outbox inserts, partial batch failures reported). Locally there is no stream, so the function
//! that committed the change runs the same [`notifier::Notifier::dispatch`] right after the commit
//! (`PORTAL_ASAP_DISPATCH=inline`).

pub mod message;
pub mod notifier;
pub mod outbox;
pub mod service;
pub mod stream;
pub mod subscriptions;
pub mod unsubscribe;

pub use notifier::{DispatchReport, Notifier, NotifyError};
pub use outbox::{OutboxEvent, OutboxKind};
pub use service::{AsapService, EarlierAvailability, UnsubscribeOutcome};
