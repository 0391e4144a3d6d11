//! The booking limit: how many upcoming, booked appointments of a type one patient may hold
//! (`max_active_appointments_per_patient` of the catalog).
//!
//! One counter item per (patient, type) ([`layout::booking_limit`]) holds `active`, the number
//! of counted appointments, and one attribute `a_{appointment id}` = start per counted
//! appointment. The booking transaction claims a place with the same guard as a slot counter
//! (`active` below the limit) and writes the entry; a cancellation removes the entry and gives the
//! place back; a reschedule moves the entry's start and keeps the count. So booking stays ONE
//! storage round trip, and of ten parallel bookings with a limit of three exactly three commit.
//!
//! Appointments become past without any write, so `active` may still count some. No background
//! job trims them: when the guard refuses a booking, the failed transaction hands back the counter
//! as it is (no extra read), its entries tell which appointments have started since, and the
//! booking is tried once more with those entries removed in the same transaction, guarded by the
//! exact count and entries it saw. A patient below the limit never pays for this; one at the limit
//! only because of past appointments pays one more round trip, once per such appointment.
//!
//! Whether an appointment holds a place is recorded on it (`limit_counted`): appointments booked
//! before limits existed never did, and their cancellation must not give back a place they never
//! took.

use super::appointments::Appointment;
use super::schedule::Slot;
use crate::store::{layout, Condition, Item, Key, Update, Value, Write};

/// The counter's number of counted appointments.
const ACTIVE: &str = "active";

/// Prefix of the counter's per-appointment entries (`a_{appointment id}` = its start).
const ENTRY_PREFIX: &str = "a_";

/// The counter outlives its last write by a year and a day: every entry's start lies within the
/// longest booking horizon (366 days) of some write, so the item cannot expire under a live entry.
const RETENTION_SECONDS: i64 = 367 * 24 * 3600;

/// The counter's key for the appointment's patient and type.
pub fn key(appointment: &Appointment) -> Key {
    layout::booking_limit(appointment.patient_id.as_str(), appointment.type_id)
}

fn entry(appointment: &Appointment) -> String {
    format!("{ENTRY_PREFIX}{}", appointment.id)
}

/// The write that takes one of `limit` places for a new appointment.
pub fn claim(appointment: &Appointment, limit: i64, now: i64) -> Write {
    Write::Update {
        key: key(appointment),
        update: Update::default()
            .set(&entry(appointment), appointment.starts_at)
            .add(ACTIVE, 1)
            .expire_at(now + RETENTION_SECONDS),
        condition: Condition::Below(ACTIVE.into(), limit),
    }
}

/// The write that gives a counted appointment's place back (cancellation). Guarded by its entry,
/// so a place is never given back twice.
pub fn release(appointment: &Appointment, now: i64) -> Write {
    Write::Update {
        key: key(appointment),
        update: Update::default()
            .remove(&entry(appointment))
            .add(ACTIVE, -1)
            .expire_at(now + RETENTION_SECONDS),
        condition: Condition::Equals(entry(appointment), Value::N(appointment.starts_at)),
    }
}

/// The write that moves a counted appointment's entry to its new slot (reschedule): the count
/// stays.
pub fn moved(appointment: &Appointment, to: Slot, now: i64) -> Write {
    Write::Update {
        key: key(appointment),
        update: Update::default()
            .set(&entry(appointment), to.start)
            .expire_at(now + RETENTION_SECONDS),
        condition: Condition::Equals(entry(appointment), Value::N(appointment.starts_at)),
    }
}

/// What a counter that refused a booking allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Every counted appointment is still upcoming: the limit is reached.
    AtLimit,
    /// Some have started since (or a place was given back meanwhile): book again with this write
    /// in place of [`claim`].
    Trimmed(Box<Write>),
}

/// Given the counter as the failed transaction saw it, whether `appointment` can take a place
/// once the appointments that have started by `now` are let go, and the write that does both.
/// The write is guarded by exactly what was seen (the count and each removed entry), so a change
/// in between makes it fail rather than count wrongly.
pub fn retry(counter: &Item, appointment: &Appointment, limit: i64, now: i64) -> Retry {
    let active = counter.get(ACTIVE).and_then(Value::as_i64).unwrap_or(0);
    let past: Vec<(&String, i64)> = counter
        .attrs
        .iter()
        .filter(|(name, _)| name.starts_with(ENTRY_PREFIX))
        .filter_map(|(name, value)| Some((name, value.as_i64()?)))
        .filter(|(_, start)| *start <= now)
        .collect();
    if active - past.len() as i64 >= limit {
        return Retry::AtLimit;
    }
    if past.is_empty() {
        // Seen below the limit (it changed between the refusal and a read): claim as usual.
        return Retry::Trimmed(Box::new(claim(appointment, limit, now)));
    }
    let mut update = Update::default()
        .set(&entry(appointment), appointment.starts_at)
        .add(ACTIVE, 1 - past.len() as i64)
        .expire_at(now + RETENTION_SECONDS);
    let mut seen = vec![(ACTIVE.to_owned(), Value::N(active))];
    for (name, start) in past {
        update = update.remove(name);
        seen.push((name.clone(), Value::N(start)));
    }
    Retry::Trimmed(Box::new(Write::Update {
        key: key(appointment),
        update,
        condition: Condition::AllEqual(seen),
    }))
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::booking::{AppointmentId, AppointmentStatus};
    use crate::domain::patient::PatientId;
    use crate::store::condition_holds;

    fn appointment(letter: &str, starts_at: i64) -> Appointment {
        Appointment {
            id: AppointmentId::parse(&letter.repeat(AppointmentId::LEN)).unwrap(),
            patient_id: PatientId::parse("patient1").unwrap(),
            status: AppointmentStatus::Booked,
            type_id: 198,
            type_name: "Consultation".into(),
            category_id: 53,
            category_name: "General".into(),
            insurance_id: 136,
            starts_at,
            ends_at: starts_at + 1200,
            time_zone: Berlin,
            video_consultation: false,
            asap_opt_in: false,
            email: None,
            email_confirmed: false,
            asap_subscription_id: None,
            asap_since: None,
            comment: None,
            cancellation_notice_hours: 24,
            created_at: 0,
            revision: 1,
            limit_counted: true,
        }
    }

    /// The counter after applying `writes` in order (each only if its guard holds).
    fn apply(writes: &[Write]) -> Option<Item> {
        let mut counter: Option<Item> = None;
        for write in writes {
            let Write::Update {
                key,
                update,
                condition,
            } = write
            else {
                panic!("counter writes are updates");
            };
            if condition_holds(condition, counter.as_ref()) {
                counter = Some(update.apply(key, counter.take()).unwrap());
            }
        }
        counter
    }

    #[test]
    fn claims_stop_at_the_limit_and_releases_give_places_back() {
        let (a, b, c) = (
            appointment("a", 100),
            appointment("b", 200),
            appointment("c", 300),
        );
        let counter = apply(&[claim(&a, 2, 0), claim(&b, 2, 0), claim(&c, 2, 0)]).unwrap();
        assert_eq!(counter.number(ACTIVE).unwrap(), 2);
        assert!(
            counter.get(&entry(&c)).is_none(),
            "the third claim was refused"
        );
        let counter = apply(&[
            claim(&a, 2, 0),
            claim(&b, 2, 0),
            release(&a, 0),
            release(&a, 0),
            claim(&c, 2, 0),
        ])
        .unwrap();
        assert_eq!(
            counter.number(ACTIVE).unwrap(),
            2,
            "a place is given back once"
        );
        assert!(counter.get(&entry(&a)).is_none());
        assert_eq!(counter.number(&entry(&c)).unwrap(), 300);
    }

    #[test]
    fn a_move_keeps_the_count_and_follows_the_start() {
        let a = appointment("a", 100);
        let counter = apply(&[
            claim(&a, 1, 0),
            moved(
                &a,
                Slot {
                    start: 500,
                    end: 600,
                },
                0,
            ),
        ])
        .unwrap();
        assert_eq!(counter.number(ACTIVE).unwrap(), 1);
        assert_eq!(counter.number(&entry(&a)).unwrap(), 500);
    }

    #[test]
    fn past_appointments_make_room_only_when_they_are_past() {
        let (a, b, c) = (
            appointment("a", 100),
            appointment("b", 200),
            appointment("c", 900),
        );
        let counter = apply(&[claim(&a, 2, 0), claim(&b, 2, 0)]).unwrap();
        assert_eq!(retry(&counter, &c, 2, 99), Retry::AtLimit);
        let Retry::Trimmed(write) = retry(&counter, &c, 2, 100) else {
            panic!("a is past at 100");
        };
        let Write::Update {
            key,
            update,
            condition,
        } = &*write
        else {
            panic!("an update");
        };
        assert!(condition_holds(condition, Some(&counter)));
        let after = update.apply(key, Some(counter.clone())).unwrap();
        assert_eq!(after.number(ACTIVE).unwrap(), 2);
        assert!(after.get(&entry(&a)).is_none());
        assert_eq!(after.number(&entry(&c)).unwrap(), 900);
        // Anything changed since the counter was seen: the guard refuses.
        let changed = apply(&[claim(&a, 3, 0), claim(&b, 3, 0), release(&b, 0)]).unwrap();
        assert!(!condition_holds(condition, Some(&changed)));
        // A lowered limit can stay reached even after trimming.
        assert_eq!(retry(&counter, &c, 1, 150), Retry::AtLimit);
        // Seen below the limit: a plain claim.
        let one = apply(&[claim(&a, 2, 0)]).unwrap();
        assert_eq!(
            retry(&one, &c, 2, 0),
            Retry::Trimmed(Box::new(claim(&c, 2, 0)))
        );
    }
}
