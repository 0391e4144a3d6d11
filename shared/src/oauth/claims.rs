//! Identity claims of a patient as OIDC scopes release them (OIDC Core §5.4).

use serde::{Deserialize, Serialize};

use crate::domain::patient::Patient;
use crate::scope::{Scope, Scopes};

/// Standard claims, each present only when the scope that releases it was granted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityClaims {
    /// `profile`: full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `profile`: first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `profile`: last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// `profile`: birth date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// `profile`: the patient's language, a BCP 47 tag (`en`, `de`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `email`: address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `email`: whether the address was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// `phone`: number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

impl IdentityClaims {
    /// The claims `scopes` release about `patient` (OIDC Core §5.4): `profile` → `name` ("First
    /// Last"), `given_name`, `family_name`, `birthdate`, `locale`; `email` → `email`, `email_verified`;
    /// `phone` → `phone_number` when the patient has one. Every other claim stays absent, so
    /// nothing is disclosed that the patient did not consent to.
    pub fn released(patient: &Patient, scopes: &Scopes) -> IdentityClaims {
        let mut claims = IdentityClaims::default();
        if scopes.contains(Scope::Profile) {
            claims.name = Some(format!("{} {}", patient.first_name, patient.last_name));
            claims.given_name = Some(patient.first_name.as_str().to_owned());
            claims.family_name = Some(patient.last_name.as_str().to_owned());
            claims.birthdate = Some(patient.birth_date.to_string());
            claims.locale = Some(patient.locale.tag().to_owned());
        }
        if scopes.contains(Scope::Email) {
            claims.email = Some(patient.email.as_str().to_owned());
            claims.email_verified = Some(patient.email_verified);
        }
        if scopes.contains(Scope::Phone) {
            claims.phone_number = patient.phone.as_ref().map(|p| p.as_str().to_owned());
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patient::{BirthDate, Email, Name, Phone};

    fn patient(phone: Option<&str>) -> Patient {
        let mut patient = Patient::new(
            Email::parse("Anna@Example.org").unwrap(),
            Name::parse("Anna", "first name").unwrap(),
            Name::parse("Muster", "last name").unwrap(),
            BirthDate::parse("1985-02-28").unwrap(),
            phone.map(|p| Phone::parse(p).unwrap()),
        );
        patient.email_verified = true;
        patient
    }

    #[test]
    fn each_scope_releases_exactly_its_claims() {
        let anna = patient(Some("+49 30 1234567"));
        let released =
            |scopes: &str| IdentityClaims::released(&anna, &Scopes::parse(scopes).unwrap());

        assert_eq!(
            released("openid profile_read appointment_read"),
            IdentityClaims::default()
        );
        assert_eq!(
            released("openid profile"),
            IdentityClaims {
                name: Some("Anna Muster".into()),
                given_name: Some("Anna".into()),
                family_name: Some("Muster".into()),
                birthdate: Some("1985-02-28".into()),
                locale: Some("en".into()),
                ..IdentityClaims::default()
            }
        );
        assert_eq!(
            released("email"),
            IdentityClaims {
                email: Some("Anna@Example.org".into()),
                email_verified: Some(true),
                ..IdentityClaims::default()
            }
        );
        assert_eq!(
            released("phone"),
            IdentityClaims {
                phone_number: Some("+49301234567".into()),
                ..IdentityClaims::default()
            }
        );
    }

    #[test]
    fn the_phone_scope_releases_nothing_for_a_patient_without_a_number() {
        let claims =
            IdentityClaims::released(&patient(None), &Scopes::parse("openid phone").unwrap());
        assert_eq!(claims, IdentityClaims::default());
        assert_eq!(
            serde_json::to_value(&claims).unwrap(),
            serde_json::json!({})
        );
    }
}
