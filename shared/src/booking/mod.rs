//! Booking: the institution's catalog, availabilities, and the patient's appointments.
//!
//! - [`catalog`]: the catalog document (YAML/JSON) and its validation.
//! - [`schedule`]: slots from weekly windows in the institution's time zone (DST-correct).
//! - [`availability`]: availability search and sealed availability ids.
//! - [`appointments`]: the appointment record and the book / reschedule / cancel flows.
//! - [`etag`]: sealed entity tags of appointments (`ETag` / `If-Match`).
//! - [`limits`]: the booking limit (`max_active_appointments_per_patient`), a counter per patient
//!   and type kept in the same transactions as the appointment.
//! - [`subscriptions`]: the ASAP subscription index (one item per subscribed appointment, sorted
//!   by start), kept in step with the appointment in the same transactions.
//! - [`outbox`]: the transactional outbox record a cancel, a reschedule or a catalog load writes
//!   when capacity frees up (same transaction as the change, so no event is lost); the
//!   [`crate::asap`] notifier turns it into emails.
//! - [`video`]: signed, expiring video consultation links.
//! - [`repo`]: storage of the catalog (cached), slot counters, appointments, idempotency records.
//! - [`views`]: the JSON shapes of every booking response and request (also the OpenAPI schemas).
//!
//! Storage cost per request (round trips): catalog reads 0 when warm (cached for
//! [`repo::CATALOG_TTL`]), 1 when cold; availability search 1 (one query of the type's slot
//! counters over the window); booking 1 (one transaction: idempotency record, slot counter, the
//! patient's booking-limit counter, appointment; 2 when only past appointments hold the limit); reschedule and cancel 2 (a read of the appointment, whose current slot the
//! client cannot be trusted to name, then one transaction), or 1 when the request carries the
//! appointment's `ETag` in `If-Match` (see [`etag`]); reads of appointments 1.

pub mod appointments;
pub mod availability;
pub mod catalog;
pub mod etag;
pub mod limits;
pub mod outbox;
pub mod repo;
pub mod schedule;
pub mod service;
pub mod subscriptions;
pub mod video;
pub mod views;

pub use appointments::{Appointment, AppointmentId, AppointmentStatus, BookRequest};
pub use availability::{Availability, AvailabilityPage, AvailabilityToken, SearchQuery};
pub use catalog::{Catalog, CatalogError, CatalogFile, CatalogIssue};
pub use outbox::{OutboxEvent, OutboxKind};
pub use repo::BookingRepo;
pub use service::BookingService;

use crate::http::ApiError;
use crate::repo::RepoError;
use crate::store::{Item, StoreError};

/// What a booking operation can fail with; [`ApiError`] maps each to its response.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// 400 `invalid_request`: a parameter or field is missing or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// 400 `invalid_availability`: the availability id is tampered, foreign, expired or stale.
    #[error("{0}")]
    InvalidAvailability(String),
    /// 400 `invalid_cursor`.
    #[error("the cursor is not valid for this request; start again without it")]
    InvalidCursor,
    /// 400 `insurance_not_allowed`: the insurance may not book this category or type.
    #[error("{0}")]
    InsuranceNotAllowed(String),
    /// 404: unknown catalog entry or appointment (another patient's looks the same).
    #[error("{0}")]
    NotFound(String),
    /// 409 `slot_unavailable`: the slot is fully booked.
    #[error("the slot is no longer available; choose another availability")]
    SlotUnavailable,
    /// 409 `booking_limit_reached`: the patient already holds the type's most upcoming
    /// appointments.
    #[error("you already have {limit} upcoming appointment(s) of type {type_id} ({type_name}), the most one patient may hold at a time; cancel one, or book again once one has taken place")]
    BookingLimitReached {
        /// The type's `max_active_appointments_per_patient`.
        limit: i64,
        /// The appointment type.
        type_id: i64,
        /// Its name.
        type_name: String,
    },
    /// 409 with a specific code (`already_cancelled`, `cancellation_period`, ...).
    #[error("{description}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// Human explanation.
        description: String,
    },
    /// 409 `appointment_changed`: the appointment changed between the read a change started
    /// from and its write.
    #[error(
        "the appointment was changed by another request at the same time; reload it and try again"
    )]
    AppointmentChanged {
        /// The appointment's item as the failed write found it, when the store returned it
        /// (read it with [`repo::appointment_from_item`]).
        current: Option<Box<Item>>,
    },
    /// 412 `precondition_failed`: the `If-Match` tag is not the appointment's current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 422 `idempotency_key_reused`: the `Idempotency-Key` was used with another body.
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyMismatch,
    /// 503: no catalog has been loaded yet.
    #[error("no catalog has been loaded (portal-admin catalog load FILE)")]
    CatalogMissing,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored data or a server-side step is broken (500, cause logged).
    #[error("{0}")]
    Internal(String),
}

impl From<RepoError> for BookingError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Store(e) => BookingError::Store(e),
            other => BookingError::Internal(other.to_string()),
        }
    }
}

impl From<BookingError> for ApiError {
    fn from(error: BookingError) -> Self {
        let description = error.to_string();
        match error {
            BookingError::InvalidRequest(_) => ApiError::invalid_request(description),
            BookingError::InvalidAvailability(_) => ApiError::BadRequest {
                code: "invalid_availability",
                description,
            },
            BookingError::InvalidCursor => ApiError::BadRequest {
                code: "invalid_cursor",
                description,
            },
            BookingError::InsuranceNotAllowed(_) => ApiError::BadRequest {
                code: "insurance_not_allowed",
                description,
            },
            BookingError::NotFound(what) => ApiError::NotFound(what),
            BookingError::SlotUnavailable => ApiError::Conflict {
                code: "slot_unavailable",
                description,
            },
            BookingError::BookingLimitReached { .. } => ApiError::Conflict {
                code: "booking_limit_reached",
                description,
            },
            BookingError::Conflict { code, description } => {
                ApiError::Conflict { code, description }
            }
            BookingError::AppointmentChanged { .. } => ApiError::Conflict {
                code: "appointment_changed",
                description,
            },
            BookingError::PreconditionFailed(_) => ApiError::PreconditionFailed(description),
            BookingError::IdempotencyMismatch => ApiError::Unprocessable {
                code: "idempotency_key_reused",
                description,
            },
            BookingError::CatalogMissing => ApiError::Unavailable(description),
            BookingError::Store(e) => e.into(),
            BookingError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}
