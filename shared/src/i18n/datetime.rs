//! Dates and times for people, in the institution's time zone and the reader's language. The
//! pattern, the names of days and months and the local names of time-zone abbreviations all come
//! from the catalog (`dates.ftl`), so a new language brings its own.

use chrono::{Datelike as _, TimeZone as _};
use chrono_tz::Tz;

use super::catalog::{message, optional};
use super::Locale;

/// A moment as a patient reads it: "Tuesday, 1 December 2026, 09:00 (CET)" in English,
/// "Dienstag, 1. Dezember 2026, 09:00 Uhr (MEZ)" in German. The zone is the abbreviation the time
/// zone database gives (`CET`, `CEST`, `GMT`, or an offset like `+04`), translated when the
/// catalog has a `zone-…` entry for it.
pub fn long(locale: Locale, tz: Tz, unix: i64) -> String {
    let Some(time) = tz.timestamp_opt(unix, 0).single() else {
        return unix.to_string();
    };
    let weekday = message(
        locale,
        &format!("weekday-{}", time.weekday().number_from_monday()),
        &[],
    );
    let month = message(locale, &format!("month-{}", time.month()), &[]);
    let abbreviation = time.format("%Z").to_string();
    let zone = optional(locale, &format!("zone-{abbreviation}")).unwrap_or(abbreviation);
    message(
        locale,
        "datetime-long",
        &[
            ("weekday", &weekday),
            ("day", &time.day().to_string()),
            ("month", &month),
            ("year", &time.year().to_string()),
            ("time", &time.format("%H:%M").to_string()),
            ("zone", &zone),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog::checked;

    /// 2026-12-01T08:00:00Z: 09:00 in Berlin, winter time.
    const WINTER: i64 = 1_796_112_000;
    /// 2026-07-14T07:30:00Z: 09:30 in Berlin, summer time.
    const SUMMER: i64 = 1_784_014_200;

    #[test]
    fn english_and_german_dates_read_as_people_write_them() {
        let de = Locale::parse("de").unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        let (texts, problems) = checked(|| {
            [
                long(Locale::ENGLISH, berlin, WINTER),
                long(de, berlin, WINTER),
                long(Locale::ENGLISH, berlin, SUMMER),
                long(de, berlin, SUMMER),
            ]
        });
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(texts[0], "Tuesday, 1 December 2026, 09:00 (CET)");
        assert_eq!(texts[1], "Dienstag, 1. Dezember 2026, 09:00 Uhr (MEZ)");
        assert_eq!(texts[2], "Tuesday, 14 July 2026, 09:30 (CEST)");
        assert_eq!(texts[3], "Dienstag, 14. Juli 2026, 09:30 Uhr (MESZ)");
    }

    #[test]
    fn zones_without_a_local_name_keep_their_abbreviation() {
        let de = Locale::parse("de").unwrap();
        let text = long(de, chrono_tz::Europe::London, WINTER);
        assert_eq!(text, "Dienstag, 1. Dezember 2026, 08:00 Uhr (GMT)");
        let text = long(Locale::ENGLISH, chrono_tz::Asia::Dubai, WINTER);
        assert_eq!(text, "Tuesday, 1 December 2026, 12:00 (+04)");
    }
}
