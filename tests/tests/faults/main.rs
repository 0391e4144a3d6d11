//! The store failing on purpose ([`shared::store::FaultStore`]) under the real functions, on
//! both adapters (DynamoDB through moto): throttling, timeouts, and the nasty one — a write that
//! committed but whose answer was lost. Every failure is a 503 with `Retry-After`, never a 500 or
//! a half-written state; a booking sent again with its `Idempotency-Key` makes one appointment; a
//! cancellation or reschedule sent again with `If-Match` ends in the right state with a clear
//! answer; no ASAP mail is lost or sent twice. After each scenario the invariant checks of
//! `testkit::invariants` run over the whole table.

mod asap_mail;
mod changes;
mod oauth;
mod random;
mod stack;
