//! The appointment record, the booking request, and how an appointment is shown.
//!
//! An appointment keeps a snapshot of what the patient booked (type and category names, video
//! flag, cancellation notice, time zone), so it reads the same after the catalog changes.

use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{json, Value};

use super::schedule::format_in;
use super::BookingError;
use crate::domain::patient::Email;

/// Length of appointment ids (random base62).
pub const ID_LEN: usize = 28;

/// Longest comment a patient may leave.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// Whether the appointment still holds its slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub time_zone: Tz,
    /// Video consultation.
    pub video_consultation: bool,
    /// On the ASAP (earlier appointment) list.
    pub asap_opt_in: bool,
    /// Where ASAP notifications go, if the patient gave an address.
    pub email: Option<String>,
    /// The patient's comment.
    pub comment: Option<String>,
    /// Cancellation notice period agreed at booking (hours).
    pub cancellation_notice_hours: i64,
    /// When it was booked (unix seconds).
    pub created_at: i64,
}

impl Appointment {
    /// The API representation (CONTRACT "Appointment" shape plus `comment` and `created_at`).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": self.status.as_str(),
            "starts_at": format_in(self.time_zone, self.starts_at),
            "ends_at": format_in(self.time_zone, self.ends_at),
            "appointment_type": { "id": self.type_id, "name": self.type_name },
            "appointment_category": { "id": self.category_id, "name": self.category_name },
            "insurance_id": self.insurance_id,
            "video_consultation": self.video_consultation,
            "asap_list": { "subscribed": self.asap_opt_in && self.status == AppointmentStatus::Booked },
            "comment": self.comment,
            "created_at": format_in(self.time_zone, self.created_at),
        })
    }

    /// Whether `text` can be an appointment id at all (anything else is simply not found).
    pub fn is_valid_id(text: &str) -> bool {
        text.len() == ID_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric())
    }
}

/// The body of `POST /booking`. Unknown fields are ignored; known ones must have their type.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct BookRequest {
    /// Id of an availability from a search.
    pub availability_id: String,
    /// The patient's insurance; must be the one the availability was searched for.
    pub insurance_id: i64,
    /// Optional comment (at most [`MAX_COMMENT_CHARS`] characters).
    #[serde(default)]
    pub comment: Option<String>,
    /// Join the ASAP list for an earlier slot.
    #[serde(default)]
    pub asap_list_opt_in: Option<bool>,
    /// Address for ASAP notifications.
    #[serde(default)]
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
