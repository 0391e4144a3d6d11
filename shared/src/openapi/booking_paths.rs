//! The booking API's operations (function `booking`), base `/api/portal/v1`.
//!
//! Each function here only carries its `#[utoipa::path]` description: the handlers are in the
//! `booking` function crate, and `tests/tests/openapi_parity.rs` checks that the two list the same
//! routes with the contract's scopes. Bodies are the types of [`crate::booking::views`], which the
//! handlers serialise.
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use super::params::{
    AppointmentId, CategoriesQuery, ListQuery, SearchIdsQuery, TypesQuery, WindowQuery,
};
use super::responses::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::booking::views::{
    AppointmentPage, AppointmentTypeList, AppointmentView, AvailabilityPage, BookRequest,
    CategoryList, IdResponse, InsuranceList, RescheduleRequest, VideoLink,
};

/// List insurances
///
/// Every insurance the institution accepts.
#[utoipa::path(
    get,
    path = "/api/portal/v1/insurances",
    operation_id = "list_insurances",
    tag = "booking",
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "The insurances", body = InsuranceList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
fn list_insurances() {}

/// List appointment categories
///
/// The institution's categories; with `insurance_id`, only those that insurance may book.
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointment_categories",
    operation_id = "list_appointment_categories",
    tag = "booking",
    params(CategoriesQuery),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "The categories", body = CategoryList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
fn list_appointment_categories() {}

/// List appointment types
///
/// The institution's appointment types, optionally only those of a category and those an
/// insurance may book.
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointment_types",
    operation_id = "list_appointment_types",
    tag = "booking",
    params(TypesQuery),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "The appointment types", body = AppointmentTypeList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
fn list_appointment_types() {}

/// Search availabilities
///
/// Free slots of an appointment type for an insurance, in a window of at most 31 days, ordered by
/// start. Each availability's id alone is enough to book it.
#[utoipa::path(
    get,
    path = "/api/portal/v1/availabilities",
    operation_id = "search_availabilities",
    tag = "booking",
    params(SearchIdsQuery, WindowQuery),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "One page of free slots", body = AvailabilityPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
fn search_availabilities() {}

/// Book an appointment
///
/// Books an availability for the patient in one transaction: two patients never get the same
/// slot, and a patient never holds more upcoming appointments of a type than its
/// `max_active_appointments_per_patient` (`409 booking_limit_reached`, whose message states the
/// limit; cancelled and past appointments do not count, rescheduling is not a new booking). With
/// an `Idempotency-Key`, a retry by the same app with the same key and body returns the same
/// appointment (`Idempotent-Replayed: true`) and never books a second one; keys are scoped to
/// the patient and the app (the token's `client_id`). An ASAP `email` other than the patient's
/// verified account address is mailed one confirmation link and used only once confirmed
/// (`asap_list.email_confirmed`).
#[utoipa::path(
    post,
    path = "/api/portal/v1/booking",
    operation_id = "book_appointment",
    tag = "booking",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body from the same app always answer with the same appointment (1 to 255 visible ASCII characters; scoped to the patient and the app)"),
    ),
    request_body(content = BookRequest, content_type = "application/json"),
    security(("oauth2" = ["profile_read", "appointment_write"]), ("bearer" = ["profile_read", "appointment_write"])),
    responses(
        (status = 201, description = "Booked", body = IdResponse, headers(
            ("Location" = String, description = "`/api/portal/v1/appointments/{id}`"),
            ("Idempotent-Replayed" = String, description = "`true` when this answers a retry"),
            ("ETag" = String, description = "The new appointment's `ETag` (for `If-Match`); absent on a replay"),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
fn book_appointment() {}

/// List appointments
///
/// The patient's appointments, booked and cancelled, latest start first.
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointments",
    operation_id = "list_appointments",
    tag = "booking",
    params(ListQuery),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "One page of appointments", body = AppointmentPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
fn list_appointments() {}

/// Get an appointment
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointments/{id}",
    operation_id = "get_appointment",
    tag = "booking",
    params(AppointmentId),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "The appointment", body = AppointmentView, headers(
            ("ETag" = String, description = "This revision of the appointment; send it in `If-Match` to reschedule or cancel in one storage round trip"),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
fn get_appointment() {}

/// Reschedule an appointment
///
/// Moves the appointment to another availability of the same type, category and insurance (see
/// `GET /appointments/{id}/availabilities`). Refused while cancelled or inside the type's
/// cancellation notice period. With `If-Match`, only if the appointment is still at the revision
/// its `ETag` names (otherwise 412).
#[utoipa::path(
    put,
    path = "/api/portal/v1/appointments/{id}",
    operation_id = "reschedule_appointment",
    tag = "booking",
    params(
        AppointmentId,
        ("If-Match" = Option<String>, Header, description = "The appointment's `ETag` (from `GET /appointments/{id}` or the last reschedule): changes it only at that revision, and saves the server a read"),
    ),
    request_body(content = RescheduleRequest, content_type = "application/json"),
    security(("oauth2" = ["profile_read", "appointment_write"]), ("bearer" = ["profile_read", "appointment_write"])),
    responses(
        (status = 200, description = "The appointment, same id, new times", body = AppointmentView, headers(
            ("ETag" = String, description = "The new revision of the appointment"),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
fn reschedule_appointment() {}

/// Cancel an appointment
///
/// Cancels the appointment and frees its slot. Refused when already cancelled or inside the
/// type's cancellation notice period. With `If-Match`, only if the appointment is still at the
/// revision its `ETag` names (otherwise 412).
#[utoipa::path(
    delete,
    path = "/api/portal/v1/appointments/{id}",
    operation_id = "cancel_appointment",
    tag = "booking",
    params(
        AppointmentId,
        ("If-Match" = Option<String>, Header, description = "The appointment's `ETag`: cancels only at that revision, and saves the server a read"),
    ),
    security(("oauth2" = ["profile_read", "appointment_write"]), ("bearer" = ["profile_read", "appointment_write"])),
    responses(
        (status = 200, description = "Cancelled", body = IdResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
        (status = 503, response = Unavailable),
    )
)]
fn cancel_appointment() {}

/// Availabilities to reschedule to
///
/// Free slots of the appointment's own type, category and insurance, without its current slot.
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointments/{id}/availabilities",
    operation_id = "list_appointment_availabilities",
    tag = "booking",
    params(AppointmentId, WindowQuery),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "One page of free slots", body = AvailabilityPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    )
)]
fn list_appointment_availabilities() {}

/// Video consultation link
///
/// The join link of a video consultation; `409` for other appointment types, cancelled
/// appointments and consultations that are over.
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointments/{id}/video_consultation",
    operation_id = "get_video_consultation",
    tag = "booking",
    params(AppointmentId),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "The join link", body = VideoLink),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
fn get_video_consultation() {}
