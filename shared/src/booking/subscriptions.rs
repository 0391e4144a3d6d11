//! The subscription index: one item per subscribed, booked appointment, under its type and sorted
//! by the appointment's start, so "subscribers whose appointment starts after the freed slot" is
//! one range query. Every change of a subscription or of a subscribed appointment rewrites the
//! index item in the same transaction as the appointment.
//!
//! | pk | sk | attributes |
//! |---|---|---|
//! | `ASAP#{type_id}` | `{start, 12 digits}#{appointment id}` | `patient_id`, `appointment_id`, `subscription_id`, `since`, `insurance_id`, `starts_at`, `email`? |
//!
//! The item expires when the appointment starts: nothing earlier can be offered after that.

use super::appointments::Appointment;
use crate::store::{Condition, Item, Key, Value, Write};

/// Length of ASAP subscription ids (random base62).
pub const SUBSCRIPTION_ID_LEN: usize = 22;

fn sort_key(starts_at: i64, appointment_id: &str) -> String {
    format!("{:012}#{appointment_id}", starts_at.max(0))
}

/// Partition of a type's subscriptions.
pub fn partition(type_id: i64) -> String {
    format!("ASAP#{type_id}")
}

/// Lowest sort key of subscriptions whose appointment starts after `instant`.
pub fn after(instant: i64) -> String {
    format!("{:012}", instant.saturating_add(1).max(0))
}

/// Highest possible sort key.
pub const END: &str = "999999999999~";

/// The index key of a subscribed appointment.
pub fn key(type_id: i64, starts_at: i64, appointment_id: &str) -> Key {
    Key::new(partition(type_id), sort_key(starts_at, appointment_id))
}

/// One subscription as the notifier reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The subscribed appointment.
    pub appointment_id: String,
    /// Its patient.
    pub patient_id: String,
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
    .with("appointment_id", appointment.id.clone())
    .with("patient_id", appointment.patient_id.clone())
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
    pub fn from_item(item: &Item) -> Result<Self, crate::store::StoreError> {
        Ok(Self {
            appointment_id: item.string("appointment_id")?.to_owned(),
            patient_id: item.string("patient_id")?.to_owned(),
            subscription_id: item.string("subscription_id")?.to_owned(),
            since: item.number("since")?,
            insurance_id: item.number("insurance_id")?,
            starts_at: item.number("starts_at")?,
            email: item.get("email").and_then(Value::as_str).map(str::to_owned),
        })
    }
}
