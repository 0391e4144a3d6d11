//! Reusable responses of the OpenAPI document: every error answer the functions give, with the
//! body schema and headers it really has ([`ErrorBody`] from [`crate::http::error`], or the RFC 6749
//! §5.2 [`TokenErrorBody`] at the token endpoints).
//!
//! These types only describe responses: the functions build the real ones through
//! [`crate::http::ApiError::into_response`], [`crate::bearer::BearerError::into_response`] and
//! [`crate::oauth::OAuthError::into_token_response`].

use utoipa::ToResponse;

use crate::http::error::ErrorBody;
use crate::oauth::error::TokenErrorBody;

/// The request is malformed: a missing, repeated or invalid parameter, bad JSON or a field of the
/// wrong type (`invalid_request`, `invalid_json`, `invalid_availability`, `invalid_cursor`,
/// `insurance_not_allowed`).
#[derive(ToResponse)]
pub struct BadRequest<'a>(pub ErrorBody<'a>);

/// No valid access token: missing, malformed, expired, not issued by this server, or its patient
/// no longer exists (`invalid_token`). The challenge says why.
#[derive(ToResponse)]
#[response(headers(
    ("WWW-Authenticate" = String, description = "`Bearer realm=\"MyPatientPortal\", error=\"invalid_token\", error_description=\"…\"` (RFC 6750 §3)")
))]
pub struct Unauthorized<'a>(pub ErrorBody<'a>);

/// The access token lacks a scope this route requires (`insufficient_scope`).
#[derive(ToResponse)]
#[response(headers(
    ("WWW-Authenticate" = String, description = "`Bearer realm=\"MyPatientPortal\", error=\"insufficient_scope\", error_description=\"…\", scope=\"…\"` naming every required scope (RFC 6750 §3)")
))]
pub struct Forbidden<'a>(pub ErrorBody<'a>);

/// No such resource (`not_found`). Another patient's appointment answers exactly like an unknown
/// one.
#[derive(ToResponse)]
pub struct NotFound<'a>(pub ErrorBody<'a>);

/// The request conflicts with the resource's state (`slot_unavailable`, `booking_limit_reached`
/// (the message states the type's `max_active_appointments_per_patient`), `already_cancelled`,
/// `cancellation_period`, `asap_unavailable`, `not_video_consultation`, ...).
#[derive(ToResponse)]
pub struct Conflict<'a>(pub ErrorBody<'a>);

/// The `If-Match` tag is not the appointment's current `ETag` (`precondition_failed`): it changed
/// since the tag was served, or the tag is not one of its tags. Fetch the appointment again.
#[derive(ToResponse)]
pub struct PreconditionFailed<'a>(pub ErrorBody<'a>);

/// The request body is larger than 64 KiB (`payload_too_large`).
#[derive(ToResponse)]
pub struct PayloadTooLarge<'a>(pub ErrorBody<'a>);

/// The request body is not `application/json` (`unsupported_media_type`).
#[derive(ToResponse)]
pub struct UnsupportedMediaType<'a>(pub ErrorBody<'a>);

/// Well-formed but not processable: the `Idempotency-Key` was used before with another body
/// (`idempotency_key_reused`).
#[derive(ToResponse)]
pub struct Unprocessable<'a>(pub ErrorBody<'a>);

/// The store is unavailable or throttled, or no catalog is loaded yet
/// (`temporarily_unavailable`); retry later.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = i64, description = "Seconds to wait before retrying")))]
pub struct Unavailable<'a>(pub ErrorBody<'a>);

/// An OAuth error (RFC 6749 §5.2): `invalid_request`, `invalid_grant`, `unauthorized_client`,
/// `unsupported_grant_type`, `invalid_scope` or `unsupported_token_type`.
#[derive(ToResponse)]
#[response(headers(
    ("Cache-Control" = String, description = "`no-store`"),
    ("Pragma" = String, description = "`no-cache`")
))]
pub struct OAuthBadRequest<'a>(pub TokenErrorBody<'a>);

/// Client authentication failed (`invalid_client`, RFC 6749 §5.2).
#[derive(ToResponse)]
#[response(headers(
    ("WWW-Authenticate" = String, description = "`Basic realm=\"MyPatientPortal\", charset=\"UTF-8\"`"),
    ("Cache-Control" = String, description = "`no-store`")
))]
pub struct OAuthUnauthorized<'a>(pub TokenErrorBody<'a>);

/// The form body is larger than 64 KiB (`invalid_request`).
#[derive(ToResponse)]
pub struct OAuthPayloadTooLarge<'a>(pub TokenErrorBody<'a>);

/// The store is unavailable or throttled (`temporarily_unavailable`); retry later.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = i64, description = "Seconds to wait before retrying")))]
pub struct OAuthUnavailable<'a>(pub TokenErrorBody<'a>);
