//! The portal's domain model: OAuth clients, patients, their passwords and second factors
//! (authenticator-app secrets, recovery codes), and how strongly they signed in (assurance).
//!
//! Types here validate on construction, so a value of a domain type is always well-formed; storage
//! mapping lives in [`crate::repo`], never here.

pub mod assurance;
pub mod client;
pub mod common_passwords;
pub mod password;
pub mod patient;
pub mod recovery_codes;
pub mod totp;

pub use assurance::{Acr, Amr};
pub use client::{Client, ClientError, ClientId, ClientKind, RedirectUri};
pub use password::{hash_password, verify_dummy, verify_password, PasswordError};
pub use patient::{BirthDate, Email, Name, Patient, PatientError, PatientId, Phone};
