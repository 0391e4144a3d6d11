//! OAuth 2.0 / OpenID Connect flows, one module per endpoint flow, with no HTTP in them beyond
//! what the RFCs define as the wire format of their errors.

pub mod claims;
pub mod code;
pub mod error;
pub mod access;
pub mod client_auth;
pub mod introspect;
pub mod refresh;
pub mod revoke;
pub mod token;
pub mod authorize;
pub mod flow;
pub mod csrf;
pub mod logout;

pub use error::{OAuthError, OAuthErrorCode};
