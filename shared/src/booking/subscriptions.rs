//! The subscription index: one item per subscribed, booked appointment, under its type and sorted
//! by the appointment's start, so "subscribers whose appointment starts after the freed slot" is
//! one range query. Every change of a subscription or of a subscribed appointment rewrites the
//! index item in the same transaction as the appointment. Keys: [`layout::subscription`]
//! (`ASAP#{type_id}` / `{start}#{appointment id}`); attributes `patient_id`, `appointment_id`,
//! `subscription_id`, `since`, `insurance_id`, `starts_at` and `email` when given.
//!
//! The item expires when the appointment starts: nothing earlier can be offered after that.

use super::appointments::{Appointment, AppointmentId};
use crate::domain::patient::PatientId;
use crate::store::{layout, Condition, Item, Key, StoreError, Value, Write};

/// Length of ASAP subscription ids (random base62).
pub const SUBSCRIPTION_ID_LEN: usize = 22;

/// The index key of a subscribed appointment.
pub fn key(type_id: i64, starts_at: i64, appointment_id: &AppointmentId) -> Key {
    layout::subscription(type_id, starts_at, appointment_id.as_str())
}

/// One subscription as the notifier reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The subscribed appointment.
    pub appointment_id: AppointmentId,
    /// Its patient.
    pub patient_id: PatientId,
    /// Changes with every new subscription (an unsubscribe link names it).
    pub subscription_id: String,
    /// When the patient subscribed (oldest are served first).
    pub since: i64,
    /// The appointment's insurance.
    pub insurance_id: i64,
    /// The appointment's start.
    pub starts_at: i64,
    /// Where to write; `None` means the patient's account address.
    pub email: Option<String>,
}

/// The write that (re)indexes `appointment` as subscribed at its current start.
pub fn put(appointment: &Appointment, subscription_id: &str, since: i64) -> Write {
    let mut item = Item::new(key(
        appointment.type_id,
        appointment.starts_at,
        &appointment.id,
    ))
    .with("appointment_id", appointment.id.as_str())
    .with("patient_id", appointment.patient_id.as_str())
    .with("subscription_id", subscription_id.to_owned())
    .with("since", since)
    .with("insurance_id", appointment.insurance_id)
    .with("starts_at", appointment.starts_at)
    .expiring_at(appointment.starts_at);
    if let Some(email) = &appointment.email {
        item = item.with("email", email.clone());
    }
    Write::Put {
        item,
        condition: Condition::None,
    }
}

/// The write that removes the index item of `appointment` at its current start.
pub fn delete(appointment: &Appointment) -> Write {
    Write::Delete {
        key: key(appointment.type_id, appointment.starts_at, &appointment.id),
        condition: Condition::None,
    }
}

impl Subscription {
    /// Reads an index item.
    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{}: {e}", item.key));
        Ok(Self {
            appointment_id: AppointmentId::parse(item.string("appointment_id")?)
                .map_err(|e| corrupt(&e))?,
            patient_id: PatientId::parse(item.string("patient_id")?).map_err(|e| corrupt(&e))?,
            subscription_id: item.string("subscription_id")?.to_owned(),
            since: item.number("since")?,
            insurance_id: item.number("insurance_id")?,
            starts_at: item.number("starts_at")?,
            email: item.get("email").and_then(Value::as_str).map(str::to_owned),
        })
    }
}
