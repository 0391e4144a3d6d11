//! The ASAP list: patients with a booked appointment ask to hear about an earlier slot.
//!
//! - [`service`]: subscribe, unsubscribe (API and one-click link) and earlier availability.
//! - [`notifier`]: turns one outbox event into at most `PORTAL_ASAP_FANOUT` emails, exactly once
//!   per (event, subscriber) through delivery records.
//! - [`message`]: the email (text + HTML, RFC 8058 unsubscribe headers).
//! - [`unsubscribe`]: the sealed, single-subscription unsubscribe token.
//! - [`confirm`]: confirming a notification address that is not the account address (the mail,
//!   [`confirm_mail`]; the sealed link, [`confirm_token`]).
//! - [`limits`]: per-address and per-subscription daily limits of ASAP mail.
//! - [`stream`]: the DynamoDB Stream batch the deployed `asap` function receives.
//! - [`suppression`]: SES bounce and complaint notifications (through SNS) suppress an address.
//!
//! What the booking flows write for the ASAP list, in the same transactions as the appointment
//! changes, is booking's own ([`crate::booking::subscriptions`]: the subscription index;
//! [`crate::booking::outbox`]: the outbox record of freed capacity): this module reads it and
//! builds on the booking flows, never the other way round.
//!
//! Deployed, outbox records reach the `asap` function through the table's stream (filtered to
//! outbox inserts, partial batch failures reported). Locally there is no stream, so the function
//! that committed the change runs the same [`notifier::Notifier::dispatch`] right after the commit
//! (`PORTAL_ASAP_DISPATCH=inline`).

pub mod confirm;
pub mod confirm_mail;
pub mod confirm_token;
pub mod limits;
pub mod message;
pub mod notifier;
pub mod service;
pub mod stream;
pub mod suppression;
pub mod unsubscribe;

pub use notifier::{DispatchReport, Notifier, NotifyError};
pub use service::{AsapService, EarlierAvailability, UnsubscribeOutcome};
