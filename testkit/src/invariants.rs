//! What must hold in the store after any mix of requests, faults and races: the checks the soak
//! (`bench/loadgen`) and the fault tests run over a whole table once the load has stopped.
//!
//! [`check`] reads a snapshot — every live item (`SqliteStore::snapshot`, `DynamoStore::snapshot`)
//! — and reports each violation in words:
//! - no slot over capacity, and every slot counter equals the booked appointments of its slot
//!   (a counter that drifted is a booking, cancellation or reschedule applied in part);
//! - no appointment without its index entries (its `gsi1` key at its current start, its ASAP
//!   subscription entry while subscribed), no index entry without its appointment, no idempotency
//!   record naming an appointment that does not exist;
//! - every booking-limit counter counts exactly the booked appointments it holds a place for;
//! - every outbox event dispatched (marked by the notifier) and no delivery left half-done
//!   (`sending`); with the mail that went out ([`Expected::mails`]), every `sent` delivery is
//!   exactly one message and no message went out twice;
//! - no refresh family with two live generations: with what the clients saw
//!   ([`Expected::grants`]), each grant moved on exactly once per refresh that succeeded.

use std::collections::{BTreeMap, BTreeSet};

use shared::booking::repo::appointment_from_item;
use shared::booking::{Appointment, AppointmentStatus, Catalog};
use shared::store::layout::{self, Family};
use shared::store::{Item, Value};

/// What the clients of a run saw, for the checks the store alone cannot make.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// `Message-ID`s of every ASAP mail that went out (outbox folder, SES); `None` skips the mail
    /// checks.
    pub mails: Option<Vec<String>>,
    /// What the clients saw of refresh-token families, by grant id (`gid` claim).
    pub grants: BTreeMap<String, GrantSeen>,
    /// Whether every outbox event must have been dispatched by now (inline dispatch, or after
    /// the stream has been run).
    pub all_dispatched: bool,
    /// The time of the check (unix seconds): appointments that started are no longer indexed.
    pub now: i64,
}

/// One refresh-token family as its client saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GrantSeen {
    /// Refreshes answered 200.
    pub refreshed: i64,
    /// Refreshes whose answer never arrived (they may or may not have moved the family on).
    pub unknown: i64,
    /// Whether the client expects the family revoked (it replayed a token, or revoked it).
    pub revoked: bool,
}

/// What [`check`] found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Each broken invariant, in words.
    pub violations: Vec<String>,
    /// Booked appointments.
    pub booked: usize,
    /// Cancelled appointments.
    pub cancelled: usize,
    /// Slot counters.
    pub counters: usize,
    /// Booking-limit counters.
    pub limits: usize,
    /// ASAP subscription entries.
    pub subscriptions: usize,
    /// Outbox events.
    pub events: usize,
    /// Delivery records marked `sent`.
    pub sent: usize,
    /// Grants in the store.
    pub grants: usize,
}

impl Report {
    /// Whether nothing is broken.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// One line of counts.
    pub fn summary(&self) -> String {
        format!(
            "{} booked and {} cancelled appointments, {} slot counters, {} booking-limit counters, {} subscriptions, {} outbox events, {} mails sent, {} grants; {} violation(s)",
            self.booked,
            self.cancelled,
            self.counters,
            self.limits,
            self.subscriptions,
            self.events,
            self.sent,
            self.grants,
            self.violations.len()
        )
    }
}

/// Checks every invariant of the module documentation over a snapshot of live items.
pub fn check(items: &[Item], expected: &Expected) -> Report {
    let mut report = Report::default();
    let mut bad = |what: String| report_violation(&mut report.violations, what);
    let catalog = items
        .iter()
        .find(|item| layout::family(&item.key) == Family::Catalog)
        .and_then(|item| item.get("json").and_then(Value::as_str))
        .and_then(|json| Catalog::from_json(json).ok());

    let mut appointments: BTreeMap<String, (Appointment, &Item)> = BTreeMap::new();
    let mut counters: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut subscriptions: BTreeMap<String, Vec<(i64, i64, &Item)>> = BTreeMap::new();
    let mut events: Vec<(&str, &Item)> = Vec::new();
    let mut deliveries: Vec<(&str, &str, &Item)> = Vec::new();
    let mut idempotency: Vec<&Item> = Vec::new();
    let mut grants: BTreeMap<&str, &Item> = BTreeMap::new();
    let mut limits: Vec<(&str, i64, &Item)> = Vec::new();
    for item in items {
        match layout::family(&item.key) {
            Family::Appointment { .. } => match appointment_from_item(item) {
                Ok(appointment) => {
                    appointments.insert(appointment.id.to_string(), (appointment, item));
                }
                Err(e) => bad(format!("appointment {} does not read back: {e}", item.key)),
            },
            Family::SlotCounter { type_id, start } => match item.get("taken") {
                Some(Value::N(taken)) => {
                    counters.insert((type_id, start), *taken);
                }
                _ => bad(format!("slot counter {} has no number `taken`", item.key)),
            },
            Family::Subscription {
                type_id,
                start,
                appointment_id,
            } => subscriptions
                .entry(appointment_id.to_owned())
                .or_default()
                .push((type_id, start, item)),
            Family::OutboxEvent { event_id } => events.push((event_id, item)),
            Family::Delivery {
                event_id,
                appointment_id,
            } => deliveries.push((event_id, appointment_id, item)),
            Family::Idempotency => idempotency.push(item),
            Family::BookingLimit {
                patient_id,
                type_id,
            } => limits.push((patient_id, type_id, item)),
            Family::Grant { grant_id } => {
                grants.insert(grant_id, item);
            }
            Family::Catalog | Family::Other => {}
        }
    }

    // Slots: capacity, and counters equal to the booked appointments they count.
    report.counters = counters.len();
    let mut booked: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (appointment, _) in appointments.values() {
        match appointment.status {
            AppointmentStatus::Booked => {
                report.booked += 1;
                *booked
                    .entry((appointment.type_id, appointment.starts_at))
                    .or_default() += 1;
            }
            AppointmentStatus::Cancelled => report.cancelled += 1,
        }
    }
    for (&(type_id, start), &taken) in &counters {
        let holding = booked.get(&(type_id, start)).copied().unwrap_or(0);
        if taken != holding {
            bad(format!(
                "slot {start} of type {type_id}: counter says {taken} taken, {holding} booked appointment(s) hold it"
            ));
        }
        match catalog.as_ref().and_then(|c| c.types.get(&type_id)) {
            Some(kind) if taken > kind.schedule.capacity => bad(format!(
                "slot {start} of type {type_id} is over capacity: {taken} of {}",
                kind.schedule.capacity
            )),
            Some(_) => {}
            None => bad(format!(
                "slot counter of type {type_id}, which the catalog does not have"
            )),
        }
    }
    for (&(type_id, start), &holding) in &booked {
        if !counters.contains_key(&(type_id, start)) {
            bad(format!(
                "{holding} booked appointment(s) hold slot {start} of type {type_id}, which has no counter"
            ));
        }
    }

    // Appointments and their index entries.
    for (id, (appointment, item)) in &appointments {
        let patient = appointment.patient_id.as_str();
        let by_start = layout::appointment_by_start(patient, appointment.starts_at, id);
        if item.gsi1.as_ref() != Some(&by_start) {
            bad(format!(
                "appointment {id}: list index entry {:?}, expected {by_start}",
                item.gsi1
            ));
        }
        let entries = subscriptions
            .get(id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let subscribed = appointment.status == AppointmentStatus::Booked
            && appointment.asap_opt_in
            && appointment.asap_subscription_id.is_some();
        let indexed = subscribed && appointment.starts_at > expected.now;
        match (indexed, entries) {
            (false, []) => {}
            (true, [(type_id, start, entry)]) => {
                let same = *type_id == appointment.type_id
                    && *start == appointment.starts_at
                    && entry.get("subscription_id").and_then(Value::as_str)
                        == appointment.asap_subscription_id.as_deref()
                    && entry.get("patient_id").and_then(Value::as_str) == Some(patient);
                if !same {
                    bad(format!(
                        "appointment {id}: its ASAP entry {} does not match it",
                        entry.key
                    ));
                }
            }
            (true, []) => bad(format!(
                "appointment {id} is on the ASAP list but has no subscription entry"
            )),
            (_, entries) => bad(format!(
                "appointment {id} ({:?}, subscribed: {subscribed}) has {} subscription entr(y/ies)",
                appointment.status,
                entries.len()
            )),
        }
    }
    for (id, entries) in &subscriptions {
        report.subscriptions += entries.len();
        if !appointments.contains_key(id) {
            bad(format!(
                "subscription entry for appointment {id}, which does not exist"
            ));
        }
    }
    for item in &idempotency {
        match item.get("appointment_id").and_then(Value::as_str) {
            Some(id) if appointments.contains_key(id) => {}
            other => bad(format!(
                "idempotency record {} names appointment {other:?}, which does not exist",
                item.key
            )),
        }
    }

    // Booking limits: each counter counts exactly its entries, each entry is a counted, booked
    // appointment of its patient and type at its start, and every such upcoming appointment has
    // its entry (one that started may have been trimmed).
    report.limits = limits.len();
    let mut entered: BTreeSet<&str> = BTreeSet::new();
    for (patient_id, type_id, item) in &limits {
        let entries: Vec<(&str, Option<i64>)> = item
            .attrs
            .iter()
            .filter_map(|(name, value)| Some((name.strip_prefix("a_")?, value.as_i64())))
            .collect();
        let active = item.get("active").and_then(Value::as_i64).unwrap_or(0);
        if active != entries.len() as i64 {
            bad(format!(
                "booking limit of {patient_id}, type {type_id}: active {active}, {} entr(y/ies)",
                entries.len()
            ));
        }
        for (id, start) in entries {
            entered.insert(id);
            let holds = appointments.get(id).is_some_and(|(a, _)| {
                a.status == AppointmentStatus::Booked
                    && a.limit_counted
                    && a.patient_id.as_str() == *patient_id
                    && a.type_id == *type_id
                    && Some(a.starts_at) == start
            });
            if !holds {
                bad(format!(
                    "booking limit of {patient_id}, type {type_id} counts appointment {id}, which is not booked there at {start:?}"
                ));
            }
        }
    }
    for (id, (appointment, _)) in &appointments {
        let counted = appointment.status == AppointmentStatus::Booked
            && appointment.limit_counted
            && appointment.starts_at > expected.now;
        if counted && !entered.contains(id.as_str()) {
            bad(format!(
                "appointment {id} holds a place of its booking limit, which does not count it"
            ));
        }
    }

    // The outbox: dispatched, and every delivery final.
    report.events = events.len();
    if expected.all_dispatched {
        for (event_id, item) in &events {
            if item.get(shared::asap::notifier::DISPATCHED_AT).is_none() {
                bad(format!("outbox event {event_id} was never dispatched"));
            }
        }
    }
    let mut sent: BTreeSet<String> = BTreeSet::new();
    for (event_id, appointment_id, item) in &deliveries {
        match item.get("status").and_then(Value::as_str) {
            Some("sent") => {
                sent.insert(format!("asap.{event_id}.{appointment_id}@"));
            }
            // Final without a mail: the account is gone, a daily limit or the suppression list
            // refused it.
            Some("no_recipient" | "rate_limited" | "suppressed") => {}
            other => bad(format!(
                "delivery of event {event_id} to appointment {appointment_id} is left {other:?}"
            )),
        }
    }
    report.sent = sent.len();
    if let Some(mails) = &expected.mails {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for id in mails {
            *seen.entry(id.as_str()).or_default() += 1;
        }
        for (id, count) in &seen {
            if *count > 1 {
                bad(format!("mail {id} went out {count} times"));
            }
            if id.starts_with("asap.") && !sent.iter().any(|prefix| id.starts_with(prefix)) {
                bad(format!(
                    "mail {id} went out without a `sent` delivery record"
                ));
            }
        }
        for prefix in &sent {
            if !seen.keys().any(|id| id.starts_with(prefix.as_str())) {
                bad(format!(
                    "delivery {prefix}… is marked sent but no such mail went out"
                ));
            }
        }
    }

    // Refresh families.
    report.grants = grants.len();
    for (grant_id, seen) in &expected.grants {
        let Some(item) = grants.get(grant_id.as_str()) else {
            bad(format!(
                "grant {grant_id} a client used is not in the store"
            ));
            continue;
        };
        let revoked = item
            .get("revoked")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let generation = item.get("generation").and_then(Value::as_i64).unwrap_or(-1);
        if seen.revoked && !revoked {
            bad(format!(
                "grant {grant_id}: a refresh token was replayed, yet the family is not revoked"
            ));
        }
        if revoked {
            continue;
        }
        if generation < seen.refreshed {
            bad(format!(
                "grant {grant_id} has two live generations: {} refreshes succeeded, the family moved on {generation} time(s)",
                seen.refreshed
            ));
        } else if generation > seen.refreshed + seen.unknown {
            bad(format!(
                "grant {grant_id} moved on {generation} time(s), but only {} refreshes (+{} unanswered) were made",
                seen.refreshed, seen.unknown
            ));
        }
    }
    report
}

/// Keeps a report readable: the first violations in full, then a count.
fn report_violation(violations: &mut Vec<String>, what: String) {
    const SHOWN: usize = 50;
    match violations.len() {
        n if n < SHOWN => violations.push(what),
        SHOWN => violations.push("… more violations".into()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::store::Key;

    fn counter(type_id: i64, start: i64, taken: i64) -> Item {
        Item::new(layout::slot_counter(type_id, start)).with("taken", taken)
    }

    #[test]
    fn a_counter_no_appointment_holds_is_reported() {
        let report = check(&[counter(198, 100, 1)], &Expected::default());
        assert_eq!(report.violations.len(), 2, "{:?}", report.violations);
        assert!(report.violations[0].contains("1 taken, 0 booked"));
        assert!(report.violations[1].contains("catalog does not have"));
    }

    #[test]
    fn a_booking_limit_counting_what_it_has_no_entry_for_or_a_missing_appointment_is_reported() {
        let limit = Item::new(layout::booking_limit("p1", 198))
            .with("active", 2)
            .with("a_gone", 1_800_000_000);
        let report = check(&[limit], &Expected::default());
        let text = report.violations.join("\n");
        assert!(text.contains("active 2, 1 entr"), "{text}");
        assert!(text.contains("counts appointment gone"), "{text}");
        assert_eq!(report.violations.len(), 2, "{text}");
        assert_eq!(report.limits, 1);
    }

    #[test]
    fn a_sending_delivery_an_undispatched_event_and_a_doubled_mail_are_reported() {
        let items = [
            Item::new(layout::outbox_event("e1")).with("kind", "slot_freed"),
            Item::new(layout::delivery("e1", "a1")).with("status", "sending"),
            Item::new(layout::delivery("e1", "a2")).with("status", "sent"),
        ];
        let expected = Expected {
            mails: Some(vec!["asap.e1.a2@x".into(), "asap.e1.a2@x".into()]),
            all_dispatched: true,
            ..Expected::default()
        };
        let report = check(&items, &expected);
        let text = report.violations.join("\n");
        assert!(text.contains("e1 was never dispatched"), "{text}");
        assert!(text.contains("is left Some(\"sending\")"), "{text}");
        assert!(text.contains("went out 2 times"), "{text}");
        assert_eq!(report.violations.len(), 3, "{text}");
    }

    #[test]
    fn a_family_that_moved_on_less_than_it_was_refreshed_has_two_live_generations() {
        let grant = Item::new(layout::grant("g1"))
            .with("generation", 1)
            .with("revoked", false);
        let seen = |refreshed, unknown| Expected {
            grants: [(
                "g1".to_owned(),
                GrantSeen {
                    refreshed,
                    unknown,
                    revoked: false,
                },
            )]
            .into(),
            ..Expected::default()
        };
        assert!(check(std::slice::from_ref(&grant), &seen(1, 0)).is_clean());
        assert!(check(std::slice::from_ref(&grant), &seen(0, 1)).is_clean());
        let twice = check(std::slice::from_ref(&grant), &seen(2, 0));
        assert!(twice.violations[0].contains("two live generations"));
        assert!(!check(&[grant], &seen(0, 0)).is_clean());
        assert!(!check(&[Item::new(Key::new("X", "Y"))], &seen(0, 0)).is_clean());
    }
}
