//! Booking records on the storage port: the catalog, slot counters, appointments (with their
//! `gsi1` entry ordered by start) and idempotency records, keyed as [`crate::store::layout`]
//! describes. Appointments live under their patient's partition, so another patient's id is
//! simply absent.
//!
//! Every transaction that changes an appointment also carries the request's access record when
//! the request is audited ([`crate::audit::trail::transaction_write`], appended last so the
//! positions of the other writes, which name failures, stay put): the change and its record
//! commit together, at no extra round trip.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono_tz::Tz;

use super::appointments::{Appointment, AppointmentId, AppointmentStatus};
use super::catalog::{AppointmentType, Catalog};
use super::limits::{self, Retry};
use super::outbox::OutboxEvent;
use super::schedule::Slot;
use super::subscriptions;
use super::BookingError;
use crate::audit;
use crate::crypto::sha256_b64url;
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::store::{
    layout, Condition, Cursor, Item, Key, SharedStore, StoreError, Update, Value, Write,
    MAX_QUERY_LIMIT, MAX_TRANSACTION_WRITES,
};

/// How long a function instance reuses the catalog it read (catalog loads show up within this).
pub const CATALOG_TTL: Duration = Duration::from_secs(60);

/// Idempotency records live this long.
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;

/// Slot counters outlive their slot by this much (nothing changes a past slot).
const SLOT_RETENTION_SECONDS: i64 = 7 * 24 * 3600;

fn appointment_key(patient_id: &PatientId, id: &AppointmentId) -> Key {
    layout::appointment(patient_id.as_str(), id.as_str())
}

fn appointment_index(patient_id: &PatientId, starts_at: i64, id: &AppointmentId) -> Key {
    layout::appointment_by_start(patient_id.as_str(), starts_at, id.as_str())
}

fn idempotency_key(patient_id: &PatientId, idempotency: &Idempotency) -> Key {
    layout::idempotency(
        patient_id.as_str(),
        idempotency.client_id.as_str(),
        &idempotency.key,
    )
}

/// How often a booking is tried when its limit's counter changed between seeing and trimming it.
const BOOKING_ATTEMPTS: usize = 3;

/// An `Idempotency-Key` with the hash of the request it guards, scoped to the client that sent it
/// (two apps of one patient never share a key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotency {
    /// The app that sent it (`client_id` of its access token).
    pub client_id: ClientId,
    /// The client's key.
    pub key: String,
    /// SHA-256 of the canonical request body.
    pub body_hash: String,
}

impl Idempotency {
    /// Longest accepted `Idempotency-Key`.
    pub const MAX_KEY_LEN: usize = 255;

    /// Checks the key (1 to 255 visible ASCII characters) and hashes the body in a canonical form
    /// (object keys sorted, no whitespace), so the same JSON sent with other spacing or key order
    /// counts as the same request.
    pub fn new(
        client_id: &ClientId,
        key: &str,
        body: &serde_json::Value,
    ) -> Result<Self, BookingError> {
        if key.is_empty()
            || key.len() > Self::MAX_KEY_LEN
            || !key.bytes().all(|b| (0x20..0x7f).contains(&b))
        {
            return Err(BookingError::InvalidRequest(format!(
                "the Idempotency-Key header must be 1 to {} visible ASCII characters",
                Self::MAX_KEY_LEN
            )));
        }
        let mut text = String::new();
        canonical(body, &mut text);
        Ok(Self {
            client_id: client_id.clone(),
            key: key.to_owned(),
            body_hash: sha256_b64url(text.as_bytes()),
        })
    }
}

fn canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value as J;
    match value {
        J::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&J::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        J::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What a booking transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookOutcome {
    /// A new appointment was written.
    Created,
    /// The same request was already made with this key: its appointment id.
    Replayed(AppointmentId),
}

/// The booking repository. Holds the catalog cache, so keep one per function instance.
pub struct BookingRepo {
    store: SharedStore,
    cache: Mutex<Option<(Instant, Arc<Catalog>)>>,
    ttl: Duration,
}

impl BookingRepo {
    /// A repository over `store` with the default catalog TTL.
    pub fn new(store: SharedStore) -> Self {
        Self::with_ttl(store, CATALOG_TTL)
    }

    /// A repository with another catalog TTL (zero disables the cache).
    pub fn with_ttl(store: SharedStore, ttl: Duration) -> Self {
        Self {
            store,
            cache: Mutex::new(None),
            ttl,
        }
    }

    /// The current catalog: from the in-process cache while fresh (0 round trips), else 1 read.
    pub async fn catalog(&self) -> Result<Arc<Catalog>, BookingError> {
        if let Some(catalog) = self.cached() {
            return Ok(catalog);
        }
        let item = self
            .store
            .get(&layout::catalog())
            .await?
            .ok_or(BookingError::CatalogMissing)?;
        let text = item.string("json")?;
        let catalog = Arc::new(
            Catalog::from_json(text)
                .map_err(|e| BookingError::Internal(format!("stored catalog: {e}")))?,
        );
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((Instant::now(), catalog.clone()));
        }
        Ok(catalog)
    }

    fn cached(&self) -> Option<Arc<Catalog>> {
        let cache = self.cache.lock().ok()?;
        let (at, catalog) = cache.as_ref()?;
        (at.elapsed() < self.ttl).then(|| catalog.clone())
    }

    /// Replaces the stored catalog: one read of the stored one, then ONE transaction that writes
    /// the new catalog (only if no other load came in between) together with an ASAP outbox
    /// record for every ASAP type the change gives more capacity (more places per slot, new or
    /// longer opening windows, reopened dates, a longer horizon or a shorter lead time). Running
    /// functions see the catalog within [`CATALOG_TTL`]. Returns the outbox events (for inline
    /// dispatch).
    pub async fn save_catalog(
        &self,
        catalog: &Catalog,
        now: i64,
    ) -> Result<Vec<OutboxEvent>, BookingError> {
        let json = catalog
            .to_json()
            .map_err(|e| BookingError::Internal(e.to_string()))?;
        let stored = self.store.get(&layout::catalog()).await?;
        let (condition, version) = match &stored {
            None => (Condition::NotExists, 1),
            Some(item) => {
                let version = item.get("version").and_then(Value::as_i64).unwrap_or(0);
                let condition = match item.get("version") {
                    Some(v) => Condition::Equals("version".into(), v.clone()),
                    None => Condition::Exists,
                };
                (condition, version + 1)
            }
        };
        let events: Vec<OutboxEvent> = match &stored {
            None => Vec::new(),
            Some(item) => {
                let old = Catalog::from_json(item.string("json")?)
                    .map_err(|e| BookingError::Internal(format!("stored catalog: {e}")))?;
                catalog
                    .types
                    .values()
                    .filter(|new| new.asap_notifications_enabled)
                    .filter(|new| {
                        old.types
                            .get(&new.id)
                            .is_some_and(|old| adds_capacity(old, new))
                    })
                    .map(|new| OutboxEvent::capacity_added(new.id, now))
                    .take(MAX_TRANSACTION_WRITES - 1)
                    .collect()
            }
        };
        let item = Item::new(layout::catalog())
            .with("json", json)
            .with("loaded_at", now)
            .with("version", version);
        let mut writes = vec![Write::Put { item, condition }];
        writes.extend(events.iter().map(OutboxEvent::write));
        match self.store.transact(writes).await {
            Ok(()) => {}
            Err(StoreError::TransactionFailed { index: 0, .. }) => {
                return Err(BookingError::Conflict {
                    code: "catalog_changed",
                    description: "another catalog load finished at the same time; load again"
                        .into(),
                })
            }
            Err(other) => return Err(other.into()),
        }
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
        Ok(events)
    }

    /// Taken places per slot start of a type in `[from, to)`: one query (more pages only when over
    /// a thousand slots in the window hold bookings).
    pub async fn taken(
        &self,
        type_id: i64,
        from: i64,
        to: i64,
    ) -> Result<BTreeMap<i64, i64>, BookingError> {
        let mut taken = BTreeMap::new();
        if to <= from {
            return Ok(taken);
        }
        let mut cursor = None;
        loop {
            let query = layout::slot_counters(type_id, from, to, MAX_QUERY_LIMIT).after(cursor);
            let page = self.store.query(query).await?;
            for item in &page.items {
                let start = layout::slot_counter_start(&item.key).ok_or_else(|| {
                    BookingError::Internal(format!("slot counter {} has a bad sort key", item.key))
                })?;
                taken.insert(start, item.number("taken")?);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(taken),
            }
        }
    }

    /// Books in ONE transaction: the idempotency record (if any) must be new, the slot counter must
    /// be below `capacity` and is incremented, the patient's counter of the type's upcoming
    /// appointments must be below `limit` ([`limits`]), the appointment is written, and so is the
    /// ASAP subscription index entry.
    /// When only appointments that have started since keep the limit reached, one more
    /// transaction lets them go and books (see [`limits`]).
    pub async fn book(
        &self,
        appointment: &Appointment,
        capacity: i64,
        limit: i64,
        idempotency: Option<&Idempotency>,
        now: i64,
    ) -> Result<BookOutcome, BookingError> {
        let mut writes = Vec::with_capacity(5);
        if let Some(idem) = idempotency {
            writes.push(Write::Put {
                item: Item::new(idempotency_key(&appointment.patient_id, idem))
                    .with("body_hash", idem.body_hash.clone())
                    .with("appointment_id", appointment.id.as_str())
                    .expiring_at(now + IDEMPOTENCY_TTL_SECONDS),
                condition: Condition::NotExists,
            });
        }
        let slot_index = writes.len();
        writes.push(claim(appointment.type_id, appointment.slot(), capacity));
        let limit_index = writes.len();
        writes.push(limits::claim(appointment, limit, now));
        writes.push(Write::Put {
            item: appointment_item(appointment),
            condition: Condition::NotExists,
        });
        if let (true, Some(subscription), Some(since)) = (
            appointment.asap_opt_in,
            &appointment.asap_subscription_id,
            appointment.asap_since,
        ) {
            writes.push(subscriptions::put(appointment, subscription, since));
        }
        writes.extend(audit::trail::transaction_write(Some(
            appointment.id.as_str(),
        )));
        for _ in 0..BOOKING_ATTEMPTS {
            let (index, current) = match self.store.transact(writes.clone()).await {
                Ok(()) => {
                    audit::trail::committed();
                    return Ok(BookOutcome::Created);
                }
                Err(StoreError::TransactionFailed { index, current }) => (index, current),
                Err(other) => return Err(other.into()),
            };
            match idempotency {
                Some(idem) if index == 0 => {
                    return self.replay(appointment, idem, current.map(|c| *c)).await
                }
                _ if index == slot_index => return Err(BookingError::SlotUnavailable),
                _ if index == limit_index => {}
                _ => {
                    return Err(BookingError::Internal(format!(
                        "booking transaction failed at write {index} (appointment id collision)"
                    )))
                }
            }
            let counter = match current {
                Some(counter) => Some(*counter),
                None => self.store.get(&limits::key(appointment)).await?,
            };
            let Some(counter) = counter else {
                // Gone since it refused (it expired): the plain claim is right again.
                continue;
            };
            match limits::retry(&counter, appointment, limit, now) {
                Retry::AtLimit => {
                    return Err(BookingError::BookingLimitReached {
                        limit,
                        type_id: appointment.type_id,
                        type_name: appointment.type_name.clone(),
                    })
                }
                Retry::Trimmed(write) => writes[limit_index] = *write,
            }
        }
        Err(BookingError::Conflict {
            code: "booking_conflict",
            description: "the patient's other bookings changed at the same time; try again".into(),
        })
    }

    /// The answer to a booking whose `Idempotency-Key` record already exists: the same
    /// appointment for the same body, a refusal for another one.
    async fn replay(
        &self,
        appointment: &Appointment,
        idem: &Idempotency,
        current: Option<Item>,
    ) -> Result<BookOutcome, BookingError> {
        let record = match current {
            Some(item) => Some(item),
            None => {
                self.store
                    .get(&idempotency_key(&appointment.patient_id, idem))
                    .await?
            }
        };
        let Some(record) = record else {
            return Err(BookingError::Conflict {
                code: "idempotency_conflict",
                description: "a request with this Idempotency-Key was in flight; retry it".into(),
            });
        };
        if record.string("body_hash")? == idem.body_hash {
            let id = AppointmentId::parse(record.string("appointment_id")?)
                .map_err(|e| BookingError::Internal(format!("{}: {e}", record.key)))?;
            Ok(BookOutcome::Replayed(id))
        } else {
            Err(BookingError::IdempotencyMismatch)
        }
    }

    /// The patient's appointment, if it exists (1 round trip).
    pub async fn appointment(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
    ) -> Result<Option<Appointment>, BookingError> {
        match self.store.get(&appointment_key(patient_id, id)).await? {
            None => Ok(None),
            Some(item) => Ok(Some(appointment_from_item(&item)?)),
        }
    }

    /// The patient's appointments, latest start first, one page (1 round trip, on the index, which
    /// is eventually consistent when deployed: a booking a moment old may not be listed yet).
    pub async fn list(
        &self,
        patient_id: &PatientId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Appointment>, Option<String>), BookingError> {
        let cursor = match cursor {
            None => None,
            Some(text) => {
                let cursor = Cursor::decode(text).map_err(|_| BookingError::InvalidCursor)?;
                if !layout::is_appointment_cursor_of(&cursor, patient_id.as_str()) {
                    return Err(BookingError::InvalidCursor);
                }
                Some(cursor)
            }
        };
        let query = layout::appointments_latest_first(patient_id.as_str(), limit).after(cursor);
        let page = self.store.query(query).await?;
        let appointments = page
            .items
            .iter()
            .map(appointment_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((appointments, page.next.map(|c| c.encode())))
    }

    /// Moves a booked appointment to `slot` in ONE transaction: update the appointment only if it
    /// is still booked at the start and revision it was read with (so of two racing reschedules
    /// exactly one wins), claim the new slot (below `capacity`), release the old one. Fails with
    /// [`BookingError::AppointmentChanged`] (carrying the appointment as it is now) or
    /// [`BookingError::SlotUnavailable`].
    /// A subscribed appointment's index entry moves with it; `freed`, if given, is the outbox
    /// record of the slot it leaves, written in the same transaction.
    pub async fn reschedule(
        &self,
        current: &Appointment,
        slot: Slot,
        capacity: i64,
        now: i64,
        freed: Option<&OutboxEvent>,
    ) -> Result<(), BookingError> {
        let update = Update::default()
            .set("starts_at", slot.start)
            .set("ends_at", slot.end)
            .set("updated_at", now)
            .add("revision", 1)
            .index(appointment_index(
                &current.patient_id,
                slot.start,
                &current.id,
            ));
        // The appointment's guard comes first: when a change from an outdated copy also meets a
        // full slot (a retry of this very reschedule after a lost answer holds the slot itself),
        // the answer is about the copy, which is what the caller must act on.
        let mut writes = vec![
            Write::Update {
                key: appointment_key(&current.patient_id, &current.id),
                update,
                condition: unchanged(current),
            },
            claim(current.type_id, slot, capacity),
            release(current),
        ];
        if let (true, Some(subscription), Some(since)) = (
            current.asap_opt_in,
            &current.asap_subscription_id,
            current.asap_since,
        ) {
            let moved = Appointment {
                starts_at: slot.start,
                ends_at: slot.end,
                ..current.clone()
            };
            writes.push(subscriptions::delete(current));
            writes.push(subscriptions::put(&moved, subscription, since));
        }
        if current.limit_counted {
            writes.push(limits::moved(current, slot, now));
        }
        writes.extend(freed.map(OutboxEvent::write));
        writes.extend(audit::trail::transaction_write(Some(current.id.as_str())));
        match self.store.transact(writes).await {
            Ok(()) => {
                audit::trail::committed();
                Ok(())
            }
            Err(StoreError::TransactionFailed { index: 1, .. }) => {
                Err(BookingError::SlotUnavailable)
            }
            Err(StoreError::TransactionFailed { index: 0, current }) => Err(changed(current)),
            Err(StoreError::TransactionFailed { .. }) => Err(changed(None)),
            Err(other) => Err(other.into()),
        }
    }

    /// Cancels a booked appointment and releases its slot in ONE transaction (only if it is still
    /// booked at the start it was read with).
    /// Its subscription index entry goes too; `freed`, if given, is the outbox record of the slot.
    pub async fn cancel(
        &self,
        current: &Appointment,
        now: i64,
        freed: Option<&OutboxEvent>,
    ) -> Result<(), BookingError> {
        let mut writes = vec![
            Write::Update {
                key: appointment_key(&current.patient_id, &current.id),
                update: Update::default()
                    .set("status", AppointmentStatus::Cancelled.as_str())
                    .set("cancelled_at", now)
                    .set("updated_at", now)
                    .add("revision", 1),
                condition: unchanged(current),
            },
            release(current),
        ];
        if current.asap_opt_in {
            writes.push(subscriptions::delete(current));
        }
        if current.limit_counted {
            writes.push(limits::release(current, now));
        }
        writes.extend(freed.map(OutboxEvent::write));
        writes.extend(audit::trail::transaction_write(Some(current.id.as_str())));
        match self.store.transact(writes).await {
            Ok(()) => {
                audit::trail::committed();
                Ok(())
            }
            Err(StoreError::TransactionFailed { index: 0, current }) => Err(changed(current)),
            Err(StoreError::TransactionFailed { .. }) => Err(changed(None)),
            Err(other) => Err(other.into()),
        }
    }

    /// Starts (`Some`) or ends (`None`) the appointment's ASAP subscription in ONE transaction:
    /// the appointment and its index entry change together, only if the appointment is still
    /// booked at the start it was read with and (when `expected` is given) still carries that
    /// subscription id. Fails with `appointment_changed` otherwise.
    pub async fn set_subscription(
        &self,
        current: &Appointment,
        subscription: Option<NewSubscription>,
        expected: Option<&str>,
        now: i64,
    ) -> Result<Appointment, BookingError> {
        let mut condition = unchanged_attributes(current);
        if let Some(expected) = expected {
            condition.push(("asap_subscription_id".to_owned(), Value::from(expected)));
        }
        let mut update = Update::default().set("updated_at", now).add("revision", 1);
        let updated = match subscription {
            Some(new) => {
                update = update
                    .set("asap_list_opt_in", true)
                    .set("asap_subscription_id", new.id.clone())
                    .set("asap_since", new.since);
                update = match &new.email {
                    Some(email) => update
                        .set("email", email.clone())
                        .set("email_confirmed", new.email_confirmed),
                    None => update.remove("email").remove("email_confirmed"),
                };
                Appointment {
                    asap_opt_in: true,
                    asap_subscription_id: Some(new.id),
                    asap_since: Some(new.since),
                    email_confirmed: new.email.is_some() && new.email_confirmed,
                    email: new.email,
                    revision: current.revision + 1,
                    ..current.clone()
                }
            }
            None => {
                update = update
                    .set("asap_list_opt_in", false)
                    .remove("asap_subscription_id")
                    .remove("asap_since");
                Appointment {
                    asap_opt_in: false,
                    asap_subscription_id: None,
                    asap_since: None,
                    revision: current.revision + 1,
                    ..current.clone()
                }
            }
        };
        let mut writes = vec![Write::Update {
            key: appointment_key(&current.patient_id, &current.id),
            update,
            condition: Condition::AllEqual(condition),
        }];
        match (&updated.asap_subscription_id, updated.asap_since) {
            (Some(id), Some(since)) => writes.push(subscriptions::put(&updated, id, since)),
            _ => writes.push(subscriptions::delete(current)),
        }
        writes.extend(audit::trail::transaction_write(Some(current.id.as_str())));
        match self.store.transact(writes).await {
            Ok(()) => {
                audit::trail::committed();
                Ok(updated)
            }
            Err(StoreError::TransactionFailed { index: 0, current }) => Err(changed(current)),
            Err(other) => Err(other.into()),
        }
    }
}

/// A subscription to write with [`BookingRepo::set_subscription`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSubscription {
    /// Subscription id (kept when only the address changes).
    pub id: String,
    /// When it started.
    pub since: i64,
    /// Where to write; `None` means the patient's account address.
    pub email: Option<String>,
    /// Whether the owner of `email` confirmed it (or it is the account address): only then do
    /// notifications go to it.
    pub email_confirmed: bool,
}

/// Whether `new` offers slots or places `old` did not (any one of: capacity per slot, an opening
/// window not in the old schedule, a date no longer closed, a longer horizon, a shorter lead).
fn adds_capacity(old: &AppointmentType, new: &AppointmentType) -> bool {
    let (o, n) = (&old.schedule, &new.schedule);
    let same_grid = o.slot_interval_minutes == n.slot_interval_minutes
        && o.duration_minutes == n.duration_minutes
        && o.time_zone == n.time_zone;
    n.capacity > o.capacity
        || !same_grid
        || n.windows.iter().any(|w| !o.windows.contains(w))
        || o.closed_dates.iter().any(|d| !n.closed_dates.contains(d))
        || n.horizon_days > o.horizon_days
        || n.min_lead_minutes < o.min_lead_minutes
        || new
            .insurance_ids
            .iter()
            .any(|i| !old.insurance_ids.contains(i))
}

/// The appointment was not at the state a change was guarded on; `current` is what the store
/// found instead (read from the failed condition, no extra round trip), when it is readable.
fn changed(current: Option<Box<Item>>) -> BookingError {
    BookingError::AppointmentChanged { current }
}

/// The appointment is still booked, at the start it was read with, and (for records that carry
/// one) at the revision it was read with: any change in between (another reschedule, an ASAP
/// subscription) makes the write fail instead of working from an outdated copy.
fn unchanged(current: &Appointment) -> Condition {
    Condition::AllEqual(unchanged_attributes(current))
}

fn unchanged_attributes(current: &Appointment) -> Vec<(String, Value)> {
    let mut attributes = vec![
        (
            "status".to_owned(),
            Value::from(AppointmentStatus::Booked.as_str()),
        ),
        ("starts_at".to_owned(), Value::N(current.starts_at)),
    ];
    // Records from before revisions have none; requiring 0 would lock them forever.
    if current.revision > 0 {
        attributes.push(("revision".to_owned(), Value::N(current.revision)));
    }
    attributes
}

fn claim(type_id: i64, slot: Slot, capacity: i64) -> Write {
    Write::Update {
        key: layout::slot_counter(type_id, slot.start),
        update: Update::default()
            .add("taken", 1)
            .expire_at(slot.end + SLOT_RETENTION_SECONDS),
        condition: Condition::Below("taken".into(), capacity),
    }
}

fn release(current: &Appointment) -> Write {
    Write::Update {
        key: layout::slot_counter(current.type_id, current.starts_at),
        update: Update::default()
            .add("taken", -1)
            .expire_at(current.ends_at + SLOT_RETENTION_SECONDS),
        condition: Condition::None,
    }
}

fn appointment_item(a: &Appointment) -> Item {
    let mut item = Item::new(appointment_key(&a.patient_id, &a.id))
        .with("id", a.id.as_str())
        .with("patient_id", a.patient_id.as_str())
        .with("status", a.status.as_str())
        .with("type_id", a.type_id)
        .with("type_name", a.type_name.clone())
        .with("category_id", a.category_id)
        .with("category_name", a.category_name.clone())
        .with("insurance_id", a.insurance_id)
        .with("starts_at", a.starts_at)
        .with("ends_at", a.ends_at)
        .with("time_zone", a.time_zone.name())
        .with("video_consultation", a.video_consultation)
        .with("asap_list_opt_in", a.asap_opt_in)
        .with("cancellation_notice_hours", a.cancellation_notice_hours)
        .with("created_at", a.created_at)
        .with("revision", a.revision)
        .with("limit_counted", a.limit_counted)
        .indexed(appointment_index(&a.patient_id, a.starts_at, &a.id));
    if let Some(email) = &a.email {
        item = item
            .with("email", email.clone())
            .with("email_confirmed", a.email_confirmed);
    }
    if let Some(comment) = &a.comment {
        item = item.with("comment", comment.clone());
    }
    if let (Some(subscription), Some(since)) = (&a.asap_subscription_id, a.asap_since) {
        item = item
            .with("asap_subscription_id", subscription.clone())
            .with("asap_since", since);
    }
    item
}

/// Reads an appointment item (as stored by this repository).
pub fn appointment_from_item(item: &Item) -> Result<Appointment, BookingError> {
    let corrupt = |what: &str| BookingError::Internal(format!("appointment {}: {what}", item.key));
    let status = AppointmentStatus::parse(item.string("status")?)
        .ok_or_else(|| corrupt("unknown status"))?;
    let time_zone: Tz = item
        .string("time_zone")?
        .parse()
        .map_err(|_| corrupt("unknown time zone"))?;
    let optional = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
    // Flags records from before they existed do not carry read as false.
    let flag = |name: &str| item.get(name).and_then(Value::as_bool).unwrap_or(false);
    Ok(Appointment {
        id: AppointmentId::parse(item.string("id")?).map_err(|e| corrupt(&e.to_string()))?,
        patient_id: PatientId::parse(item.string("patient_id")?)
            .map_err(|e| corrupt(&e.to_string()))?,
        status,
        type_id: item.number("type_id")?,
        type_name: item.string("type_name")?.to_owned(),
        category_id: item.number("category_id")?,
        category_name: item.string("category_name")?.to_owned(),
        insurance_id: item.number("insurance_id")?,
        starts_at: item.number("starts_at")?,
        ends_at: item.number("ends_at")?,
        time_zone,
        video_consultation: item.boolean("video_consultation")?,
        asap_opt_in: flag("asap_list_opt_in"),
        email: optional("email"),
        email_confirmed: flag("email_confirmed"),
        asap_subscription_id: optional("asap_subscription_id"),
        asap_since: item.get("asap_since").and_then(Value::as_i64),
        comment: optional("comment"),
        cancellation_notice_hours: item.number("cancellation_notice_hours")?,
        created_at: item.number("created_at")?,
        revision: item.get("revision").and_then(Value::as_i64).unwrap_or(0),
        limit_counted: flag("limit_counted"),
    })
}
