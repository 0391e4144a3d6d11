//! HTTP plumbing shared by every function: parsing requests, routing by method and path, building
//! responses, and the single error-to-response mapping ([`ApiError`]).

pub mod error;
pub mod request;
pub mod response;
pub mod router;

pub use error::ApiError;
pub use router::{PathParams, Router};
