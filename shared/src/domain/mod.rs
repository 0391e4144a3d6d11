//! The portal's domain model: OAuth clients, patients and their passwords.
//!
//! Types here validate on construction, so a value of a domain type is always well-formed; storage
//! mapping lives in [`crate::repo`], never here.

pub mod client;
pub mod common_passwords;
pub mod password;
pub mod patient;

pub use client::{Client, ClientError, ClientId, ClientKind, RedirectUri};
pub use password::{hash_password, verify_dummy, verify_password, PasswordError};
pub use patient::{BirthDate, Email, Name, Patient, PatientError, PatientId, Phone};
