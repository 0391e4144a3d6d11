//! The appointment record and the booking request (how an appointment is shown is
//! [`super::views`]).
//!
//! An appointment keeps a snapshot of what the patient booked (type and category names, video
//! flag, cancellation notice, time zone), so it reads the same after the catalog changes.

use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schedule::Slot;
use super::BookingError;
use crate::crypto;
use crate::domain::patient::{Email, PatientId};

/// An appointment's identifier: 28 random base62 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AppointmentId(String);

/// Text that cannot be an appointment id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid appointment id")]
pub struct InvalidAppointmentId;

impl AppointmentId {
    /// Length of every appointment id.
    pub const LEN: usize = 28;

    /// Validates an id from a request, a token or storage: exactly [`Self::LEN`] ASCII letters or
    /// digits.
    pub fn parse(text: &str) -> Result<AppointmentId, InvalidAppointmentId> {
        if text.len() == Self::LEN && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(AppointmentId(text.to_owned()))
        } else {
            Err(InvalidAppointmentId)
        }
    }

    /// The id in a request path: text that cannot be an appointment id names no appointment, so
    /// it is answered like an unknown id (404).
    pub fn from_path(text: &str) -> Result<AppointmentId, BookingError> {
        Self::parse(text).map_err(|_| BookingError::NotFound(format!("no appointment {text}")))
    }

    /// A new random id.
    pub fn generate() -> AppointmentId {
        AppointmentId(crypto::random_id(Self::LEN))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppointmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AppointmentId {
    type Error = InvalidAppointmentId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AppointmentId::parse(&value)
    }
}

impl From<AppointmentId> for String {
    fn from(id: AppointmentId) -> Self {
        id.0
    }
}

/// Longest comment a patient may leave.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Whether the appointment still holds its slot (shown as `"booked"` or `"cancelled"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppointmentStatus {
    /// Holds its slot.
    Booked,
    /// Cancelled; its slot was released.
    Cancelled,
}

impl AppointmentStatus {
    /// The stored and shown form.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "booked" => Some(AppointmentStatus::Booked),
            "cancelled" => Some(AppointmentStatus::Cancelled),
            _ => None,
        }
    }
}

/// A patient's appointment.
///
/// Serialisable so that an [`AppointmentTag`](super::etag::AppointmentTag) can carry a sealed copy
/// of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Its id.
    pub id: AppointmentId,
    /// Whose it is.
    pub patient_id: PatientId,
    /// Booked or cancelled.
    pub status: AppointmentStatus,
    /// Appointment type id.
    pub type_id: i64,
    /// Appointment type name at booking time.
    pub type_name: String,
    /// Category id.
    pub category_id: i64,
    /// Category name at booking time.
    pub category_name: String,
    /// Insurance it was booked with.
    pub insurance_id: i64,
    /// Start (unix seconds).
    pub starts_at: i64,
    /// End (unix seconds).
    pub ends_at: i64,
    /// The institution's time zone, for showing times with their offset.
    #[serde(with = "tz_name")]
    pub time_zone: Tz,
    /// Video consultation.
    pub video_consultation: bool,
    /// On the ASAP (earlier appointment) list.
    pub asap_opt_in: bool,
    /// Where ASAP notifications go, if the patient gave an address.
    pub email: Option<String>,
    /// The current ASAP subscription (set while `asap_opt_in`): a new id per subscription, so an
    /// unsubscribe link ends only the subscription it was sent for.
    pub asap_subscription_id: Option<String>,
    /// When the current ASAP subscription started (oldest subscriptions are told first).
    pub asap_since: Option<i64>,
    /// The patient's comment.
    pub comment: Option<String>,
    /// Cancellation notice period agreed at booking (hours).
    pub cancellation_notice_hours: i64,
    /// When it was booked (unix seconds).
    pub created_at: i64,
    /// Bumped by every change (1 when booked; 0 for records written before revisions existed).
    /// Writes are conditioned on it, so a change based on an outdated copy is refused.
    pub revision: i64,
}

/// A time zone as its IANA name.
mod tz_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = <&str>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl Appointment {
    /// The slot it holds.
    pub fn slot(&self) -> Slot {
        Slot {
            start: self.starts_at,
            end: self.ends_at,
        }
    }
}

/// The body of `POST /booking`. Unknown fields are ignored; known ones must have their type.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ToSchema)]
pub struct BookRequest {
    /// Id of an availability from a search.
    pub availability_id: String,
    /// The patient's insurance; must be the one the availability was searched for.
    #[schema(example = 136)]
    pub insurance_id: i64,
    /// Optional comment (at most 1000 characters, no control characters but line breaks and tabs).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
    /// Join the ASAP list for an earlier slot.
    #[serde(default)]
    pub asap_list_opt_in: Option<bool>,
    /// Address for ASAP notifications.
    #[serde(default)]
    #[schema(format = Email)]
    pub email: Option<String>,
}

impl BookRequest {
    /// Checks the fields' rules; returns the normalised comment and email.
    pub fn validate(&self) -> Result<(Option<String>, Option<String>), BookingError> {
        if self.availability_id.trim().is_empty() {
            return Err(BookingError::InvalidRequest(
                "`availability_id` must not be empty".into(),
            ));
        }
        let comment = match self.comment.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                if text.chars().count() > MAX_COMMENT_CHARS {
                    return Err(BookingError::InvalidRequest(format!(
                        "`comment` must be at most {MAX_COMMENT_CHARS} characters"
                    )));
                }
                if text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
                {
                    return Err(BookingError::InvalidRequest(
                        "`comment` must not contain control characters".into(),
                    ));
                }
                Some(text.to_owned())
            }
        };
        let email = match self.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                Email::parse(text)
                    .map_err(|e| BookingError::InvalidRequest(format!("`email`: {e}")))?
                    .to_string(),
            ),
        };
        Ok((comment, email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(comment: Option<String>, email: Option<&str>) -> BookRequest {
        BookRequest {
            availability_id: "x".into(),
            insurance_id: 136,
            comment,
            asap_list_opt_in: None,
            email: email.map(str::to_owned),
        }
    }

    #[test]
    fn comments_and_emails_are_checked() {
        assert!(request(Some("a".repeat(1000)), None).validate().is_ok());
        assert!(request(Some("a".repeat(1001)), None).validate().is_err());
        assert!(request(None, Some("not-an-email")).validate().is_err());
        let (_, email) = request(None, Some(" Anna@Example.org "))
            .validate()
            .unwrap();
        assert!(email.is_some());
    }

    #[test]
    fn ids_have_one_shape() {
        let id = AppointmentId::generate();
        assert_eq!(AppointmentId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(AppointmentId::parse("short"), Err(InvalidAppointmentId));
        let odd = "#".repeat(AppointmentId::LEN);
        assert_eq!(AppointmentId::parse(&odd), Err(InvalidAppointmentId));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<AppointmentId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<AppointmentId>("\"short\"").is_err());
    }

    #[test]
    fn an_id_in_a_path_that_cannot_be_one_is_not_found() {
        let id = AppointmentId::generate();
        assert_eq!(AppointmentId::from_path(id.as_str()).unwrap(), id);
        let error = AppointmentId::from_path("nope").unwrap_err();
        assert!(matches!(error, BookingError::NotFound(ref m) if m == "no appointment nope"));
    }
}
