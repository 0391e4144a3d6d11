//! Slots from a weekly schedule, in the institution's time zone.
//!
//! Slot times are built as local wall-clock date-times and converted with the IANA rules of
//! `chrono-tz`, so a 09:00 slot is 09:00 local on both sides of a DST change (its UTC offset
//! changes). A local time that does not exist (the hour skipped in spring) offers no slot; a local
//! time that exists twice (the hour repeated in autumn) offers one slot, at its first occurrence.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, TimeZone, Weekday};
use chrono_tz::Tz;

/// A weekly opening window: slots start at `start` and end by `end` (minutes after local midnight).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Day of the week.
    pub weekday: Weekday,
    /// Minutes after local midnight of the first slot start.
    pub start: i64,
    /// Minutes after local midnight by which the last slot ends.
    pub end: i64,
}

/// A type's validated schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The institution's time zone.
    pub time_zone: Tz,
    /// Weekly windows (no two overlap on one weekday).
    pub windows: Vec<Window>,
    /// Minutes between slot starts.
    pub slot_interval_minutes: i64,
    /// Length of one appointment in minutes.
    pub duration_minutes: i64,
    /// Parallel bookings per slot.
    pub capacity: i64,
    /// Local dates without slots.
    pub closed_dates: BTreeSet<NaiveDate>,
    /// Slots start at most this many days from now.
    pub horizon_days: i64,
    /// Slots start at least this many minutes from now.
    pub min_lead_minutes: i64,
}

/// One slot, as unix seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// Start.
    pub start: i64,
    /// End (start + duration).
    pub end: i64,
}

impl Schedule {
    /// The first and last (exclusive) instants a slot may start at, seen from `now`.
    fn bookable_range(&self, now: i64) -> (i64, i64) {
        (
            now.saturating_add(self.min_lead_minutes * 60),
            now.saturating_add(self.horizon_days * 86_400),
        )
    }

    /// Bookable slots starting in `[from, to)`, ordered by start: inside the opening windows, not on
    /// a closed date, not sooner than the lead time and not beyond the horizon from `now`.
    pub fn slots(&self, from: i64, to: i64, now: i64) -> Vec<Slot> {
        let (earliest, latest) = self.bookable_range(now);
        let low = from.max(earliest);
        let high = to.min(latest);
        if low >= high {
            return Vec::new();
        }
        let (Some(first), Some(last)) = (self.local_date(low), self.local_date(high)) else {
            return Vec::new();
        };
        let mut slots = Vec::new();
        let mut date = first;
        while date <= last {
            self.day_slots(date, &mut slots);
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        slots.retain(|s| s.start >= low && s.start < high);
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// Whether the schedule offers exactly this slot (start and end) at `now`: how a booking
    /// re-checks a slot that came out of an availability id against the current catalog.
    pub fn offers(&self, slot: Slot, now: i64) -> bool {
        self.slots(slot.start, slot.start.saturating_add(1), now)
            .first()
            .is_some_and(|s| *s == slot)
    }

    fn day_slots(&self, date: NaiveDate, out: &mut Vec<Slot>) {
        if self.closed_dates.contains(&date) {
            return;
        }
        let weekday = date.weekday();
        for window in self.windows.iter().filter(|w| w.weekday == weekday) {
            let mut minute = window.start;
            while minute + self.duration_minutes <= window.end {
                let Some(naive) = date
                    .and_hms_opt(0, 0, 0)
                    .map(|midnight| midnight + Duration::minutes(minute))
                else {
                    break;
                };
                // `earliest()` is the first occurrence of an ambiguous time and `None` for a
                // nonexistent one.
                if let Some(start) = self.time_zone.from_local_datetime(&naive).earliest() {
                    let start = start.timestamp();
                    out.push(Slot {
                        start,
                        end: start + self.duration_minutes * 60,
                    });
                }
                minute += self.slot_interval_minutes;
            }
        }
    }

    /// The local date of an instant.
    pub fn local_date(&self, unix: i64) -> Option<NaiveDate> {
        self.local(unix).map(|d| d.date_naive())
    }

    /// The instant in the institution's time zone.
    pub fn local(&self, unix: i64) -> Option<DateTime<Tz>> {
        self.time_zone.timestamp_opt(unix, 0).single()
    }

    /// ISO 8601 with the institution's offset, e.g. `2026-12-01T09:00:00+01:00`.
    pub fn format(&self, unix: i64) -> String {
        format_in(self.time_zone, unix)
    }

    /// The first instant of a local date (midnight, or the first existing time after a gap).
    pub fn start_of_day(&self, date: NaiveDate) -> Option<i64> {
        let mut naive = date.and_hms_opt(0, 0, 0)?;
        for _ in 0..4 {
            if let Some(t) = self.time_zone.from_local_datetime(&naive).earliest() {
                return Some(t.timestamp());
            }
            naive += Duration::minutes(30);
        }
        None
    }
}

/// ISO 8601 in `tz` with its offset (`+01:00`, never `Z`).
pub fn format_in(tz: Tz, unix: i64) -> String {
    match tz.timestamp_opt(unix, 0).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, false),
        None => unix.to_string(),
    }
}

/// The first slot of `slots` (ordered) with a free place that starts before `before`.
pub fn first_free(
    slots: &[Slot],
    taken: &BTreeMap<i64, i64>,
    capacity: i64,
    before: i64,
) -> Option<Slot> {
    slots
        .iter()
        .take_while(|s| s.start < before)
        .find(|s| taken.get(&s.start).copied().unwrap_or(0) < capacity)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(windows: Vec<Window>) -> Schedule {
        Schedule {
            time_zone: chrono_tz::Europe::Berlin,
            windows,
            slot_interval_minutes: 30,
            duration_minutes: 30,
            capacity: 1,
            closed_dates: BTreeSet::new(),
            horizon_days: 366,
            min_lead_minutes: 0,
        }
    }

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp()
    }

    #[test]
    fn the_skipped_hour_offers_nothing_and_the_repeated_hour_offers_once() {
        let night = |weekday| Window {
            weekday,
            start: 60,
            end: 4 * 60,
        };
        let s = schedule(vec![night(Weekday::Sun)]);
        let now = at("2026-01-01T00:00:00Z");
        // 2026-03-29: 02:00 → 03:00.
        let spring: Vec<String> = s
            .slots(at("2026-03-28T00:00:00Z"), at("2026-03-30T00:00:00Z"), now)
            .iter()
            .map(|x| s.format(x.start))
            .collect();
        assert_eq!(
            spring,
            [
                "2026-03-29T01:00:00+01:00",
                "2026-03-29T01:30:00+01:00",
                "2026-03-29T03:00:00+02:00",
                "2026-03-29T03:30:00+02:00"
            ]
        );
        // 2026-10-25: 03:00 → 02:00.
        let autumn: Vec<String> = s
            .slots(at("2026-10-24T00:00:00Z"), at("2026-10-26T00:00:00Z"), now)
            .iter()
            .map(|x| s.format(x.start))
            .collect();
        assert_eq!(
            autumn,
            [
                "2026-10-25T01:00:00+02:00",
                "2026-10-25T01:30:00+02:00",
                "2026-10-25T02:00:00+02:00",
                "2026-10-25T02:30:00+02:00",
                "2026-10-25T03:00:00+01:00",
                "2026-10-25T03:30:00+01:00"
            ]
        );
    }

    #[test]
    fn lead_time_horizon_and_closed_dates_remove_slots() {
        let mut s = schedule(vec![Window {
            weekday: Weekday::Tue,
            start: 9 * 60,
            end: 10 * 60,
        }]);
        let now = at("2026-12-01T08:45:00+01:00");
        s.min_lead_minutes = 30;
        let slots = s.slots(now, now + 86_400 * 8, now);
        assert_eq!(s.format(slots[0].start), "2026-12-01T09:30:00+01:00");
        assert!(!s.offers(
            Slot {
                start: at("2026-12-01T09:00:00+01:00"),
                end: at("2026-12-01T09:30:00+01:00")
            },
            now
        ));
        s.closed_dates
            .insert(NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
        assert_eq!(s.slots(now, now + 86_400 * 8, now).len(), 1);
        s.horizon_days = 1;
        s.closed_dates.clear();
        assert_eq!(s.slots(now, now + 86_400 * 8, now).len(), 1);
    }

    #[test]
    fn the_first_free_slot_before_an_instant_is_offered() {
        let slots: Vec<Slot> = (0..5)
            .map(|i| Slot {
                start: i * 100,
                end: i * 100 + 50,
            })
            .collect();
        let taken = BTreeMap::from([(0, 2), (100, 1)]);
        assert_eq!(
            first_free(&slots, &taken, 2, 1_000).map(|s| s.start),
            Some(100)
        );
        assert_eq!(
            first_free(&slots, &taken, 1, 1_000).map(|s| s.start),
            Some(200)
        );
        assert_eq!(
            first_free(&slots, &taken, 1, 200),
            None,
            "only slots before the appointment"
        );
        assert_eq!(first_free(&[], &taken, 1, 1_000), None);
    }
}
