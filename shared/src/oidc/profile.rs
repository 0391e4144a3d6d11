//! The portal profile resource: the resource owner's own account data, for apps granted
//! `profile_read` (the portal API, as opposed to OIDC's identity claims).

use serde::Serialize;

use super::{subject, SubjectError};
use crate::bearer::AccessClaims;
use crate::domain::patient::Patient;
use crate::repo::PatientRepo;

/// Scopes an access token needs to read the profile (CONTRACT.md scope table).
pub const REQUIRED_SCOPES: [&str; 1] = ["profile_read"];

/// `GET /api/portal/v1/profile` response body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Profile {
    /// The patient id (the `sub` of the patient's tokens).
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Sign-in and contact address.
    pub email: String,
    /// Whether the patient proved they receive mail at `email`.
    pub email_verified: bool,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Phone number in international form (`+` and digits), `null` when none was given.
    pub phone: Option<String>,
    /// The language the patient chose for the portal's pages and mails (BCP 47: `en`, `de`).
    #[schema(example = "de")]
    pub locale: String,
}

impl From<&Patient> for Profile {
    fn from(patient: &Patient) -> Self {
        Profile {
            id: patient.id.as_str().to_owned(),
            first_name: patient.first_name.as_str().to_owned(),
            last_name: patient.last_name.as_str().to_owned(),
            email: patient.email.as_str().to_owned(),
            email_verified: patient.email_verified,
            birth_date: patient.birth_date.to_string(),
            phone: patient.phone.as_ref().map(|p| p.as_str().to_owned()),
            locale: patient.locale.tag().to_owned(),
        }
    }
}

/// The profile of the patient a verified access token was issued for. One store read.
pub async fn profile(repo: &PatientRepo, token: &AccessClaims) -> Result<Profile, SubjectError> {
    Ok(Profile::from(&subject(repo, token).await?))
}
