//! OAuth 2.0 / OpenID Connect flows, one module per endpoint flow, with no HTTP in them beyond
//! what the RFCs define as the wire format of their errors.

pub mod access;
pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod code;
pub mod csrf;
pub mod error;
pub mod flow;
pub mod flow_error;
pub mod introspect;
pub mod logout;
pub mod params;
pub mod passkey;
pub mod refresh;
mod refusal;
pub mod revoke;
pub mod second_factor;
pub mod service;
pub mod token;

pub use error::{OAuthError, OAuthErrorCode};
