//! Why the authorization flow stopped: a page for the patient while the client or its redirect
//! URI is not established ([`PageError`]), an error sent back to the client's verified redirect URI
//! afterwards ([`ErrorRedirect`], RFC 6749 §4.1.2.1). No HTTP here: the `authorize` function turns
//! both into responses.

use super::OAuthError;
use crate::repo::RepoError;
use crate::store::StoreError;

/// An error shown to the patient as a page, never sent to the client's redirect URI.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `client_id` is missing, repeated, malformed or not registered.
    #[error("unknown client")]
    UnknownClient,
    /// `redirect_uri` is missing, repeated or not exactly one the client registered.
    #[error("unregistered redirect_uri")]
    BadRedirectUri,
    /// The sealed request is altered or expired.
    #[error("sign-in request expired or invalid")]
    RequestExpired,
    /// The CSRF cookie and form field are missing or differ.
    #[error("CSRF check failed")]
    Csrf,
    /// The form is not what the page sends (a missing decision...): the catalog message that says
    /// what is missing.
    #[error("bad form: {0}")]
    BadForm(&'static str),
    /// The store is unavailable or busy: worth retrying.
    #[error("temporarily unavailable")]
    Unavailable,
    /// A bug or corrupt data; the cause is logged where it happened.
    #[error("internal error")]
    Internal,
}

impl PageError {
    /// HTTP status of the page.
    pub fn status(&self) -> u16 {
        match self {
            PageError::Csrf => 403,
            PageError::Unavailable => 503,
            PageError::Internal => 500,
            _ => 400,
        }
    }

    /// The catalog message that explains it to the patient: its `.title` attribute is the page's
    /// heading, its value what happened and what the patient can do (with a hint for the app's
    /// developer where the app is at fault). Never contains request input.
    pub fn message_id(&self) -> &'static str {
        match self {
            PageError::UnknownClient => "error-unknown-client",
            PageError::BadRedirectUri => "error-bad-redirect-uri",
            PageError::RequestExpired => "error-request-expired",
            PageError::Csrf => "error-csrf",
            PageError::BadForm(id) => id,
            PageError::Unavailable => "error-unavailable",
            PageError::Internal => "error-internal",
        }
    }
}

impl From<RepoError> for PageError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(cause = %cause, "store unavailable during sign-in");
                PageError::Unavailable
            }
            RepoError::Store(StoreError::Conflict) => PageError::Unavailable,
            other => {
                tracing::error!(cause = %other, "storage failure during sign-in");
                PageError::Internal
            }
        }
    }
}

/// An error for the client, sent to its (verified) redirect URI (RFC 6749 §4.1.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// The OAuth error.
    pub error: OAuthError,
    /// The verified redirect URI.
    pub redirect_uri: String,
    /// The client's `state`, if it sent a usable one.
    pub state: Option<String>,
}

/// Why the flow stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowError {
    /// Show a page.
    Page(PageError),
    /// Send an error back to the client.
    Redirect(ErrorRedirect),
}

impl From<PageError> for FlowError {
    fn from(error: PageError) -> Self {
        FlowError::Page(error)
    }
}

impl From<RepoError> for FlowError {
    fn from(error: RepoError) -> Self {
        FlowError::Page(error.into())
    }
}
