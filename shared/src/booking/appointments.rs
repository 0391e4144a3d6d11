//! The appointment record and the booking request (how an appointment is shown is
//! [`super::views`]).
//!
//! An appointment keeps a snapshot of what the patient booked (type and category names, video
//! flag, cancellation notice, time zone), so it reads the same after the catalog changes.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::schedule::Slot;
use super::BookingError;
use crate::domain::patient::Email;

/// Length of appointment ids (random base62).
pub const ID_LEN: usize = 28;

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
    /// 28-character random base62 id.
    pub id: String,
    /// Whose it is.
    pub patient_id: String,
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

    /// Whether `text` can be an appointment id at all (anything else is simply not found).
    pub fn is_valid_id(text: &str) -> bool {
        text.len() == ID_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric())
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
        assert!(Appointment::is_valid_id(&crate::crypto::random_id(ID_LEN)));
        assert!(!Appointment::is_valid_id("short"));
        assert!(!Appointment::is_valid_id(&"#".repeat(ID_LEN)));
    }
}
