//! The one place where errors become HTTP responses.
//!
//! Client errors go back as they are, with a code and a human description; internal causes are logged
//! and the caller sees a generic `server_error`. Storage that is down or throttled becomes a `503` with
//! `Retry-After`, so clients back off instead of treating it as a bug.

use http::{HeaderValue, Method, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::store::StoreError;

/// An error on its way to becoming a response.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or breaks a rule; `code` is machine-readable.
    #[error("{code}: {description}")]
    BadRequest {
        /// Machine-readable code (`invalid_request`, `invalid_json`, ...).
        code: &'static str,
        /// Human explanation.
        description: String,
    },
    /// 404: no such route or resource (also what another patient's resource looks like).
    #[error("not found: {0}")]
    NotFound(String),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Methods the path accepts, for the `Allow` header.
        allow: Vec<Method>,
    },
    /// 409: the request conflicts with the current state.
    #[error("{code}: {description}")]
    Conflict {
        /// Machine-readable code (`slot_unavailable`, ...).
        code: &'static str,
        /// Human explanation.
        description: String,
    },
    /// 412: an `If-Match` precondition does not hold (RFC 9110 §13.1.1).
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 413: the body is larger than the limit.
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not of a media type the route accepts.
    #[error("unsupported media type")]
    UnsupportedMediaType {
        /// What the route expects.
        expected: &'static str,
    },
    /// 422: well-formed but cannot be processed (e.g. an idempotency key reused with another body).
    #[error("{code}: {description}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// Human explanation.
        description: String,
    },
    /// 429: too many attempts; retry after the given seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 503: a dependency (the store) is unavailable; retry after the given seconds.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 501: a contract route whose feature has not been built yet (names the route).
    #[error("not implemented: {0}")]
    NotImplemented(&'static str),
    /// 500: a bug or an unexpected failure; the cause is logged, never returned.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON error body of the contract: `{"error", "error_description"}` (also its OpenAPI schema,
/// `Error`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// Machine-readable code (`invalid_request`, `invalid_token`, `not_found`, `slot_unavailable`, ...).
    #[schema(example = "invalid_request")]
    pub error: &'a str,
    /// Human explanation, for the developer.
    pub error_description: &'a str,
}

impl ApiError {
    /// A 400 `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "invalid_request",
            description: description.into(),
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Turns the error into the response the client sees, logging internal causes.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let (code, description): (&str, String) = match &self {
            ApiError::BadRequest { code, description }
            | ApiError::Conflict { code, description }
            | ApiError::Unprocessable { code, description } => (code, description.clone()),
            ApiError::NotFound(what) => ("not_found", what.clone()),
            ApiError::PreconditionFailed(what) => ("precondition_failed", what.clone()),
            ApiError::MethodNotAllowed { allow } => (
                "method_not_allowed",
                format!(
                    "this path accepts {}",
                    allow
                        .iter()
                        .map(Method::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            ApiError::PayloadTooLarge { limit } => (
                "payload_too_large",
                format!("the request body is larger than {limit} bytes"),
            ),
            ApiError::UnsupportedMediaType { expected } => (
                "unsupported_media_type",
                format!("the request body must be {expected}"),
            ),
            ApiError::TooManyRequests { .. } => (
                "too_many_requests",
                "too many attempts; try again later".to_owned(),
            ),
            ApiError::NotImplemented(route) => {
                ("not_implemented", format!("{route} is not available yet"))
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "dependency unavailable");
                (
                    "temporarily_unavailable",
                    "the service is temporarily unavailable; try again shortly".to_owned(),
                )
            }
            ApiError::Internal(cause) => {
                tracing::error!(cause = %cause, "internal error");
                (
                    "server_error",
                    "the server could not complete the request".to_owned(),
                )
            }
        };
        let mut response = super::response::json(
            status,
            &ErrorBody {
                error: code,
                error_description: &description,
            },
        );
        let headers = response.headers_mut();
        match &self {
            ApiError::MethodNotAllowed { allow } => {
                let list = allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&list) {
                    headers.insert(http::header::ALLOW, value);
                }
            }
            ApiError::TooManyRequests { retry_after } => {
                headers.insert(http::header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Unavailable(_) => {
                headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Conflict => ApiError::Unavailable("write conflict persisted".into()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn internal_errors_never_reveal_their_cause() {
        let response = ApiError::Internal("secret table name exploded".into()).into_response();
        assert_eq!(response.status(), 500);
        let body = body_json(&response);
        assert_eq!(body["error"], "server_error");
        assert!(!body.to_string().contains("secret"));
    }

    #[test]
    fn unavailable_storage_is_a_503_with_retry_after() {
        let response: ApiError = StoreError::Unavailable("throttled".into()).into();
        let response = response.into_response();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        assert!(!body_json(&response).to_string().contains("throttled"));
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let response = ApiError::MethodNotAllowed {
            allow: vec![Method::GET, Method::POST],
        }
        .into_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, POST");
        assert_eq!(body_json(&response)["error"], "method_not_allowed");
    }

    #[test]
    fn client_errors_keep_their_code_and_description() {
        let response = ApiError::invalid_request("`insurance_id` is required").into_response();
        assert_eq!(response.status(), 400);
        let body = body_json(&response);
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_description"], "`insurance_id` is required");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
