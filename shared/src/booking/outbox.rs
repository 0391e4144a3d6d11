//! Outbox records: "capacity of this type freed up", written in the same transaction as the change
//! that freed it. Deployed, the table's stream delivers each new record to the `asap` function
//! (the template's event filter passes only inserts whose `pk` starts with
//! [`layout::OUTBOX_PREFIX`]). Keys: [`layout::outbox_event`] (`OUTBOX#{event id}` / `EVENT`);
//! attributes `kind` (`slot_freed` or `capacity_added`), `type_id`, `starts_at`, `ends_at`,
//! `freed_by`, `created_at`.
//!
//! Records expire after [`RETENTION_SECONDS`]; the expiry deletes are not inserts, so the stream
//! filter drops them.

use super::appointments::Appointment;
use super::schedule::Slot;
use crate::crypto::random_id;
use crate::domain::patient::PatientId;
use crate::store::{layout, Condition, Item, Key, StoreError, Value, Write};

/// How long an outbox record is kept (stream retries end long before).
pub const RETENTION_SECONDS: i64 = 7 * 24 * 3600;

/// What freed up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboxKind {
    /// One slot of the type: its appointment was cancelled or moved away.
    SlotFreed {
        /// The slot.
        slot: Slot,
        /// The patient who gave it up (never told about their own slot); `None` when the record
        /// does not name a valid one, which excludes nobody.
        freed_by: Option<PatientId>,
    },
    /// A catalog load gave the type more capacity (more places per slot or new opening hours).
    CapacityAdded,
}

/// One outbox event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Unique id (random, or derived from the change for [`OutboxEvent::slot_left`]); names the
    /// delivery records, so a redelivered event sends nothing twice.
    pub id: String,
    /// The appointment type whose capacity grew.
    pub type_id: i64,
    /// What freed up.
    pub kind: OutboxKind,
    /// When (unix seconds).
    pub created_at: i64,
}

impl OutboxEvent {
    /// A freed slot.
    pub fn slot_freed(type_id: i64, slot: Slot, freed_by: &PatientId, now: i64) -> Self {
        Self {
            id: random_id(24),
            type_id,
            kind: OutboxKind::SlotFreed {
                slot,
                freed_by: Some(freed_by.clone()),
            },
            created_at: now,
        }
    }

    /// The slot `appointment` leaves when the change from its current revision (a cancellation,
    /// or a reschedule away) commits. The id is derived from the appointment and that revision:
    /// only one change can ever leave a revision, and a retry of a change whose answer was lost
    /// names the very same event again, so it can be dispatched again without mailing twice (its
    /// delivery records are keyed by the event).
    pub fn slot_left(type_id: i64, appointment: &Appointment, now: i64) -> Self {
        Self {
            id: format!("{}-{}", appointment.id, appointment.revision),
            type_id,
            kind: OutboxKind::SlotFreed {
                slot: appointment.slot(),
                freed_by: Some(appointment.patient_id.clone()),
            },
            created_at: now,
        }
    }

    /// Capacity added to a type by a catalog change.
    pub fn capacity_added(type_id: i64, now: i64) -> Self {
        Self {
            id: random_id(24),
            type_id,
            kind: OutboxKind::CapacityAdded,
            created_at: now,
        }
    }

    /// The record's key.
    pub fn key(&self) -> Key {
        layout::outbox_event(&self.id)
    }

    /// The write that records the event (a new item: ids are unique).
    pub fn write(&self) -> Write {
        let mut item = Item::new(self.key())
            .with("type_id", self.type_id)
            .with("created_at", self.created_at)
            .expiring_at(self.created_at + RETENTION_SECONDS);
        item = match &self.kind {
            OutboxKind::SlotFreed { slot, freed_by } => {
                let item = item
                    .with("kind", "slot_freed")
                    .with("starts_at", slot.start)
                    .with("ends_at", slot.end);
                match freed_by {
                    Some(patient) => item.with("freed_by", patient.as_str()),
                    None => item,
                }
            }
            OutboxKind::CapacityAdded => item.with("kind", "capacity_added"),
        };
        Write::Put {
            item,
            condition: Condition::NotExists,
        }
    }

    /// Reads a record (from the store or a stream image).
    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        let id = layout::outbox_event_id(&item.key)
            .ok_or_else(|| StoreError::Corrupt(format!("{} is not an outbox record", item.key)))?;
        let kind = match item.string("kind")? {
            "slot_freed" => OutboxKind::SlotFreed {
                slot: Slot {
                    start: item.number("starts_at")?,
                    end: item.number("ends_at")?,
                },
                freed_by: item
                    .get("freed_by")
                    .and_then(Value::as_str)
                    .and_then(|text| PatientId::parse(text).ok()),
            },
            "capacity_added" => OutboxKind::CapacityAdded,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "outbox record {}: unknown kind `{other}`",
                    item.key
                )))
            }
        };
        Ok(Self {
            id: id.to_owned(),
            type_id: item.number("type_id")?,
            kind,
            created_at: item.number("created_at")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_back_from_its_record() {
        for event in [
            OutboxEvent::slot_freed(
                198,
                Slot {
                    start: 100,
                    end: 200,
                },
                &PatientId::parse("p1").unwrap(),
                50,
            ),
            OutboxEvent::capacity_added(201, 60),
        ] {
            let Write::Put { item, condition } = event.write() else {
                panic!("an outbox write is a put");
            };
            assert_eq!(condition, Condition::NotExists);
            assert!(layout::is_outbox_event(&item.key));
            assert_eq!(item.expires_at, Some(event.created_at + RETENTION_SECONDS));
            assert_eq!(OutboxEvent::from_item(&item).unwrap(), event);
        }
    }

    #[test]
    fn other_items_are_not_events() {
        let item = Item::new(layout::patient_profile("x")).with("kind", "slot_freed");
        assert!(OutboxEvent::from_item(&item).is_err());
        let item = Item::new(layout::outbox_event("x")).with("kind", "party");
        assert!(OutboxEvent::from_item(&item).is_err());
    }
}
