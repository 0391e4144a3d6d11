//! The audit log of patient-data access: one [`AccessRecord`] per request in which an app, with
//! an access token, read or changed a patient's data (GDPR Art. 30/32: health-data access must be
//! traceable).
//!
//! - [`record`]: what a record holds — when, which app (`client_id`), which patient, which route
//!   (its template, e.g. `GET /api/portal/v1/appointments/{id}`), which appointment, the outcome
//!   (status class and error code) and the Lambda request id. Never a token, a name, an email or
//!   any other patient data.
//! - [`log`]: the records in the store ([`AuditLog`]: one item per record under the patient's own
//!   partition, expiring after `PORTAL_AUDIT_RETENTION_DAYS`), and the per-patient reading the
//!   account page and `portal-admin audit` use ([`AuditLog::recent_access`]).
//! - [`trail`]: the request's audit trail. [`crate::boot::invoke`] runs every request inside one;
//!   the functions name the subject once the token is verified ([`trail::subject`]); a change that
//!   writes a transaction puts the record into that transaction ([`trail::transaction_write`]);
//!   anything else (reads, refusals, failed changes) gets one put before the answer leaves
//!   ([`trail::Trail::close`]), which also mirrors the record to the request's log line.
//!
//! Storage cost: 0 extra round trips for booking, reschedule, cancel and an ASAP (un)subscribe
//! that changes something (the record rides in their transaction); 1 put for every other audited
//! request. The put is made after the answer is computed and before it is sent, and **fails
//! closed**: when the record cannot be stored the patient's data is not released, and the client
//! gets `503 temporarily_unavailable` (with no detail; the cause is logged) instead of the answer.
//! A change whose transaction carried the record is never answered without it either: the record
//! and the change commit together or not at all.

pub mod log;
pub mod record;
pub mod trail;

pub use log::AuditLog;
pub use record::AccessRecord;
