//! OAuth error codes as the RFCs name them, and their two wire forms: the token endpoint's JSON body
//! (RFC 6749 §5.2) and the authorization endpoint's redirect (RFC 6749 §4.1.2.1, RFC 9207 `iss`).

use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::repo::{GrantError, RepoError};
use crate::store::StoreError;

/// Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7009 §2.2.1 and OIDC Core §3.1.2.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// RFC 6749 §4.1.2.1 / §5.2: missing, repeated or malformed parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed (401).
    InvalidClient,
    /// RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or not this client's.
    InvalidGrant,
    /// RFC 6749 §4.1.2.1 / §5.2: this client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1 / §5.2: unknown scope, or beyond what the client or grant allows.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the patient (or the server) denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: only `code` is supported.
    UnsupportedResponseType,
    /// RFC 7009 §2.2.1: the token type cannot be revoked.
    UnsupportedTokenType,
    /// OIDC Core §3.1.2.6: `prompt=none` but the patient is not signed in.
    LoginRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` but consent is needed.
    ConsentRequired,
    /// OIDC Core §3.1.2.6: `prompt=none` but some interaction is needed.
    InteractionRequired,
    /// OIDC Core §3.1.2.6 and §6: the `request` parameter (a request object) is not supported.
    RequestNotSupported,
    /// OIDC Core §3.1.2.6 and §6: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// RFC 6749 §4.1.2.1 / §5.2: unexpected condition (500); the cause is logged.
    ServerError,
    /// RFC 6749 §4.1.2.1: temporarily unable to handle the request (503).
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An OAuth error with a human description (safe to show: never a secret or an internal cause).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    /// The RFC code.
    pub code: OAuthErrorCode,
    /// What went wrong, for the client developer.
    pub description: String,
}

/// The error body of the token, revocation and introspection endpoints (RFC 6749 §5.2), also its
/// OpenAPI schema (`OAuthError`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OAuthError)]
pub struct TokenErrorBody<'a> {
    /// The RFC error code.
    pub error: OAuthErrorCode,
    /// What went wrong, for the client developer.
    pub error_description: &'a str,
}

impl OAuthError {
    /// An error with a code and description.
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }
    /// `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, description)
    }
    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }
    /// `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidScope, description)
    }
    /// `server_error`, logging the internal cause (never returned to the client).
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error in an OAuth flow");
        Self::new(
            OAuthErrorCode::ServerError,
            "the server could not complete the request",
        )
    }

    /// HTTP status of this error at the token, revocation and introspection endpoints.
    pub fn status(&self) -> StatusCode {
        match self.code {
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The RFC 6749 §5.2 JSON response (`Cache-Control: no-store`, `Pragma: no-cache`); for
    /// `invalid_client`, a 401 with `WWW-Authenticate` naming the scheme the client should use.
    pub fn into_token_response(self) -> Response<Body> {
        let mut response = crate::http::response::json(
            self.status(),
            &TokenErrorBody {
                error: self.code,
                error_description: &self.description,
            },
        );
        let headers = response.headers_mut();
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        match self.code {
            OAuthErrorCode::InvalidClient => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Basic realm="MyPatientPortal", charset="UTF-8""#),
                );
            }
            OAuthErrorCode::TemporarilyUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        response
    }

    /// The authorization error response (RFC 6749 §4.1.2.1): a redirect to the client's registered
    /// `redirect_uri` with `error`, `error_description`, `state` and `iss` (RFC 9207).
    pub fn into_redirect(
        self,
        redirect_uri: &str,
        state: Option<&str>,
        issuer: &str,
    ) -> Response<Body> {
        let mut pairs = vec![
            ("error", self.code.as_str()),
            ("error_description", self.description.as_str()),
        ];
        if let Some(state) = state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        crate::http::response::redirect(&append_query(redirect_uri, &pairs))
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "store unavailable");
                Self::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "the service is temporarily unavailable; try again shortly",
                )
            }
            StoreError::Conflict => Self::new(
                OAuthErrorCode::TemporarilyUnavailable,
                "the service is busy; try again shortly",
            ),
            other => Self::server_error(other),
        }
    }
}

impl From<RepoError> for OAuthError {
    /// Storage errors: unavailable or contended → `temporarily_unavailable` (503), anything else →
    /// `server_error` (logged).
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Store(store) => store.into(),
            other => Self::server_error(other),
        }
    }
}

impl From<GrantError> for OAuthError {
    /// Grant errors outside the ones each flow handles itself: storage errors as above, anything
    /// else → `server_error` (logged).
    fn from(error: GrantError) -> Self {
        match error {
            GrantError::Repo(repo) => repo.into(),
            other => Self::server_error(other),
        }
    }
}

/// Appends query parameters to a registered URI, keeping any query it already has (RFC 6749 §3.1.2).
pub fn append_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_name_of_every_code_is_its_rfc_name() {
        use OAuthErrorCode::*;
        for code in [
            InvalidRequest,
            InvalidClient,
            InvalidGrant,
            UnauthorizedClient,
            UnsupportedGrantType,
            InvalidScope,
            AccessDenied,
            UnsupportedResponseType,
            UnsupportedTokenType,
            LoginRequired,
            ConsentRequired,
            InteractionRequired,
            RequestNotSupported,
            RequestUriNotSupported,
            ServerError,
            TemporarilyUnavailable,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn invalid_client_is_a_401_with_www_authenticate() {
        let response = OAuthError::invalid_client("unknown client").into_token_response();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"], "invalid_client");
    }

    #[test]
    fn other_token_errors_are_400() {
        for code in [
            OAuthErrorCode::InvalidRequest,
            OAuthErrorCode::InvalidGrant,
            OAuthErrorCode::UnauthorizedClient,
            OAuthErrorCode::UnsupportedGrantType,
            OAuthErrorCode::InvalidScope,
        ] {
            assert_eq!(
                OAuthError::new(code, "x").into_token_response().status(),
                400
            );
        }
    }

    #[test]
    fn an_error_redirect_keeps_the_registered_query_and_carries_state_and_iss() {
        let response = OAuthError::new(OAuthErrorCode::AccessDenied, "denied").into_redirect(
            "https://app.example/cb?tenant=1",
            Some("xyz"),
            "https://id.example",
        );
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("https://app.example/cb?tenant=1&error=access_denied"));
        assert!(location.contains("state=xyz"));
        assert!(location.contains("iss=https%3A%2F%2Fid.example"));
    }
}
