//! The ASAP routes without HTTP: subscribe, unsubscribe (by the patient, or by the link in an
//! email), and the earliest free slot before an appointment.

use std::sync::Arc;

use super::unsubscribe::UnsubscribeToken;
use crate::booking::repo::NewSubscription;
use crate::booking::subscriptions::SUBSCRIPTION_ID_LEN;
use crate::booking::{
    Appointment, AppointmentId, AppointmentStatus, Availability, BookingError, BookingService,
};
use crate::crypto::random_id;
use crate::domain::patient::{Email, PatientId};
use crate::keys::Keys;

/// `GET …/earlier_availability`: the appointment and the earliest free slot before it, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierAvailability {
    /// The patient's appointment.
    pub appointment: Appointment,
    /// The earliest free slot of the same type, category and insurance before it.
    pub availability: Option<Availability>,
}

/// What following an unsubscribe link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnsubscribeOutcome {
    /// The subscription ended now.
    Unsubscribed(Box<Appointment>),
    /// The subscription the link was sent for has already ended (the link was used, the patient
    /// unsubscribed in the app, or the appointment was cancelled or moved on).
    AlreadyEnded,
}

/// The ASAP flows, built once per function instance.
pub struct AsapService {
    booking: BookingService,
    keys: Arc<Keys>,
}

impl AsapService {
    /// A service over the booking flows (which hold the catalog cache) and the key set.
    pub fn new(booking: BookingService, keys: Arc<Keys>) -> Self {
        Self { booking, keys }
    }

    /// The booking flows.
    pub fn booking(&self) -> &BookingService {
        &self.booking
    }

    /// Puts the patient's booked appointment on the ASAP list (idempotent; a new `email` replaces
    /// the old one and must be confirmed again). 409 when the type has no ASAP list, or the
    /// appointment is cancelled or past. The flag tells whether anything changed.
    pub async fn subscribe(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        email: Option<&str>,
        now: i64,
    ) -> Result<(Appointment, bool), BookingError> {
        let email = email
            .map(|text| {
                Email::parse(text)
                    .map(|e| e.as_str().to_owned())
                    .map_err(|e| BookingError::InvalidRequest(format!("`email`: {e}")))
            })
            .transpose()?;
        let current = self.booking.appointment(patient_id, id).await?;
        self.asap_enabled(&current).await?;
        if current.status == AppointmentStatus::Cancelled {
            return Err(BookingError::Conflict {
                code: "already_cancelled",
                description: "the appointment was cancelled; only booked appointments can be on the ASAP list".into(),
            });
        }
        if current.starts_at <= now {
            return Err(BookingError::Conflict {
                code: "appointment_past",
                description: "the appointment has started; there is nothing earlier to offer"
                    .into(),
            });
        }
        if current.asap_opt_in && current.asap_subscription_id.is_some() && current.email == email {
            return Ok((current, false));
        }
        let subscription = NewSubscription {
            id: current
                .asap_subscription_id
                .clone()
                .filter(|_| current.asap_opt_in)
                .unwrap_or_else(|| random_id(SUBSCRIPTION_ID_LEN)),
            since: current
                .asap_since
                .filter(|_| current.asap_opt_in)
                .unwrap_or(now),
            // A new address must be confirmed again; the same one keeps its confirmation.
            email_confirmed: current.email_confirmed && current.email == email,
            email,
        };
        let updated = self
            .booking
            .repo()
            .set_subscription(&current, Some(subscription), None, now)
            .await?;
        Ok((updated, true))
    }

    /// Takes the appointment off the ASAP list (idempotent). 409 when the type has no ASAP list.
    pub async fn unsubscribe(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        now: i64,
    ) -> Result<Appointment, BookingError> {
        let current = self.booking.appointment(patient_id, id).await?;
        self.asap_enabled(&current).await?;
        if !current.asap_opt_in || current.status == AppointmentStatus::Cancelled {
            return Ok(current);
        }
        self.booking
            .repo()
            .set_subscription(&current, None, None, now)
            .await
    }

    /// Opens an unsubscribe link's token (`Err` for forged, foreign or expired ones) and reads
    /// the appointment it names, for the confirmation page.
    pub async fn link(
        &self,
        token: &str,
        now: i64,
    ) -> Result<(UnsubscribeToken, Option<Appointment>), BookingError> {
        let keys = self
            .keys
            .for_sealed(super::unsubscribe::PURPOSE, token)
            .await;
        let token = UnsubscribeToken::open(&keys, token, now)
            .map_err(|e| BookingError::InvalidRequest(e.to_string()))?;
        let appointment = self
            .booking
            .repo()
            .appointment(&token.patient_id, &token.appointment_id)
            .await?;
        Ok((token, appointment))
    }

    /// Ends the subscription an unsubscribe link was sent for: once.
    pub async fn unsubscribe_by_link(
        &self,
        token: &str,
        now: i64,
    ) -> Result<UnsubscribeOutcome, BookingError> {
        let (token, appointment) = self.link(token, now).await?;
        let Some(current) = appointment.filter(|a| {
            a.status == AppointmentStatus::Booked
                && a.asap_opt_in
                && a.asap_subscription_id.as_deref() == Some(token.subscription_id.as_str())
        }) else {
            return Ok(UnsubscribeOutcome::AlreadyEnded);
        };
        match self
            .booking
            .repo()
            .set_subscription(&current, None, Some(&token.subscription_id), now)
            .await
        {
            Ok(updated) => Ok(UnsubscribeOutcome::Unsubscribed(Box::new(updated))),
            // Changed between the read and the write (a parallel click, a reschedule): the
            // subscription this link named is no longer the live one.
            Err(BookingError::AppointmentChanged { .. }) => Ok(UnsubscribeOutcome::AlreadyEnded),
            Err(other) => Err(other),
        }
    }

    /// The appointment and the earliest free slot of its type, category and insurance before it
    /// (`None` when there is none, or the appointment can no longer be moved).
    pub async fn earlier_availability(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        now: i64,
    ) -> Result<EarlierAvailability, BookingError> {
        let appointment = self.booking.appointment(patient_id, id).await?;
        let availability = self.booking.earliest_before(&appointment, now).await?;
        Ok(EarlierAvailability {
            appointment,
            availability,
        })
    }

    async fn asap_enabled(&self, appointment: &Appointment) -> Result<(), BookingError> {
        let catalog = self.booking.repo().catalog().await?;
        let enabled = catalog
            .types
            .get(&appointment.type_id)
            .is_some_and(|kind| kind.asap_notifications_enabled);
        if enabled {
            Ok(())
        } else {
            Err(BookingError::Conflict {
                code: "asap_unavailable",
                description: format!("appointment type {} has no ASAP list", appointment.type_id),
            })
        }
    }
}
