//! Availabilities: free slots of an appointment type in a bounded window, and their ids.
//!
//! An availability id is the slot sealed with the availability key ring
//! ([`crate::keys::Sealer`], purpose [`PURPOSE`], AES-256-GCM-SIV: ids are sealed by the thousand
//! per minute, far too many for random-nonce AES-GCM, see [`crate::keys::purpose`]): it carries type, category, insurance, start,
//! end and an expiry, so the id alone is enough to book, and a client can neither read nor alter the
//! times in it. Booking re-checks the opened slot against the current schedule, so an id that
//! outlived a catalog change cannot book a slot that is no longer offered.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use serde::{Deserialize, Serialize};

use super::schedule::{Schedule, Slot};
use super::BookingError;
use crate::keys::{KeySet, Purpose, SealError};

/// Sealing purpose of availability ids (held by `booking` and `asap`).
pub const PURPOSE: Purpose = Purpose::Availability;

/// An availability id is valid this long after it was issued (or until its slot starts).
pub const ID_TTL_SECONDS: i64 = PURPOSE.max_lifetime_secs();

/// Default search window length.
pub const DEFAULT_RANGE_DAYS: i64 = 14;

/// Longest search window.
pub const MAX_RANGE_DAYS: i64 = 31;

/// Default and largest page size of a search.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size of a search.
pub const MAX_LIMIT: u32 = 200;

/// What an availability id holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityToken {
    /// Appointment type.
    #[serde(rename = "t")]
    pub type_id: i64,
    /// Its category.
    #[serde(rename = "c")]
    pub category_id: i64,
    /// The insurance the search was made for.
    #[serde(rename = "i")]
    pub insurance_id: i64,
    /// Slot start (unix seconds).
    #[serde(rename = "s")]
    pub starts_at: i64,
    /// Slot end (unix seconds).
    #[serde(rename = "e")]
    pub ends_at: i64,
    /// Expiry (unix seconds).
    #[serde(rename = "x")]
    pub exp: i64,
}

impl AvailabilityToken {
    /// The slot it names.
    pub fn slot(&self) -> Slot {
        Slot {
            start: self.starts_at,
            end: self.ends_at,
        }
    }

    /// Seals the token into an availability id.
    pub fn seal(&self, keys: &KeySet) -> Result<String, BookingError> {
        keys.sealer(PURPOSE)
            .seal_json(self)
            .map_err(|e| BookingError::Internal(format!("sealing an availability id: {e}")))
    }

    /// Opens an availability id; tampered, foreign or expired ids are
    /// [`BookingError::InvalidAvailability`] with a description the client can act on.
    pub fn open(keys: &KeySet, id: &str, now: i64) -> Result<AvailabilityToken, BookingError> {
        let token: AvailabilityToken = keys.sealer(PURPOSE).open_json(id.trim()).map_err(|e| {
            BookingError::InvalidAvailability(match e {
                SealError::UnknownKey => {
                    "the availability id was not issued by this server (or is too old); search availabilities again".into()
                }
                _ => "the availability id is not valid: it was altered or is not an availability id".into(),
            })
        })?;
        if token.exp <= now {
            return Err(BookingError::InvalidAvailability(
                "the availability id has expired; search availabilities again".into(),
            ));
        }
        Ok(token)
    }
}

/// One availability as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Availability {
    /// Opaque, tamper-proof id: alone enough to book the slot (valid for an hour, or until the
    /// slot starts).
    pub id: String,
    /// Start, ISO 8601 with the institution's offset.
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    pub starts_at: String,
    /// End, ISO 8601 with the institution's offset.
    #[schema(example = "2026-12-01T09:20:00+01:00")]
    pub ends_at: String,
}

/// A page of availabilities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AvailabilityPage {
    /// The availabilities, ordered by start.
    pub data: Vec<Availability>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A search as the client asked for it (ids already parsed as integers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// `category_id`.
    pub category_id: i64,
    /// `type_id`.
    pub type_id: i64,
    /// `insurance_id`.
    pub insurance_id: i64,
    /// `from`, as sent.
    pub from: Option<String>,
    /// `to`, as sent.
    pub to: Option<String>,
    /// `limit`, as sent.
    pub limit: Option<String>,
    /// `cursor`, as sent.
    pub cursor: Option<String>,
}

/// The validated window, page size and cursor position of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchWindow {
    /// First instant (inclusive).
    pub from: i64,
    /// Last instant (exclusive).
    pub to: i64,
    /// Page size.
    pub limit: u32,
    /// Only slots starting after this (from the cursor).
    pub after: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    t: i64,
    a: i64,
}

impl SearchWindow {
    /// Parses `from`, `to`, `limit` and `cursor` against the type's schedule (date-only values are
    /// local dates of the institution: `from` at the day's start, `to` at the end of that day).
    pub fn parse(query: &SearchQuery, schedule: &Schedule, now: i64) -> Result<Self, BookingError> {
        let from = match &query.from {
            None => now,
            Some(text) => parse_instant("from", text, schedule, false)?,
        };
        let to = match &query.to {
            None => from.saturating_add(DEFAULT_RANGE_DAYS * 86_400),
            Some(text) => parse_instant("to", text, schedule, true)?,
        };
        if to <= from {
            return Err(BookingError::InvalidRequest(
                "`to` must be after `from`".into(),
            ));
        }
        if to - from > MAX_RANGE_DAYS * 86_400 {
            return Err(BookingError::InvalidRequest(format!(
                "the window from `from` to `to` must not exceed {MAX_RANGE_DAYS} days"
            )));
        }
        let limit = match &query.limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(BookingError::InvalidRequest(format!(
                        "`limit` must be an integer from 1 to {MAX_LIMIT}"
                    )))
                }
            },
        };
        let after = match &query.cursor {
            None => None,
            Some(text) => Some(decode_cursor(text, query.type_id)?),
        };
        Ok(Self {
            from,
            to,
            limit,
            after,
        })
    }

    /// The range whose slot counters the search needs.
    pub fn effective_from(&self) -> i64 {
        match self.after {
            Some(after) => self.from.max(after.saturating_add(1)),
            None => self.from,
        }
    }
}

fn decode_cursor(text: &str, type_id: i64) -> Result<i64, BookingError> {
    let invalid = || BookingError::InvalidCursor;
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if body.t != type_id {
        return Err(invalid());
    }
    Ok(body.a)
}

fn encode_cursor(type_id: i64, after: i64) -> String {
    let json = serde_json::json!({ "t": type_id, "a": after }).to_string();
    URL_SAFE_NO_PAD.encode(json)
}

/// An ISO 8601 date or date-time. A `+` of an offset that arrived unencoded in a query string
/// (and so was decoded as a space) is put back.
fn parse_instant(
    name: &str,
    text: &str,
    schedule: &Schedule,
    end_of_day: bool,
) -> Result<i64, BookingError> {
    let text = text.trim();
    let invalid = || {
        BookingError::InvalidRequest(format!(
            "`{name}` must be an ISO 8601 date (2026-12-01) or date-time (2026-12-01T09:00:00+01:00), got `{text}`"
        ))
    };
    if text.len() > 40 {
        return Err(invalid());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if end_of_day {
            date.succ_opt().ok_or_else(invalid)?
        } else {
            date
        };
        return schedule.start_of_day(date).ok_or_else(invalid);
    }
    let repaired = if text.len() > 19 && text.as_bytes()[19] == b' ' {
        format!("{}+{}", &text[..19], &text[20..])
    } else {
        text.to_owned()
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&repaired) {
        return Ok(t.timestamp());
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return schedule
                .time_zone
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.timestamp())
                .ok_or_else(invalid);
        }
    }
    Err(invalid())
}

/// The free slots of one page: `slots` (ordered) minus those at capacity in `taken`, minus
/// `exclude`, after the cursor, at most `limit`; plus the cursor of the next page.
pub fn free_page(
    slots: &[Slot],
    taken: &BTreeMap<i64, i64>,
    capacity: i64,
    exclude: Option<i64>,
    window: &SearchWindow,
    type_id: i64,
) -> (Vec<Slot>, Option<String>) {
    let from = window.effective_from();
    let mut free = slots
        .iter()
        .filter(|s| s.start >= from && s.start < window.to)
        .filter(|s| Some(s.start) != exclude)
        .filter(|s| taken.get(&s.start).copied().unwrap_or(0) < capacity);
    let page: Vec<Slot> = free.by_ref().take(window.limit as usize).copied().collect();
    let next = match (free.next(), page.last()) {
        (Some(_), Some(last)) => Some(encode_cursor(type_id, last.start)),
        _ => None,
    };
    (page, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_support::{foreign_keyset, keyset_of};
    use crate::keys::Role;

    fn token(exp: i64) -> AvailabilityToken {
        AvailabilityToken {
            type_id: 198,
            category_id: 53,
            insurance_id: 136,
            starts_at: 2_000,
            ends_at: 3_200,
            exp,
        }
    }

    #[test]
    fn an_id_opens_only_untampered_unexpired_and_on_its_own_server() {
        let s = keyset_of(&[Role::Booking]);
        let id = token(1_000).seal(&s).unwrap();
        assert_eq!(AvailabilityToken::open(&s, &id, 999).unwrap(), token(1_000));
        assert!(matches!(
            AvailabilityToken::open(&s, &id, 1_000),
            Err(BookingError::InvalidAvailability(m)) if m.contains("expired")
        ));
        let mut tampered = id.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(AvailabilityToken::open(&s, &tampered, 0).is_err());
        assert!(AvailabilityToken::open(&foreign_keyset(), &id, 0).is_err());
        let other_purpose = s
            .sealer(Purpose::AppointmentEtag)
            .seal_json(&token(1_000))
            .unwrap();
        assert!(AvailabilityToken::open(&s, &other_purpose, 0).is_err());
        // The asap function opens them too (it offers earlier slots); the others cannot.
        assert!(AvailabilityToken::open(&keyset_of(&[Role::Asap]), &id, 999).is_ok());
        assert!(AvailabilityToken::open(&keyset_of(&[Role::Token]), &id, 999).is_err());
    }
}
