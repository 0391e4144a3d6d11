//! Patients: identity and contact data, each field validated by its own type.

use std::fmt;

use chrono::{Datelike as _, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto;
use crate::i18n::Locale;

/// Why patient data was refused. Messages are written for the person who typed the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatientError {
    /// Not a usable email address.
    #[error("invalid email address")]
    InvalidEmail,
    /// A patient id must be 1 to 64 letters or digits.
    #[error("invalid patient id")]
    InvalidPatientId,
    /// A birth date must be a real calendar date `YYYY-MM-DD`, not in the future, not before 1900.
    #[error("invalid birth date: {0}")]
    InvalidBirthDate(&'static str),
    /// A name must be 1 to 100 characters without control characters.
    #[error("invalid {0}: use 1 to 100 characters without control characters")]
    InvalidName(&'static str),
    /// A phone number must be `+` and the country code and number (7 to 15 digits; spaces allowed).
    #[error("invalid phone number: use international format, e.g. +49 30 1234567")]
    InvalidPhone,
}

/// An email address as the patient typed it (trimmed). Lookups use [`Email::lookup_key`], so
/// `Anna@Example.org` and `anna@example.org` are the same account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Longest address (RFC 5321 path limit minus the angle brackets).
    pub const MAX_LEN: usize = 254;

    /// Validates an address: trimmed; at most 254 bytes; exactly one `@`; a local part of 1 to 64
    /// bytes; a domain of dot-separated non-empty labels with at least one dot; no whitespace, control
    /// characters or `<>()[]\,;:"` (which have no place in a deliverable address and could bend mail
    /// headers). Deliverability itself is proven by the verification mail, not here.
    pub fn parse(text: &str) -> Result<Email, PatientError> {
        let text = text.trim();
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(PatientError::InvalidEmail);
        }
        if text
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "<>()[]\\,;:\"".contains(c))
        {
            return Err(PatientError::InvalidEmail);
        }
        let (local, domain) = text.split_once('@').ok_or(PatientError::InvalidEmail)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63);
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(PatientError::InvalidEmail);
        }
        Ok(Email(text.to_owned()))
    }

    /// The address as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form accounts are found by: ASCII letters lowercased. Only ASCII is folded so that no
    /// two different non-ASCII addresses can collapse into one account through Unicode case rules.
    pub fn lookup_key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = PatientError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

/// A patient's identifier (the `sub` of their tokens): random base62, unrelated to any personal data.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PatientId(String);

impl PatientId {
    /// Length of generated ids (base62, about 166 bits).
    pub const GENERATED_LEN: usize = 28;

    /// Validates an id from a token or storage: 1 to 64 ASCII letters or digits.
    pub fn parse(text: &str) -> Result<PatientId, PatientError> {
        if !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(PatientId(text.to_owned()))
        } else {
            Err(PatientError::InvalidPatientId)
        }
    }

    /// A new random id.
    pub fn generate() -> PatientId {
        PatientId(crypto::random_id(Self::GENERATED_LEN))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PatientId {
    type Error = PatientError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PatientId::parse(&value)
    }
}

impl From<PatientId> for String {
    fn from(id: PatientId) -> Self {
        id.0
    }
}

/// A date of birth: a real calendar date, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// Parses `YYYY-MM-DD` (exactly that shape, zero-padded) and checks it is a calendar date from
    /// 1900 on and not in the future anywhere on Earth (today in UTC+14, so a baby born today in
    /// Kiribati can be registered).
    pub fn parse(text: &str) -> Result<BirthDate, PatientError> {
        let latest_today = (Utc::now() + Duration::hours(14)).date_naive();
        Self::parse_on(text, latest_today)
    }

    /// [`BirthDate::parse`] against a given "today".
    pub fn parse_on(text: &str, today: NaiveDate) -> Result<BirthDate, PatientError> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shaped {
            return Err(PatientError::InvalidBirthDate("use the form YYYY-MM-DD"));
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| PatientError::InvalidBirthDate("no such calendar date"))?;
        if date > today {
            return Err(PatientError::InvalidBirthDate("it is in the future"));
        }
        if date.year() < 1900 {
            return Err(PatientError::InvalidBirthDate("it is before 1900"));
        }
        Ok(BirthDate(date))
    }

    /// The date.
    pub fn date(&self) -> NaiveDate {
        self.0
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl TryFrom<String> for BirthDate {
    type Error = PatientError;
    /// Accepts any `YYYY-MM-DD` calendar date from 1900 on without the "not in the future" rule, so a
    /// stored or sealed value never fails to load because of clock differences.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_on(&value, NaiveDate::MAX)
    }
}

impl From<BirthDate> for String {
    fn from(date: BirthDate) -> Self {
        date.to_string()
    }
}

/// A first or last name: trimmed, 1 to 100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Longest name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Validates a name; `field` ("first name", "last name") names it in the error.
    pub fn parse(text: &str, field: &'static str) -> Result<Name, PatientError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || text.chars().any(char::is_control) {
            return Err(PatientError::InvalidName(field));
        }
        Ok(Name(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in international form, kept as `+` and digits (spaces removed), as OIDC's
/// `phone_number` claim recommends (E.164).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `+` followed by 7 to 15 digits, optionally separated by single spaces.
    pub fn parse(text: &str) -> Result<Phone, PatientError> {
        let text = text.trim();
        let rest = text.strip_prefix('+').ok_or(PatientError::InvalidPhone)?;
        if text.contains("  ") || !rest.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
            return Err(PatientError::InvalidPhone);
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !(7..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(PatientError::InvalidPhone);
        }
        Ok(Phone(format!("+{digits}")))
    }

    /// The number, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A patient's account data (the password lives only in the email index, see
/// [`crate::repo::PatientRepo`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patient {
    /// Identifier, the `sub` claim.
    pub id: PatientId,
    /// Sign-in and contact address.
    pub email: Email,
    /// Whether the patient proved they receive mail at `email`.
    pub email_verified: bool,
    /// Given name.
    pub first_name: Name,
    /// Family name.
    pub last_name: Name,
    /// Date of birth.
    pub birth_date: BirthDate,
    /// Phone number, if given.
    pub phone: Option<Phone>,
    /// The patient's language: mails are written in it, and it is the `locale` claim.
    pub locale: Locale,
}

impl Patient {
    /// A new patient with a fresh id, an unverified email and the default language (English; see
    /// [`Patient::with_locale`]).
    pub fn new(
        email: Email,
        first_name: Name,
        last_name: Name,
        birth_date: BirthDate,
        phone: Option<Phone>,
    ) -> Patient {
        Patient {
            id: PatientId::generate(),
            email,
            email_verified: false,
            first_name,
            last_name,
            birth_date,
            phone,
            locale: Locale::default(),
        }
    }

    /// The same patient writing in `locale`.
    pub fn with_locale(mut self, locale: Locale) -> Patient {
        self.locale = locale;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_kept_as_typed_and_looked_up_in_lowercase() {
        let email = Email::parse("  Anna.Muster+portal@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "Anna.Muster+portal@Example.ORG");
        assert_eq!(email.lookup_key(), "anna.muster+portal@example.org");
    }

    #[test]
    fn malformed_emails_are_refused() {
        let long_local = format!("{}@example.org", "a".repeat(65));
        let too_long = format!("a@{}.org", "b".repeat(250));
        for bad in [
            "",
            "anna",
            "@example.org",
            "anna@",
            "anna@example",
            "anna@@example.org",
            "a@b@example.org",
            "anna@example..org",
            "anna@.example.org",
            "an na@example.org",
            "anna@example.org\r\nBcc: x@y.z",
            "<anna@example.org>",
            long_local.as_str(),
            too_long.as_str(),
        ] {
            assert_eq!(
                Email::parse(bad),
                Err(PatientError::InvalidEmail),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn patient_ids_are_generated_base62_and_parsed_strictly() {
        let id = PatientId::generate();
        assert_eq!(id.as_str().len(), 28);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(PatientId::parse(id.as_str()), Ok(id));
        for bad in ["", "a-b", "a#b", &"a".repeat(65)] {
            assert_eq!(PatientId::parse(bad), Err(PatientError::InvalidPatientId));
        }
    }

    #[test]
    fn birth_dates_must_be_real_past_dates_in_the_exact_form() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            BirthDate::parse_on("1985-02-28", today)
                .unwrap()
                .to_string(),
            "1985-02-28"
        );
        assert!(BirthDate::parse_on("2000-02-29", today).is_ok());
        assert!(
            BirthDate::parse_on("2026-03-01", today).is_ok(),
            "born today"
        );
        for bad in [
            "1985-2-28",
            "85-02-28",
            "1985/02/28",
            "1985-02-28T00:00",
            "2001-02-29",
            "1985-13-01",
            "1985-00-10",
            "2026-03-02",
            "1899-12-31",
            "",
        ] {
            assert!(
                matches!(
                    BirthDate::parse_on(bad, today),
                    Err(PatientError::InvalidBirthDate(_))
                ),
                "{bad}"
            );
        }
        assert!(BirthDate::parse("9999-01-01").is_err());
        assert!(BirthDate::parse("1990-06-15").is_ok());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Anna ", "first name").unwrap().as_str(),
            "Anna"
        );
        assert!(Name::parse(&"é".repeat(100), "first name").is_ok());
        assert_eq!(
            Name::parse(&"é".repeat(101), "first name"),
            Err(PatientError::InvalidName("first name"))
        );
        assert_eq!(
            Name::parse(" ", "last name"),
            Err(PatientError::InvalidName("last name"))
        );
        assert!(Name::parse("Anna\u{0}", "first name").is_err());
    }

    #[test]
    fn phones_are_international_and_stored_without_spaces() {
        assert_eq!(
            Phone::parse(" +49 30 1234567 ").unwrap().as_str(),
            "+49301234567"
        );
        assert_eq!(
            Phone::parse("+14155550100").unwrap().as_str(),
            "+14155550100"
        );
        for bad in [
            "",
            "030 1234567",
            "+49-30-1234567",
            "+49  301234567",
            "+123456",
            "+1234567890123456",
            "+0301234567",
            "+49 30 12a4567",
        ] {
            assert_eq!(
                Phone::parse(bad),
                Err(PatientError::InvalidPhone),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_new_patient_gets_a_fresh_id_and_an_unverified_email() {
        let make = || {
            Patient::new(
                Email::parse("anna@example.org").unwrap(),
                Name::parse("Anna", "first name").unwrap(),
                Name::parse("Muster", "last name").unwrap(),
                BirthDate::parse("1985-02-28").unwrap(),
                None,
            )
        };
        let (a, b) = (make(), make());
        assert!(!a.email_verified);
        assert_eq!(a.locale, Locale::ENGLISH);
        assert_ne!(a.id, b.id);
    }
}
