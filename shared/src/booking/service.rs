//! The booking flows, free of HTTP: the `booking` function parses requests, calls these, and maps
//! results and [`BookingError`]s to responses.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::appointments::{Appointment, AppointmentId, AppointmentStatus, BookRequest};
use super::availability::{
    free_page, Availability, AvailabilityPage, AvailabilityToken, SearchQuery, SearchWindow,
    ID_TTL_SECONDS, PURPOSE as AVAILABILITY_PURPOSE,
};
use super::catalog::{AppointmentType, Catalog};
use super::etag::{AppointmentTag, IfMatch};
use super::outbox::OutboxEvent;
use super::repo::{appointment_from_item, BookOutcome, BookingRepo, Idempotency};
use super::schedule::{first_free, Slot};
use super::subscriptions::SUBSCRIPTION_ID_LEN;
use super::video::{VideoLink, VideoLinks, VideoVerification};
use super::views::{
    self, AppointmentPage, AppointmentTypeList, AppointmentTypeView, AppointmentView, CategoryList,
    CategoryView, InsuranceList, InsuranceView,
};
use super::BookingError;
use crate::crypto::random_id;
use crate::domain::patient::PatientId;
use crate::keys::Keys;
use crate::metrics::{self, Counter};

/// Default page size of the appointment list.
pub const DEFAULT_LIST_LIMIT: u32 = 20;
/// Largest page size of the appointment list.
pub const MAX_LIST_LIMIT: u32 = 100;

/// The result of `POST /booking`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    /// The appointment id.
    pub id: AppointmentId,
    /// Whether this answered a retry of an earlier request with the same `Idempotency-Key`.
    pub replayed: bool,
    /// The new appointment as stored (for its `ETag`); `None` for a replay, which reads nothing.
    pub appointment: Option<Appointment>,
}

/// Everything the booking routes need, built once per function instance.
pub struct BookingService {
    repo: BookingRepo,
    keys: Arc<Keys>,
    issuer: String,
    video: VideoLinks,
}

impl BookingService {
    /// A service over a repository (which holds the catalog cache), the key set (availability ids,
    /// video links), the issuer (`iss` of video tokens) and the video service.
    pub fn new(repo: BookingRepo, keys: Arc<Keys>, issuer: &str, video: VideoLinks) -> Self {
        Self {
            repo,
            keys,
            issuer: issuer.to_owned(),
            video,
        }
    }

    /// The repository.
    pub fn repo(&self) -> &BookingRepo {
        &self.repo
    }

    /// `{"data": [insurance, ...]}`.
    pub async fn insurances(&self) -> Result<Value, BookingError> {
        let catalog = self.repo.catalog().await?;
        let data = catalog
            .insurances
            .values()
            .map(InsuranceView::from)
            .collect();
        views::to_value(&InsuranceList { data })
    }

    /// `{"data": [category, ...]}`, only those the insurance may book when it is given.
    pub async fn categories(&self, insurance_id: Option<i64>) -> Result<Value, BookingError> {
        let catalog = self.repo.catalog().await?;
        if let Some(id) = insurance_id {
            insurance_exists(&catalog, id)?;
        }
        let data = catalog
            .categories_for(insurance_id)
            .into_iter()
            .map(CategoryView::from)
            .collect();
        views::to_value(&CategoryList { data })
    }

    /// `{"data": [type, ...]}` of the category and insurance, when given.
    pub async fn types(
        &self,
        category_id: Option<i64>,
        insurance_id: Option<i64>,
    ) -> Result<Value, BookingError> {
        let catalog = self.repo.catalog().await?;
        if let Some(id) = insurance_id {
            insurance_exists(&catalog, id)?;
        }
        if let Some(id) = category_id {
            if !catalog.categories.contains_key(&id) {
                return Err(BookingError::NotFound(format!(
                    "appointment category {id} does not exist"
                )));
            }
            if let Some(insurance) = insurance_id {
                if !catalog.categories[&id].insurance_ids.contains(&insurance) {
                    return Err(BookingError::InsuranceNotAllowed(format!(
                        "insurance {insurance} may not book appointment category {id}"
                    )));
                }
            }
        }
        let data = catalog
            .types_for(category_id, insurance_id)
            .into_iter()
            .map(AppointmentTypeView::from)
            .collect();
        views::to_value(&AppointmentTypeList { data })
    }

    /// Free slots of a type for an insurance: 0–1 catalog reads plus one query of slot counters.
    pub async fn search(
        &self,
        query: &SearchQuery,
        now: i64,
    ) -> Result<AvailabilityPage, BookingError> {
        self.search_excluding(query, None, now).await
    }

    async fn search_excluding(
        &self,
        query: &SearchQuery,
        exclude: Option<i64>,
        now: i64,
    ) -> Result<AvailabilityPage, BookingError> {
        let catalog = self.repo.catalog().await?;
        let kind = bookable(
            &catalog,
            query.type_id,
            query.category_id,
            query.insurance_id,
        )?;
        let window = SearchWindow::parse(query, &kind.schedule, now)?;
        let slots = kind.schedule.slots(window.effective_from(), window.to, now);
        let taken = match (slots.first(), slots.last()) {
            (Some(first), Some(last)) => {
                self.repo
                    .taken(kind.id, first.start, last.start + 1)
                    .await?
            }
            _ => BTreeMap::new(),
        };
        let (page, next_cursor) = free_page(
            &slots,
            &taken,
            kind.schedule.capacity,
            exclude,
            &window,
            kind.id,
        );
        let data = page
            .into_iter()
            .map(|slot| self.availability(kind, query.insurance_id, slot, now))
            .collect::<Result<Vec<_>, BookingError>>()?;
        Ok(AvailabilityPage { data, next_cursor })
    }

    /// A slot as the API shows it, with its sealed id.
    fn availability(
        &self,
        kind: &AppointmentType,
        insurance_id: i64,
        slot: Slot,
        now: i64,
    ) -> Result<Availability, BookingError> {
        let token = AvailabilityToken {
            type_id: kind.id,
            category_id: kind.category_id,
            insurance_id,
            starts_at: slot.start,
            ends_at: slot.end,
            exp: (now + ID_TTL_SECONDS).min(slot.start),
        };
        Ok(Availability {
            id: token.seal(&self.keys.current())?,
            starts_at: kind.schedule.format(slot.start),
            ends_at: kind.schedule.format(slot.end),
        })
    }

    /// The earliest free slot of the appointment's type, category and insurance that starts
    /// before it: 0–1 catalog reads plus one query of slot counters (the schedule's horizon
    /// bounds the range). `None` when there is none, or when the appointment can no longer be
    /// moved (cancelled, inside its notice period, or no longer bookable with its insurance).
    pub async fn earliest_before(
        &self,
        current: &Appointment,
        now: i64,
    ) -> Result<Option<Availability>, BookingError> {
        if changeable(current, now, "rescheduled").is_err() {
            return Ok(None);
        }
        let catalog = self.repo.catalog().await?;
        let Ok(kind) = bookable(
            &catalog,
            current.type_id,
            current.category_id,
            current.insurance_id,
        ) else {
            return Ok(None);
        };
        let slots = kind.schedule.slots(now, current.starts_at, now);
        let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
            return Ok(None);
        };
        let taken = self
            .repo
            .taken(kind.id, first.start, last.start + 1)
            .await?;
        first_free(&slots, &taken, kind.schedule.capacity, current.starts_at)
            .map(|slot| self.availability(kind, current.insurance_id, slot, now))
            .transpose()
    }

    /// Books the availability for the patient: all checks in memory,
    /// then ONE storage transaction (0 catalog reads when warm), which also holds the patient to
    /// the type's `max_active_appointments_per_patient` (409 `booking_limit_reached`).
    pub async fn book(
        &self,
        patient_id: &PatientId,
        request: &BookRequest,
        idempotency: Option<Idempotency>,
        now: i64,
    ) -> Result<Booked, BookingError> {
        let result = self.book_once(patient_id, request, idempotency, now).await;
        // A replayed retry is the same booking again, not another one.
        let new = matches!(&result, Ok(booked) if !booked.replayed);
        count_outcome(&result, new.then_some(Counter::Bookings));
        result
    }

    async fn book_once(
        &self,
        patient_id: &PatientId,
        request: &BookRequest,
        idempotency: Option<Idempotency>,
        now: i64,
    ) -> Result<Booked, BookingError> {
        let (comment, email) = request.validate()?;
        let token = self
            .open_availability(&request.availability_id, now)
            .await?;
        if request.insurance_id != token.insurance_id {
            return Err(BookingError::InsuranceNotAllowed(format!(
                "insurance_id {} is not the insurance this availability was found for ({})",
                request.insurance_id, token.insurance_id
            )));
        }
        let catalog = self.repo.catalog().await?;
        let kind = bookable(
            &catalog,
            token.type_id,
            token.category_id,
            request.insurance_id,
        )?;
        if !kind.schedule.offers(token.slot(), now) {
            return Err(no_longer_offered());
        }
        let asap = request.asap_list_opt_in.unwrap_or(false);
        if asap && !kind.asap_notifications_enabled {
            return Err(BookingError::Conflict {
                code: "asap_unavailable",
                description: format!(
                    "appointment type {} has no ASAP list; book without asap_list_opt_in",
                    kind.id
                ),
            });
        }
        let category = catalog
            .categories
            .get(&kind.category_id)
            .ok_or_else(|| BookingError::Internal("validated catalog lost a category".into()))?;
        let appointment = Appointment {
            id: AppointmentId::generate(),
            patient_id: patient_id.clone(),
            status: AppointmentStatus::Booked,
            type_id: kind.id,
            type_name: kind.name.clone(),
            category_id: category.id,
            category_name: category.name.clone(),
            insurance_id: request.insurance_id,
            starts_at: token.starts_at,
            ends_at: token.ends_at,
            time_zone: kind.schedule.time_zone,
            video_consultation: kind.video_consultation,
            asap_opt_in: asap,
            asap_subscription_id: asap.then(|| random_id(SUBSCRIPTION_ID_LEN)),
            asap_since: asap.then_some(now),
            email,
            email_confirmed: false,
            comment,
            cancellation_notice_hours: kind.cancellation_notice_hours,
            created_at: now,
            revision: 1,
            limit_counted: true,
        };
        match self
            .repo
            .book(
                &appointment,
                kind.schedule.capacity,
                kind.max_active_appointments_per_patient,
                idempotency.as_ref(),
                now,
            )
            .await?
        {
            BookOutcome::Created => Ok(Booked {
                id: appointment.id.clone(),
                replayed: false,
                appointment: Some(appointment),
            }),
            BookOutcome::Replayed(id) => Ok(Booked {
                id,
                replayed: true,
                appointment: None,
            }),
        }
    }

    /// The patient's appointment (404 for unknown ids and other patients' ids alike).
    pub async fn appointment(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
    ) -> Result<Appointment, BookingError> {
        self.repo
            .appointment(patient_id, id)
            .await?
            .ok_or_else(|| BookingError::NotFound(format!("no appointment {id}")))
    }

    /// `{"data": [appointment, ...], "next_cursor"}`, latest start first.
    pub async fn list(
        &self,
        patient_id: &PatientId,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Value, BookingError> {
        let limit = match limit {
            None => DEFAULT_LIST_LIMIT,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => n,
                _ => {
                    return Err(BookingError::InvalidRequest(format!(
                        "`limit` must be an integer from 1 to {MAX_LIST_LIMIT}"
                    )))
                }
            },
        };
        let (appointments, next) = self.repo.list(patient_id, limit, cursor).await?;
        let data = appointments.iter().map(AppointmentView::from).collect();
        views::to_value(&AppointmentPage {
            data,
            next_cursor: next,
        })
    }

    /// Free slots to move the appointment to: same type, category and insurance, without its own
    /// slot. `query`'s ids are ignored (they come from the appointment).
    pub async fn alternatives(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        query: &SearchQuery,
        now: i64,
    ) -> Result<AvailabilityPage, BookingError> {
        let current = self.appointment(patient_id, id).await?;
        let query = SearchQuery {
            category_id: current.category_id,
            type_id: current.type_id,
            insurance_id: current.insurance_id,
            ..query.clone()
        };
        let exclude = (current.status == AppointmentStatus::Booked).then_some(current.starts_at);
        self.search_excluding(&query, exclude, now).await
    }

    /// Moves the appointment to the availability: one read (none with a current `If-Match` tag),
    /// then ONE transaction. Refused (409) when cancelled or inside the cancellation notice period;
    /// 412 when `if_match` names an outdated revision, unless the appointment is already exactly
    /// what this change makes of that revision (a resend after a lost answer: answered 200 again).
    /// When the type has an ASAP list, the same transaction records the freed slot in the outbox;
    /// the event is returned for inline dispatch.
    pub async fn reschedule(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        availability_id: &str,
        if_match: IfMatch,
        now: i64,
    ) -> Result<(Appointment, Option<OutboxEvent>), BookingError> {
        let result = self
            .reschedule_once(patient_id, id, availability_id, if_match, now)
            .await;
        count_outcome(&result, Some(Counter::Reschedules));
        result
    }

    async fn reschedule_once(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        availability_id: &str,
        if_match: IfMatch,
        now: i64,
    ) -> Result<(Appointment, Option<OutboxEvent>), BookingError> {
        let token = self.open_availability(availability_id, now).await?;
        let (current, tagged) = self
            .to_change(patient_id, id, if_match, now, "rescheduled")
            .await?;
        if (token.type_id, token.category_id, token.insurance_id)
            != (current.type_id, current.category_id, current.insurance_id)
        {
            return Err(BookingError::InvalidAvailability(
                "the availability is for another appointment type, category or insurance than this appointment".into(),
            ));
        }
        if token.starts_at == current.starts_at {
            // Nothing to write, so no condition checks a tagged copy: read to check it instead.
            if tagged && self.appointment(patient_id, id).await? != current {
                return Err(outdated());
            }
            return Ok((current, None));
        }
        let catalog = self.repo.catalog().await?;
        let kind = bookable(
            &catalog,
            token.type_id,
            token.category_id,
            token.insurance_id,
        )?;
        if !kind.schedule.offers(token.slot(), now) {
            return Err(no_longer_offered());
        }
        let freed = kind
            .asap_notifications_enabled
            .then(|| OutboxEvent::slot_left(kind.id, &current, now));
        let moved = Appointment {
            starts_at: token.starts_at,
            ends_at: token.ends_at,
            revision: current.revision + 1,
            ..current.clone()
        };
        let written = self
            .repo
            .reschedule(
                &current,
                token.slot(),
                kind.schedule.capacity,
                now,
                freed.as_ref(),
            )
            .await;
        match written {
            Ok(()) => Ok((moved, freed)),
            Err(error) => {
                // A resend of this very change is answered as the first one was, and its freed
                // slot is dispatched again (its delivery records keep that from mailing twice).
                let live = already_applied(tagged, error, |live| {
                    live.status == AppointmentStatus::Booked
                        && live.slot() == moved.slot()
                        && live.revision == moved.revision
                })?;
                Ok((live, freed))
            }
        }
    }

    /// Cancels the appointment and frees its slot: one read (none with a current `If-Match` tag),
    /// then ONE transaction, which also records the freed slot in the outbox when the type has an
    /// ASAP list (returned for inline dispatch). 412 when `if_match` names an outdated revision,
    /// unless that revision is exactly the one this cancellation left (a resend after a lost
    /// answer, answered as the first one was).
    pub async fn cancel(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        if_match: IfMatch,
        now: i64,
    ) -> Result<Option<OutboxEvent>, BookingError> {
        let result = self.cancel_once(patient_id, id, if_match, now).await;
        count_outcome(&result, Some(Counter::Cancels));
        result
    }

    async fn cancel_once(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        if_match: IfMatch,
        now: i64,
    ) -> Result<Option<OutboxEvent>, BookingError> {
        let (current, tagged) = self
            .to_change(patient_id, id, if_match, now, "cancelled")
            .await?;
        let freed = self.freed_by(&current, now).await?;
        if let Err(error) = self.repo.cancel(&current, now, freed.as_ref()).await {
            // A resend of this very cancellation is answered as the first one was (see above).
            already_applied(tagged, error, |live| {
                live.status == AppointmentStatus::Cancelled
                    && live.slot() == current.slot()
                    && live.revision == current.revision + 1
            })?;
        }
        Ok(freed)
    }

    /// Cancels an upcoming booked appointment of an account being deleted (GDPR Art. 17): like
    /// [`BookingService::cancel`], but also within the cancellation notice period, since the
    /// patient will not come and the institution is better off offering the slot at once. The
    /// freed slot goes to the outbox as every cancellation's does. One catalog read, then ONE
    /// transaction.
    pub async fn cancel_for_deletion(
        &self,
        current: &Appointment,
        now: i64,
    ) -> Result<Option<OutboxEvent>, BookingError> {
        let result = async {
            let freed = self.freed_by(current, now).await?;
            self.repo.cancel(current, now, freed.as_ref()).await?;
            Ok(freed)
        }
        .await;
        count_outcome(&result, Some(Counter::Cancels));
        result
    }

    /// The outbox record of `current`'s slot when it is cancelled at `now`, if its type has an
    /// ASAP list.
    async fn freed_by(
        &self,
        current: &Appointment,
        now: i64,
    ) -> Result<Option<OutboxEvent>, BookingError> {
        let catalog = self.repo.catalog().await?;
        Ok(catalog
            .types
            .get(&current.type_id)
            .filter(|kind| kind.asap_notifications_enabled)
            .map(|kind| OutboxEvent::slot_left(kind.id, current, now)))
    }

    /// Opens an availability id, with the keys reloaded first if it names a key this instance
    /// has not loaded yet (sealed by an instance started after a rotation).
    async fn open_availability(
        &self,
        id: &str,
        now: i64,
    ) -> Result<AvailabilityToken, BookingError> {
        let keys = self.keys.for_sealed(AVAILABILITY_PURPOSE, id.trim()).await;
        AvailabilityToken::open(&keys, id, now)
    }

    /// The `ETag` of this revision of the appointment (a sealed copy; see [`super::etag`]).
    pub fn etag(&self, appointment: &Appointment) -> Option<String> {
        AppointmentTag::seal(&self.keys.current(), appointment)
    }

    /// What an `If-Match` header value asks of a change to the appointment `id` of `patient_id`.
    pub fn if_match(
        &self,
        header: Option<&str>,
        patient_id: &PatientId,
        id: &AppointmentId,
    ) -> IfMatch {
        AppointmentTag::if_match(&self.keys.current(), header, patient_id, id)
    }

    /// The appointment a reschedule or cancellation starts from, checked to be changeable, and
    /// whether it is the copy an `If-Match` tag carried (then no read was made, and the write's
    /// revision condition decides whether the copy was current).
    async fn to_change(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        if_match: IfMatch,
        now: i64,
        verb: &str,
    ) -> Result<(Appointment, bool), BookingError> {
        match if_match {
            IfMatch::Any => {
                let current = self.appointment(patient_id, id).await?;
                changeable(&current, now, verb)?;
                Ok((current, false))
            }
            IfMatch::NoneMatch => Err(outdated()),
            IfMatch::Tag(copy) => {
                if let Err(refusal) = changeable(&copy, now, verb) {
                    // The precondition is answered before the request itself (RFC 9110 §13.2.2):
                    // a refusal based on an outdated copy would be about another state.
                    let current = self.appointment(patient_id, id).await?;
                    return Err(if current == *copy {
                        refusal
                    } else {
                        outdated()
                    });
                }
                Ok((*copy, true))
            }
        }
    }

    /// The join link of a video consultation (409 for other types).
    pub async fn video(
        &self,
        patient_id: &PatientId,
        id: &AppointmentId,
        now: i64,
    ) -> Result<VideoLink, BookingError> {
        let current = self.appointment(patient_id, id).await?;
        self.video
            .link(&self.keys.current(), &self.issuer, &current, now)
    }

    /// The video service's check of a join token: active only while its appointment is booked at
    /// the slot the link was minted for. One read, and none for a token that does not verify.
    pub async fn verify_video(
        &self,
        token: &str,
        now: i64,
    ) -> Result<VideoVerification, BookingError> {
        let keys = self.keys.for_video_token(token).await;
        let Ok(ticket) = self.video.open(&keys, &self.issuer, token, now) else {
            return Ok(VideoVerification::inactive());
        };
        Ok(
            match self
                .repo
                .appointment(&ticket.patient_id, &ticket.appointment_id)
                .await?
            {
                Some(current) if ticket.admits(&current) => {
                    VideoVerification::active(&ticket, &current)
                }
                _ => VideoVerification::inactive(),
            },
        )
    }
}

/// The API shape of an appointment type ([`AppointmentTypeView`]) as JSON.
pub fn type_json(kind: &AppointmentType) -> Value {
    // A view of strings, numbers and booleans always serialises.
    views::to_value(&AppointmentTypeView::from(kind)).unwrap_or(Value::Null)
}

/// 412: the `If-Match` tag is not the appointment's current one.
fn outdated() -> BookingError {
    BookingError::PreconditionFailed(
        "the If-Match tag is not the appointment's current ETag: it changed since, or the tag is not one of its tags; fetch the appointment again".into(),
    )
}

/// What a change that failed with `error` answers. Sent with an `If-Match` tag, a change whose
/// guard failed because the appointment is already exactly what this change makes of that tagged
/// revision (`is_result`) was applied before: the request is a resend after a lost answer (or a
/// compatible change by another client), and RFC 9110 §13.1.1 lets it succeed with the current
/// state. Any other change since the tag is a failed precondition (412, not 409).
fn already_applied(
    tagged: bool,
    error: BookingError,
    is_result: impl FnOnce(&Appointment) -> bool,
) -> Result<Appointment, BookingError> {
    match error {
        BookingError::AppointmentChanged { current } if tagged => current
            .and_then(|item| appointment_from_item(&item).ok())
            .filter(is_result)
            .ok_or_else(outdated),
        other => Err(other),
    }
}

fn no_longer_offered() -> BookingError {
    BookingError::InvalidAvailability(
        "this slot is no longer offered; search availabilities again".into(),
    )
}

fn insurance_exists(catalog: &Catalog, id: i64) -> Result<(), BookingError> {
    if catalog.insurances.contains_key(&id) {
        Ok(())
    } else {
        Err(BookingError::NotFound(format!(
            "insurance {id} does not exist"
        )))
    }
}

/// The type, after checking the ids exist, fit together and the insurance may book both the
/// category and the type.
fn bookable(
    catalog: &Catalog,
    type_id: i64,
    category_id: i64,
    insurance_id: i64,
) -> Result<&AppointmentType, BookingError> {
    insurance_exists(catalog, insurance_id)?;
    let category = catalog.categories.get(&category_id).ok_or_else(|| {
        BookingError::NotFound(format!("appointment category {category_id} does not exist"))
    })?;
    let kind = catalog.types.get(&type_id).ok_or_else(|| {
        BookingError::NotFound(format!("appointment type {type_id} does not exist"))
    })?;
    if kind.category_id != category_id {
        return Err(BookingError::InvalidRequest(format!(
            "appointment type {type_id} does not belong to category {category_id}"
        )));
    }
    if !category.insurance_ids.contains(&insurance_id) {
        return Err(BookingError::InsuranceNotAllowed(format!(
            "insurance {insurance_id} may not book appointment category {category_id}"
        )));
    }
    if !kind.insurance_ids.contains(&insurance_id) {
        return Err(BookingError::InsuranceNotAllowed(format!(
            "insurance {insurance_id} may not book appointment type {type_id}"
        )));
    }
    Ok(kind)
}

/// Booked, and not yet inside the cancellation notice period (which also covers the past).
fn changeable(current: &Appointment, now: i64, verb: &str) -> Result<(), BookingError> {
    if current.status == AppointmentStatus::Cancelled {
        return Err(BookingError::Conflict {
            code: "already_cancelled",
            description: format!("the appointment was cancelled and cannot be {verb}"),
        });
    }
    let deadline = current.starts_at - current.cancellation_notice_hours * 3600;
    if now >= deadline {
        return Err(BookingError::Conflict {
            code: "cancellation_period",
            description: if current.cancellation_notice_hours > 0 {
                format!(
                    "the appointment can only be {verb} up to {} hours before it starts",
                    current.cancellation_notice_hours
                )
            } else {
                format!("the appointment has started and cannot be {verb}")
            },
        });
    }
    Ok(())
}

/// Counts a booking change in the request's metrics: `done` when it succeeded, `SlotUnavailable`
/// when the slot was taken meanwhile, `BookingLimitReached` when the patient's limit refused it.
fn count_outcome<T>(result: &Result<T, BookingError>, done: Option<Counter>) {
    match result {
        Ok(_) => {
            if let Some(counter) = done {
                metrics::count(counter);
            }
        }
        Err(BookingError::SlotUnavailable) => metrics::count(Counter::SlotUnavailable),
        Err(BookingError::BookingLimitReached { .. }) => {
            metrics::count(Counter::BookingLimitReached)
        }
        Err(_) => {}
    }
}
