//! From one outbox event to the emails it causes.
//!
//! For a freed slot: if the slot is still free and still offered, the subscribers of its type
//! whose appointment starts later (never the patient who gave it up) are told about it. For
//! capacity added by a catalog load: each subscriber is told the earliest free slot before their
//! appointment, if there is one. At most `PORTAL_ASAP_FANOUT` emails per event, oldest
//! subscriptions first.
//!
//! Exactly once per (event, subscriber): before sending, a delivery record
//! ([`layout::delivery`]: `ASAPMAIL#{event id}` / `APPT#{appointment id}`) is created with a not-exists condition and a
//! short lease; after the mail service accepts the message it is marked `sent`. A failed send
//! deletes the claim and fails the event, so the stream redelivers it and only the unsent
//! recipients are tried again. A claim found still `sending` (a crashed or parallel attempt) fails
//! the event too, so it is retried after the lease instead of being dropped. The one window left
//! is a crash between the mail service accepting a message and the `sent` mark: that message is
//! sent again after the lease, never lost. The claim's transaction also checks the daily limits
//! and that the address is not suppressed ([`limits`]); a refused claim is recorded as final
//! (`rate_limited`, `suppressed`).
//!
//! Store hiccups: the claim, its release and the final marks are each tried up to five times
//! (within a second) while the store answers "unavailable". A claim carries its attempt's random
//! mark, so a claim whose answer was lost (written, but the write looked failed) is recognised as
//! this attempt's own when it is written again, instead of blocking its recipient for a whole
//! lease. Once every email of the event is out, the outbox record is marked `dispatched_at` (the
//! invariant checks of the soak and fault tests look for it; a dispatch of an event whose record
//! is gone is not an error).

use std::sync::Arc;

use super::limits;
use super::message::Notification;
use super::unsubscribe::UnsubscribeToken;
use crate::booking::catalog::AppointmentType;
use crate::booking::outbox::{OutboxEvent, OutboxKind};
use crate::booking::schedule::{first_free, Slot};
use crate::booking::subscriptions::Subscription;
use crate::booking::{AppointmentId, BookingError, BookingRepo};
use crate::boot::Context;
use crate::crypto::random_id;
use crate::domain::patient::{Patient, PatientId};
use crate::keys::Keys;
use crate::mail::{MailError, SharedMailer};
use crate::metrics::{self, Counter};
use crate::repo::PatientRepo;
use crate::store::{
    layout, Condition, Item, Key, SharedStore, StoreError, Update, Write, MAX_QUERY_LIMIT,
};

/// How long a delivery claim blocks other attempts (longer than a Lambda invocation may run).
pub const CLAIM_LEASE_SECONDS: i64 = 15 * 60;

/// How long a `sent` delivery record is kept (far beyond any stream retry).
pub const SENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// Attribute of an outbox record set once its event was dispatched.
pub const DISPATCHED_AT: &str = "dispatched_at";

/// Attribute of a delivery claim naming the attempt that wrote it.
const ATTEMPT: &str = "attempt";

/// Length of an attempt's random mark.
const ATTEMPT_ID_LEN: usize = 16;

/// Tries of one delivery-record write when the store is briefly unavailable: a claim or mark left
/// unwritten (or unconfirmed) holds its recipient back for a whole claim lease.
const WRITE_TRIES: u32 = 5;

/// What one dispatch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Emails handed to the mail service now.
    pub sent: usize,
    /// Recipients already sent this event's email (a redelivery).
    pub already_sent: usize,
    /// Recipients not sent to because a daily limit ([`super::limits`]) was reached.
    pub rate_limited: usize,
    /// Recipients not sent to because their address bounced or complained
    /// ([`super::suppression`]).
    pub suppressed: usize,
}

/// Why an event must be retried. Nothing here is lost: the outbox record stays and the stream
/// (or the next inline attempt) delivers it again.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the catalog failed.
    #[error("catalog: {0}")]
    Catalog(String),
    /// At least one email could not be sent (the others were).
    #[error("{failed} notification(s) not sent: {cause}")]
    Mail {
        /// How many failed.
        failed: usize,
        /// The last failure.
        cause: MailError,
    },
    /// Another attempt holds a delivery claim that has not run out yet.
    #[error("a delivery of this event is in progress elsewhere; retry after the claim lease")]
    InFlight,
    /// The message could not be built.
    #[error("rendering the email failed: {0}")]
    Render(String),
}

/// Sends the emails of outbox events; built once per function instance.
pub struct Notifier {
    store: SharedStore,
    catalog: BookingRepo,
    patients: PatientRepo,
    mailer: SharedMailer,
    keys: Arc<Keys>,
    issuer: String,
    from: String,
    fanout: usize,
}

impl Notifier {
    /// A notifier over the function's store, keys and configuration, sending through `mailer`.
    pub fn new(context: &Context, mailer: SharedMailer) -> Self {
        Self {
            store: context.store.clone(),
            catalog: BookingRepo::new(context.store.clone()),
            patients: PatientRepo::new(context.store.clone()),
            mailer,
            keys: context.keys.clone(),
            issuer: context.config.issuer_str().to_owned(),
            from: context.config.mail_from.clone(),
            fanout: context.config.asap_fanout as usize,
        }
    }

    /// Sends the emails `event` calls for that were not sent yet, then marks its outbox record
    /// dispatched (`dispatched_at`; the stream's filter passes only inserts, so the mark causes no
    /// new delivery). An event whose record is gone is still dispatched.
    pub async fn dispatch(
        &self,
        event: &OutboxEvent,
        now: i64,
    ) -> Result<DispatchReport, NotifyError> {
        let report = self.send_all(event, now).await?;
        let (key, mark) = (event.key(), Update::default().set(DISPATCHED_AT, now));
        match retried(|| self.store.update(&key, mark.clone(), Condition::Exists)).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(report),
            Err(other) => Err(other.into()),
        }
    }

    async fn send_all(&self, event: &OutboxEvent, now: i64) -> Result<DispatchReport, NotifyError> {
        let mut report = DispatchReport::default();
        let catalog = match self.catalog.catalog().await {
            Ok(catalog) => catalog,
            Err(BookingError::CatalogMissing) => return Ok(report),
            Err(BookingError::Store(e)) => return Err(e.into()),
            Err(other) => return Err(NotifyError::Catalog(other.to_string())),
        };
        let Some(kind) = catalog
            .types
            .get(&event.type_id)
            .filter(|kind| kind.asap_notifications_enabled)
        else {
            return Ok(report);
        };
        let category_name = catalog
            .categories
            .get(&kind.category_id)
            .map(|c| c.name.as_str())
            .unwrap_or_default();
        let capacity = kind.schedule.capacity;

        let (lowest, freed_by) = match &event.kind {
            OutboxKind::SlotFreed { slot, freed_by } => (slot.start, freed_by.as_ref()),
            OutboxKind::CapacityAdded => (now, None),
        };
        let mut candidates: Vec<Subscription> = self
            .subscriptions(kind.id, lowest)
            .await?
            .into_iter()
            .filter(|s| Some(&s.patient_id) != freed_by)
            .filter(|s| kind.insurance_ids.contains(&s.insurance_id))
            .collect();
        candidates.sort_by(|a, b| (a.since, &a.appointment_id).cmp(&(b.since, &b.appointment_id)));
        let Some(latest) = candidates.iter().map(|s| s.starts_at).max() else {
            return Ok(report);
        };

        // What is free now, before the latest subscriber's appointment: one query.
        let slots = match &event.kind {
            OutboxKind::SlotFreed { slot, .. } if kind.schedule.offers(*slot, now) => vec![*slot],
            OutboxKind::SlotFreed { .. } => return Ok(report),
            OutboxKind::CapacityAdded => kind.schedule.slots(now, latest, now),
        };
        let taken = match (slots.first(), slots.last()) {
            (Some(first), Some(last)) => self
                .catalog
                .taken(kind.id, first.start, last.start + 1)
                .await
                .map_err(|e| match e {
                    BookingError::Store(e) => NotifyError::Store(e),
                    other => NotifyError::Catalog(other.to_string()),
                })?,
            _ => return Ok(report),
        };

        let mut failure = None;
        let mut failed = 0;
        let mut attempted = 0;
        for (position, subscription) in candidates.iter().enumerate() {
            if attempted == self.fanout {
                // Over the fan-out limit: these subscribers are not told about this slot.
                metrics::count_n(
                    Counter::AsapMailsSuppressed,
                    None,
                    (candidates.len() - position) as u64,
                );
                break;
            }
            let Some(offered) = first_free(&slots, &taken, capacity, subscription.starts_at) else {
                continue;
            };
            attempted += 1;
            match self
                .deliver(event, kind, category_name, subscription, offered, now)
                .await
            {
                Ok(Delivery::Sent) => {
                    metrics::count(Counter::AsapMailsSent);
                    report.sent += 1
                }
                Ok(Delivery::AlreadySent) => {
                    metrics::count(Counter::AsapMailsSuppressed);
                    report.already_sent += 1
                }
                Ok(Delivery::NoRecipient) => metrics::count(Counter::AsapMailsSuppressed),
                Ok(Delivery::Limited) => {
                    metrics::count(Counter::AsapMailsRateLimited);
                    report.rate_limited += 1
                }
                Ok(Delivery::Suppressed) => {
                    metrics::count(Counter::AsapMailsSuppressed);
                    report.suppressed += 1
                }
                Err(NotifyError::Mail { cause, .. }) => {
                    metrics::count(Counter::AsapMailsFailed);
                    failed += 1;
                    failure = Some(NotifyError::Mail { failed, cause });
                }
                Err(other) => failure = Some(other),
            }
        }
        tracing::info!(
            event = %event.id,
            type_id = event.type_id,
            candidates = candidates.len(),
            sent = report.sent,
            already_sent = report.already_sent,
            rate_limited = report.rate_limited,
            suppressed = report.suppressed,
            failed,
            "asap event dispatched"
        );
        match failure {
            Some(NotifyError::Mail { cause, .. }) => Err(NotifyError::Mail { failed, cause }),
            Some(other) => Err(other),
            None => Ok(report),
        }
    }

    /// Every subscription of the type whose appointment starts after `instant`.
    async fn subscriptions(
        &self,
        type_id: i64,
        instant: i64,
    ) -> Result<Vec<Subscription>, NotifyError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let query = layout::subscriptions_starting_after(type_id, instant, MAX_QUERY_LIMIT)
                .after(cursor);
            let page = self.store.query(query).await?;
            for item in &page.items {
                all.push(Subscription::from_item(item)?);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn deliver(
        &self,
        event: &OutboxEvent,
        kind: &AppointmentType,
        category_name: &str,
        subscription: &Subscription,
        offered: Slot,
        now: i64,
    ) -> Result<Delivery, NotifyError> {
        let key = delivery_key(&event.id, &subscription.appointment_id);
        // Read first: the recipient decides which daily limits the claim is guarded by, and the
        // mail is written in the patient's language.
        let patient = self.patient(&subscription.patient_id).await?;
        let locale = patient.as_ref().map(|p| p.locale).unwrap_or_default();
        let recipient = match &subscription.email {
            Some(email) => Some(email.clone()),
            None => patient.map(|p| p.email.as_str().to_owned()),
        };
        // The attempt's own mark: a claim whose answer was lost comes back as "taken" when it is
        // written again, and this tells it apart from another attempt's claim.
        let attempt = random_id(ATTEMPT_ID_LEN);
        let claim = Item::new(key.clone())
            .with("status", "sending")
            .with("claimed_at", now)
            .with(ATTEMPT, attempt.as_str())
            .expiring_at(now + CLAIM_LEASE_SECONDS);
        let mut writes = vec![Write::Put {
            item: claim,
            condition: Condition::NotExists,
        }];
        let Some(recipient) = recipient else {
            // The account is gone: nothing to send, ever.
            return match self.claim(writes, &attempt).await? {
                Claim::Claimed => {
                    self.finish(&key, "no_recipient", now).await;
                    Ok(Delivery::NoRecipient)
                }
                Claim::Limited | Claim::Suppressed => Ok(Delivery::NoRecipient),
                Claim::Taken(delivery) => Ok(delivery),
            };
        };
        writes.extend(limits::notification(
            &recipient,
            &subscription.subscription_id,
            now,
        ));
        match self.claim(writes, &attempt).await? {
            Claim::Claimed => {}
            Claim::Taken(delivery) => return Ok(delivery),
            Claim::Limited => {
                self.finish_unsent(&key, "rate_limited", now).await;
                tracing::warn!(
                    event = %event.id,
                    appointment = %subscription.appointment_id,
                    "asap notification rate-limited"
                );
                return Ok(Delivery::Limited);
            }
            Claim::Suppressed => {
                self.finish_unsent(&key, "suppressed", now).await;
                tracing::info!(
                    event = %event.id,
                    appointment = %subscription.appointment_id,
                    "asap notification not sent: the address is suppressed (bounce or complaint)"
                );
                return Ok(Delivery::Suppressed);
            }
        }
        let sent = async {
            let token = UnsubscribeToken {
                patient_id: subscription.patient_id.clone(),
                appointment_id: subscription.appointment_id.clone(),
                subscription_id: subscription.subscription_id.clone(),
                exp: subscription.starts_at,
                locale: Some(locale),
            }
            .seal(&self.keys.current())
            .ok_or_else(|| NotifyError::Render("sealing the unsubscribe token failed".into()))?;
            let mail = Notification {
                from: &self.from,
                to: &recipient,
                locale,
                type_name: &kind.name,
                category_name,
                time_zone: kind.schedule.time_zone,
                offered_start: offered.start,
                current_start: subscription.starts_at,
                issuer: &self.issuer,
                unsubscribe_token: &token,
                message_id: format!(
                    "asap.{}.{}@{}",
                    event.id,
                    subscription.appointment_id,
                    message_id_domain(&self.issuer)
                ),
                now,
            }
            .render()
            .map_err(|e| NotifyError::Render(e.to_string()))?;
            self.mailer
                .send(&mail)
                .await
                .map_err(|cause| NotifyError::Mail { failed: 1, cause })
        }
        .await;
        match sent {
            Ok(()) => {
                self.finish(&key, "sent", now).await;
                Ok(Delivery::Sent)
            }
            Err(error) => {
                // Not sent: free the claim (if it is still this attempt's) so the redelivered
                // event tries this recipient again instead of waiting out the lease.
                let own = Condition::Equals(ATTEMPT.into(), attempt.as_str().into());
                match retried(|| self.store.delete(&key, own.clone())).await {
                    Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "releasing an ASAP delivery claim failed; it runs out after its lease")
                    }
                }
                Err(error)
            }
        }
    }

    /// Marks a delivery final. A failure here is logged, not returned: the message is out, and
    /// failing the event would only make the stream resend it after the lease.
    async fn finish(&self, key: &Key, status: &str, now: i64) {
        let update = Update::default()
            .set("status", status)
            .set("finished_at", now)
            .expire_at(now + SENT_RETENTION_SECONDS);
        if let Err(e) = retried(|| self.store.update(key, update.clone(), Condition::Exists)).await
        {
            tracing::error!(error = %e, "marking an ASAP delivery as {status} failed");
        }
    }

    /// Records a delivery that was not claimed (a limit or the suppression refused it) as final,
    /// so a redelivery of the event does not try again. Found already there (a resend whose
    /// answer was lost, or a parallel attempt), it is final all the same.
    async fn finish_unsent(&self, key: &Key, status: &str, now: i64) {
        let record = Item::new(key.clone())
            .with("status", status)
            .with("finished_at", now)
            .expiring_at(now + SENT_RETENTION_SECONDS);
        match retried(|| self.store.put(record.clone(), Condition::NotExists)).await {
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "recording an ASAP delivery as {status} failed"),
        }
    }

    /// Claims a delivery with the transaction `writes` (the claim first, then the guards of
    /// [`limits::notification`]), tried again while the store is unavailable. A claim found
    /// carrying this `attempt`'s mark is this attempt's own, written by a try whose answer was
    /// lost (with the limits it counted: one transaction).
    async fn claim(&self, writes: Vec<Write>, attempt: &str) -> Result<Claim, NotifyError> {
        match retried(|| self.store.transact(writes.clone())).await {
            Ok(()) => Ok(Claim::Claimed),
            Err(StoreError::TransactionFailed { index: 0, current }) => {
                let field = |name| {
                    current
                        .as_ref()
                        .and_then(|item| item.get(name))
                        .and_then(|v| v.as_str())
                };
                if field(ATTEMPT) == Some(attempt) {
                    Ok(Claim::Claimed)
                } else if field("status").is_some_and(|status| status != "sending") {
                    Ok(Claim::Taken(Delivery::AlreadySent))
                } else {
                    Err(NotifyError::InFlight)
                }
            }
            Err(StoreError::TransactionFailed { index, .. })
                if index == 1 + limits::SUPPRESSION_CHECK =>
            {
                Ok(Claim::Suppressed)
            }
            Err(StoreError::TransactionFailed { .. }) => Ok(Claim::Limited),
            Err(other) => Err(other.into()),
        }
    }

    async fn patient(&self, patient_id: &PatientId) -> Result<Option<Patient>, NotifyError> {
        match self.patients.get(patient_id).await {
            Ok(patient) => Ok(patient),
            Err(crate::repo::RepoError::Store(e)) => Err(e.into()),
            Err(other) => Err(NotifyError::Catalog(other.to_string())),
        }
    }
}

/// Runs a write again (up to [`WRITE_TRIES`] in all, with a short pause) while the store answers
/// "unavailable". Only for writes that are safe to repeat: the same claim (its attempt mark
/// recognises a claim of its own whose answer was lost) or the same final mark.
async fn retried<T, F, Fut>(mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut tries = 1;
    loop {
        match write().await {
            Err(StoreError::Unavailable(cause)) if tries < WRITE_TRIES => {
                tracing::debug!(%cause, tries, "ASAP delivery write retried");
                tokio::time::sleep(std::time::Duration::from_millis(25 << tries.min(4))).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

enum Delivery {
    Sent,
    AlreadySent,
    NoRecipient,
    Limited,
    Suppressed,
}

enum Claim {
    Claimed,
    Taken(Delivery),
    Limited,
    Suppressed,
}

fn delivery_key(event_id: &str, appointment_id: &AppointmentId) -> Key {
    layout::delivery(event_id, appointment_id.as_str())
}

/// The host of the issuer (the domain of Message-IDs, and the portal's name when nothing better is known).
pub fn message_id_domain(issuer: &str) -> String {
    url::Url::parse(issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "mypatientportal.local".into())
}
