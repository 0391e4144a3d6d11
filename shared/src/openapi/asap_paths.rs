//! The ASAP list operations (function `asap`), base `/api/portal/v1`: join or leave the list of
//! patients told by email when an earlier slot of their appointment's type frees up, and look for
//! an earlier slot directly.
//!
//! Description-only functions, like [`super::booking_paths`].
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use super::params::AppointmentId;
use super::responses::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::booking::views::{AsapSubscribeRequest, AsapSubscription, EarlierAvailability};

/// Join the ASAP list
///
/// Puts the appointment on the ASAP list: the patient gets an email when an earlier slot of the
/// same type frees up. `409` when the type has no ASAP list, or the appointment is cancelled or
/// has started. Joining again only updates the address. An address other than the patient's
/// verified account address is mailed one confirmation link (at most 3 such mails per address
/// and day) and used only once confirmed (`asap_list.email_confirmed`); until then notifications
/// go to the account address. Notifications are limited to 3 per subscription and 10 per
/// address and day.
#[utoipa::path(
    post,
    path = "/api/portal/v1/appointments/{id}/asap_list",
    operation_id = "join_asap_list",
    tag = "asap",
    params(AppointmentId),
    request_body(
        content = AsapSubscribeRequest,
        content_type = "application/json",
        description = "`{}`, or no body at all, sends the notifications to the patient's account address",
    ),
    security(("oauth2" = ["profile_read", "appointment_write"]), ("bearer" = ["profile_read", "appointment_write"])),
    responses(
        (status = 200, description = "On the list", body = AsapSubscription, headers(
            ("ETag" = String, description = "The appointment's new `ETag` (for `If-Match` on `PUT`/`DELETE /appointments/{id}`)"),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 503, response = Unavailable),
    )
)]
fn join_asap_list() {}

/// Leave the ASAP list
#[utoipa::path(
    delete,
    path = "/api/portal/v1/appointments/{id}/asap_list",
    operation_id = "leave_asap_list",
    tag = "asap",
    params(AppointmentId),
    security(("oauth2" = ["profile_read", "appointment_write"]), ("bearer" = ["profile_read", "appointment_write"])),
    responses(
        (status = 200, description = "Off the list", body = AsapSubscription, headers(
            ("ETag" = String, description = "The appointment's new `ETag` (for `If-Match` on `PUT`/`DELETE /appointments/{id}`)"),
        )),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
fn leave_asap_list() {}

/// Earlier availability
///
/// The appointment and the earliest free slot of its type before it, or `null`; book it with
/// `PUT /appointments/{id}`.
#[utoipa::path(
    get,
    path = "/api/portal/v1/appointments/{id}/earlier_availability",
    operation_id = "get_earlier_availability",
    tag = "asap",
    params(AppointmentId),
    security(("oauth2" = ["profile_read", "appointment_read"]), ("bearer" = ["profile_read", "appointment_read"])),
    responses(
        (status = 200, description = "The appointment and an earlier slot, if any", body = EarlierAvailability),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
    )
)]
fn get_earlier_availability() {}
