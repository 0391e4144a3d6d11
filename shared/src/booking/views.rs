//! The booking API's wire shapes: every JSON body the booking and ASAP routes send or accept, as
//! typed structs.
//!
//! Handlers serialise these very structs (see [`to_value`]) and the OpenAPI document
//! ([`crate::openapi`]) derives its schemas from them, so the documentation and the wire format
//! cannot drift apart. Field names follow CONTRACT.md ("Shapes"); fields beyond the contract's are
//! additions it allows.
//!
//! Shapes defined next to the code that produces them are documented from there too:
//! [`Availability`] and [`AvailabilityPage`] (search results), [`VideoLink`] (join links),
//! [`BookRequest`] (the booking body) and [`crate::http::error::ErrorBody`] (every error).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::appointments::{Appointment, AppointmentStatus};
use super::catalog::{AppointmentType, Category, Insurance};
use super::schedule::format_in;
use super::BookingError;

pub use super::appointments::BookRequest;
pub use super::availability::{Availability, AvailabilityPage};
pub use super::video::VideoLink;

/// The JSON of a view. Views are plain structs of strings, numbers, booleans and nested views, so
/// this cannot fail in practice; a failure is still reported (500) rather than unwrapped.
pub fn to_value<T: Serialize>(view: &T) -> Result<Value, BookingError> {
    serde_json::to_value(view)
        .map_err(|e| BookingError::Internal(format!("a response did not serialise: {e}")))
}

/// An insurance the institution accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Insurance)]
pub struct InsuranceView {
    /// Insurance id.
    #[schema(example = 136)]
    pub id: i64,
    /// Display name.
    #[schema(example = "Public health insurance")]
    pub name: String,
}

impl From<&Insurance> for InsuranceView {
    fn from(insurance: &Insurance) -> Self {
        Self {
            id: insurance.id,
            name: insurance.name.clone(),
        }
    }
}

/// `{"data": [insurance, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InsuranceList {
    /// Every insurance, ordered by id.
    pub data: Vec<InsuranceView>,
}

/// An appointment category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AppointmentCategory)]
pub struct CategoryView {
    /// Category id.
    #[schema(example = 53)]
    pub id: i64,
    /// Display name.
    #[schema(example = "General practice")]
    pub name: String,
}

impl From<&Category> for CategoryView {
    fn from(category: &Category) -> Self {
        Self {
            id: category.id,
            name: category.name.clone(),
        }
    }
}

/// `{"data": [category, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AppointmentCategoryList)]
pub struct CategoryList {
    /// The categories, ordered by id.
    pub data: Vec<CategoryView>,
}

/// An appointment type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AppointmentType)]
pub struct AppointmentTypeView {
    /// Type id.
    #[schema(example = 198)]
    pub id: i64,
    /// Display name.
    #[schema(example = "Check-up")]
    pub name: String,
    /// The category it belongs to.
    #[schema(example = 53)]
    pub category_id: i64,
    /// Length of one appointment.
    #[schema(example = 20)]
    pub duration_minutes: i64,
    /// Whether patients can join the ASAP list for an earlier slot.
    pub asap_notifications_enabled: bool,
    /// Whether it is held by video.
    pub video_consultation: bool,
    /// How long before the start an appointment can still be rescheduled or cancelled (hours).
    #[schema(example = 24)]
    pub cancellation_notice_hours: i64,
}

impl From<&AppointmentType> for AppointmentTypeView {
    fn from(kind: &AppointmentType) -> Self {
        Self {
            id: kind.id,
            name: kind.name.clone(),
            category_id: kind.category_id,
            duration_minutes: kind.duration_minutes,
            asap_notifications_enabled: kind.asap_notifications_enabled,
            video_consultation: kind.video_consultation,
            cancellation_notice_hours: kind.cancellation_notice_hours,
        }
    }
}

/// `{"data": [type, ...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = AppointmentTypeList)]
pub struct AppointmentTypeList {
    /// The types, ordered by id.
    pub data: Vec<AppointmentTypeView>,
}

/// A catalog entry an appointment refers to, by id and name (as they were when it was booked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NamedRef {
    /// Id of the entry.
    pub id: i64,
    /// Its name at booking time.
    pub name: String,
}

/// Whether the appointment is on the ASAP list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AsapListState {
    /// On the list (never for a cancelled appointment).
    pub subscribed: bool,
}

/// A patient's appointment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = Appointment)]
pub struct AppointmentView {
    /// Appointment id (28 characters, letters and digits).
    #[schema(example = "x7Ghq2LmP0aZrT5vWc9sD1kYbN3e")]
    pub id: String,
    /// Booked, or cancelled.
    pub status: AppointmentStatus,
    /// Start, ISO 8601 with the institution's UTC offset.
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    pub starts_at: String,
    /// End, ISO 8601 with the institution's UTC offset.
    #[schema(example = "2026-12-01T09:20:00+01:00")]
    pub ends_at: String,
    /// The appointment type.
    pub appointment_type: NamedRef,
    /// Its category.
    pub appointment_category: NamedRef,
    /// The insurance it was booked with.
    #[schema(example = 136)]
    pub insurance_id: i64,
    /// Whether it is a video consultation.
    pub video_consultation: bool,
    /// ASAP list membership.
    pub asap_list: AsapListState,
    /// The patient's comment, `null` when none was given.
    #[schema(required = true)]
    pub comment: Option<String>,
    /// When it was booked, ISO 8601 with the institution's UTC offset.
    pub created_at: String,
}

impl Appointment {
    /// The API representation (CONTRACT "Appointment" shape plus `comment` and `created_at`):
    /// the JSON of [`AppointmentView`], which is also what the OpenAPI document describes.
    pub fn view(&self) -> AppointmentView {
        AppointmentView::from(self)
    }

    /// [`Appointment::view`] as JSON.
    pub fn to_json(&self) -> Value {
        // A view of strings, numbers and booleans always serialises.
        to_value(&self.view()).unwrap_or(Value::Null)
    }
}

impl From<&Appointment> for AppointmentView {
    fn from(appointment: &Appointment) -> Self {
        let zone = appointment.time_zone;
        Self {
            id: appointment.id.to_string(),
            status: appointment.status,
            starts_at: format_in(zone, appointment.starts_at),
            ends_at: format_in(zone, appointment.ends_at),
            appointment_type: NamedRef {
                id: appointment.type_id,
                name: appointment.type_name.clone(),
            },
            appointment_category: NamedRef {
                id: appointment.category_id,
                name: appointment.category_name.clone(),
            },
            insurance_id: appointment.insurance_id,
            video_consultation: appointment.video_consultation,
            asap_list: AsapListState {
                subscribed: appointment.asap_opt_in
                    && appointment.status == AppointmentStatus::Booked,
            },
            comment: appointment.comment.clone(),
            created_at: format_in(zone, appointment.created_at),
        }
    }
}

/// `{"data": [appointment, ...], "next_cursor"}`: the patient's appointments, latest start first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppointmentPage {
    /// One page of appointments.
    pub data: Vec<AppointmentView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// `{"id"}`: the appointment a write created or changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdResponse {
    /// The appointment id.
    #[schema(example = "x7Ghq2LmP0aZrT5vWc9sD1kYbN3e")]
    pub id: String,
}

/// `POST` and `DELETE …/asap_list`: the appointment and whether it is now on the ASAP list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AsapSubscription {
    /// The appointment id.
    #[schema(example = "x7Ghq2LmP0aZrT5vWc9sD1kYbN3e")]
    pub id: String,
    /// ASAP list membership after the request.
    pub asap_list: AsapListState,
}

/// `GET …/earlier_availability`: the appointment and the earliest free slot before it, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct EarlierAvailability {
    /// The appointment.
    pub appointment: AppointmentView,
    /// An earlier free slot of the same type (book it with `PUT /appointments/{id}`), or `null`.
    #[schema(required = true)]
    pub availability: Option<Availability>,
}

/// The body of `PUT /appointments/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ToSchema)]
pub struct RescheduleRequest {
    /// Id of an availability from `GET /appointments/{id}/availabilities` (or any search for the
    /// same type, category and insurance).
    pub availability_id: String,
}

/// The body of `POST /appointments/{id}/asap_list`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub struct AsapSubscribeRequest {
    /// Where to send the notifications (replaces an earlier address); without one, they go to the
    /// patient's account address.
    #[serde(default)]
    #[schema(format = Email, example = "anna@example.org")]
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_serialise_to_the_contract_shapes() {
        let id = to_value(&IdResponse { id: "abc".into() }).unwrap();
        assert_eq!(id, serde_json::json!({ "id": "abc" }));
        let page = to_value(&AppointmentPage {
            data: Vec::new(),
            next_cursor: None,
        })
        .unwrap();
        assert_eq!(page, serde_json::json!({ "data": [], "next_cursor": null }));
        let status = to_value(&AppointmentStatus::Cancelled).unwrap();
        assert_eq!(status, "cancelled");
    }

    #[test]
    fn the_asap_body_may_be_empty() {
        let body: AsapSubscribeRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(body.email, None);
    }
}
