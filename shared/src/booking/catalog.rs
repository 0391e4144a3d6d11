//! The institution's catalog: insurances, appointment categories, appointment types and their
//! schedules, as an operator writes it (YAML or JSON) and as the API reads it.
//!
//! [`CatalogFile`] is the document form (what is loaded and stored); [`Catalog`] is the validated
//! form with parsed time zones and times. [`Catalog::parse`] reports every problem at once, each
//! naming the entry at fault (`types[2] (id 198): category 99 does not exist`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::schedule::{Schedule, Window};

/// Largest stored catalog (JSON), well below DynamoDB's 400 KB item limit.
pub const MAX_CATALOG_BYTES: usize = 300 * 1024;

/// Longest name of an insurance, category or type.
pub const MAX_NAME_CHARS: usize = 200;

/// Default of a type's `max_active_appointments_per_patient`.
pub const DEFAULT_MAX_ACTIVE_APPOINTMENTS: i64 = 3;

/// Largest accepted `max_active_appointments_per_patient` (the limit's counter holds one entry per
/// upcoming appointment, so it stays a small item).
pub const MAX_ACTIVE_APPOINTMENTS_LIMIT: i64 = 100;

fn default_max_active_appointments() -> i64 {
    DEFAULT_MAX_ACTIVE_APPOINTMENTS
}

/// An insurance as written in the catalog document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsuranceEntry {
    /// Positive id, unique among insurances.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// An appointment category as written in the catalog document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryEntry {
    /// Positive id, unique among categories.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Insurances allowed to book this category.
    pub insurance_ids: Vec<i64>,
}

/// One weekly opening window as written in the catalog document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowEntry {
    /// `mon`..`sun` or the full English name, any case.
    pub weekday: String,
    /// Local start time, `HH:MM`.
    pub start: String,
    /// Local end time, `HH:MM` (`24:00` for midnight); slots end by then.
    pub end: String,
}

/// A type's schedule as written in the catalog document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    /// IANA time zone; defaults to the catalog's `time_zone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Weekly opening windows.
    pub windows: Vec<WindowEntry>,
    /// Minutes between slot starts.
    pub slot_interval_minutes: i64,
    /// Patients that can book the same slot (parallel treatment rooms).
    pub capacity: i64,
    /// Local dates without any slot (`YYYY-MM-DD`).
    #[serde(default)]
    pub closed_dates: Vec<String>,
    /// How many days ahead slots can be booked.
    pub horizon_days: i64,
    /// No slot starts sooner than this many minutes from now.
    #[serde(default)]
    pub min_lead_minutes: i64,
}

/// An appointment type as written in the catalog document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeEntry {
    /// Positive id, unique among types.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The category it belongs to.
    pub category_id: i64,
    /// Length of one appointment.
    pub duration_minutes: i64,
    /// Insurances allowed to book it (each must be allowed for the category too).
    pub insurance_ids: Vec<i64>,
    /// Whether patients may join the ASAP (earlier appointment) list.
    #[serde(default)]
    pub asap_notifications_enabled: bool,
    /// Whether it takes place as a video consultation.
    #[serde(default)]
    pub video_consultation: bool,
    /// Cancelling (or rescheduling) is refused this many hours before the start.
    #[serde(default)]
    pub cancellation_notice_hours: i64,
    /// How many upcoming, booked appointments of this type one patient may hold at a time
    /// (1 to [`MAX_ACTIVE_APPOINTMENTS_LIMIT`], default [`DEFAULT_MAX_ACTIVE_APPOINTMENTS`]).
    #[serde(default = "default_max_active_appointments")]
    pub max_active_appointments_per_patient: i64,
    /// When it can be booked.
    pub schedule: ScheduleEntry,
}

/// The catalog document (`portal-admin catalog load FILE`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// The institution's name, as mails and pages addressed to people outside an app name it
    /// (ASAP address confirmation); without one they name the portal's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    /// The institution's IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Insurances.
    pub insurances: Vec<InsuranceEntry>,
    /// Appointment categories.
    pub categories: Vec<CategoryEntry>,
    /// Appointment types, each with its schedule.
    pub types: Vec<TypeEntry>,
}

/// An insurance of the validated catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Insurance {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// A category of the validated catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Insurances allowed to book it.
    pub insurance_ids: BTreeSet<i64>,
}

/// An appointment type of the validated catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppointmentType {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Its category.
    pub category_id: i64,
    /// Length in minutes.
    pub duration_minutes: i64,
    /// Insurances allowed to book it.
    pub insurance_ids: BTreeSet<i64>,
    /// ASAP list available.
    pub asap_notifications_enabled: bool,
    /// Video consultation.
    pub video_consultation: bool,
    /// Cancellation notice period in hours.
    pub cancellation_notice_hours: i64,
    /// Most upcoming, booked appointments of this type one patient may hold at a time.
    pub max_active_appointments_per_patient: i64,
    /// Its parsed schedule.
    pub schedule: Schedule,
}

/// The validated catalog, ready for availability searches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Catalog {
    /// Insurances by id.
    pub insurances: BTreeMap<i64, Insurance>,
    /// Categories by id.
    pub categories: BTreeMap<i64, Category>,
    /// Types by id.
    pub types: BTreeMap<i64, AppointmentType>,
    /// The document it was built from (what is stored).
    pub file: CatalogFile,
}

/// One problem of a catalog document, naming the entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogIssue {
    /// Where: `types[2] (id 198)`, `time_zone`, ...
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CatalogIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Why a catalog document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The text is not a YAML/JSON catalog document (syntax, unknown or missing fields, types).
    #[error("the catalog is not a valid document: {0}")]
    Syntax(String),
    /// The document parsed but breaks rules; every issue is listed.
    #[error("the catalog has {} problem(s):\n{}", .0.len(), .0.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<CatalogIssue>),
}

impl CatalogError {
    /// The individual issues (empty for syntax errors).
    pub fn issues(&self) -> &[CatalogIssue] {
        match self {
            CatalogError::Invalid(issues) => issues,
            CatalogError::Syntax(_) => &[],
        }
    }
}

impl Catalog {
    /// Parses YAML or JSON text (JSON is YAML) and validates it.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile =
            serde_yaml::from_str(text).map_err(|e| CatalogError::Syntax(e.to_string()))?;
        Catalog::from_file(file)
    }

    /// Parses the stored JSON form.
    pub fn from_json(text: &str) -> Result<Catalog, CatalogError> {
        let file: CatalogFile =
            serde_json::from_str(text).map_err(|e| CatalogError::Syntax(e.to_string()))?;
        Catalog::from_file(file)
    }

    /// The JSON form that is stored.
    pub fn to_json(&self) -> Result<String, CatalogError> {
        serde_json::to_string(&self.file).map_err(|e| CatalogError::Syntax(e.to_string()))
    }

    /// Validates a document: every issue is collected, then reported together.
    pub fn from_file(file: CatalogFile) -> Result<Catalog, CatalogError> {
        let mut v = Validator::default();
        if let Some(name) = &file.institution {
            let chars = name.trim().chars().count();
            if chars == 0 || chars > MAX_NAME_CHARS {
                v.issue(
                    "institution",
                    format!("must be 1 to {MAX_NAME_CHARS} characters, got {chars}"),
                );
            }
        }
        let default_tz = match file.time_zone.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                v.issue(
                    "time_zone",
                    format!(
                        "`{}` is not an IANA time zone such as Europe/Berlin",
                        file.time_zone
                    ),
                );
                None
            }
        };

        let mut insurances = BTreeMap::new();
        for (i, entry) in file.insurances.iter().enumerate() {
            let at = format!("insurances[{i}] (id {})", entry.id);
            v.id(&at, entry.id);
            v.name(&at, &entry.name);
            let insurance = Insurance {
                id: entry.id,
                name: entry.name.trim().to_owned(),
            };
            if insurances.insert(entry.id, insurance).is_some() {
                v.issue(&at, format!("id {} appears more than once", entry.id));
            }
        }

        let mut categories = BTreeMap::new();
        for (i, entry) in file.categories.iter().enumerate() {
            let at = format!("categories[{i}] (id {})", entry.id);
            v.id(&at, entry.id);
            v.name(&at, &entry.name);
            let ids = v.insurance_refs(&at, &entry.insurance_ids, &insurances);
            let category = Category {
                id: entry.id,
                name: entry.name.trim().to_owned(),
                insurance_ids: ids,
            };
            if categories.insert(entry.id, category).is_some() {
                v.issue(&at, format!("id {} appears more than once", entry.id));
            }
        }

        let mut types = BTreeMap::new();
        for (i, entry) in file.types.iter().enumerate() {
            let at = format!("types[{i}] (id {})", entry.id);
            v.id(&at, entry.id);
            v.name(&at, &entry.name);
            let ids = v.insurance_refs(&at, &entry.insurance_ids, &insurances);
            match categories.get(&entry.category_id) {
                None => v.issue(
                    &at,
                    format!("category {} does not exist", entry.category_id),
                ),
                Some(category) => {
                    for id in ids.iter().filter(|id| !category.insurance_ids.contains(id)) {
                        v.issue(
                            &at,
                            format!(
                                "insurance {id} is not allowed for its category {}",
                                category.id
                            ),
                        );
                    }
                }
            }
            v.range(&at, "duration_minutes", entry.duration_minutes, 5, 8 * 60);
            v.range(
                &at,
                "cancellation_notice_hours",
                entry.cancellation_notice_hours,
                0,
                30 * 24,
            );
            v.range(
                &at,
                "max_active_appointments_per_patient",
                entry.max_active_appointments_per_patient,
                1,
                MAX_ACTIVE_APPOINTMENTS_LIMIT,
            );
            let schedule = v.schedule(&at, &entry.schedule, default_tz, entry.duration_minutes);
            if let Some(schedule) = schedule {
                let parsed = AppointmentType {
                    id: entry.id,
                    name: entry.name.trim().to_owned(),
                    category_id: entry.category_id,
                    duration_minutes: entry.duration_minutes,
                    insurance_ids: ids,
                    asap_notifications_enabled: entry.asap_notifications_enabled,
                    video_consultation: entry.video_consultation,
                    cancellation_notice_hours: entry.cancellation_notice_hours,
                    max_active_appointments_per_patient: entry.max_active_appointments_per_patient,
                    schedule,
                };
                if types.insert(entry.id, parsed).is_some() {
                    v.issue(&at, format!("id {} appears more than once", entry.id));
                }
            }
        }

        let catalog = Catalog {
            insurances,
            categories,
            types,
            file,
        };
        if v.issues.is_empty() {
            match serde_json::to_vec(&catalog.file) {
                Ok(json) if json.len() > MAX_CATALOG_BYTES => v.issue(
                    "catalog",
                    format!(
                        "is {} bytes as JSON; at most {MAX_CATALOG_BYTES} bytes are allowed",
                        json.len()
                    ),
                ),
                Ok(_) => {}
                Err(e) => v.issue("catalog", format!("cannot be stored as JSON: {e}")),
            }
        }
        if v.issues.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogError::Invalid(v.issues))
        }
    }

    /// Categories the insurance may book, in id order.
    pub fn categories_for(&self, insurance_id: Option<i64>) -> Vec<&Category> {
        self.categories
            .values()
            .filter(|c| insurance_id.is_none_or(|id| c.insurance_ids.contains(&id)))
            .collect()
    }

    /// Types of the category (if given) the insurance (if given) may book, in id order.
    pub fn types_for(
        &self,
        category_id: Option<i64>,
        insurance_id: Option<i64>,
    ) -> Vec<&AppointmentType> {
        self.types
            .values()
            .filter(|t| category_id.is_none_or(|id| t.category_id == id))
            .filter(|t| insurance_id.is_none_or(|id| t.insurance_ids.contains(&id)))
            .collect()
    }
}

#[derive(Default)]
struct Validator {
    issues: Vec<CatalogIssue>,
}

impl Validator {
    fn issue(&mut self, at: &str, message: impl Into<String>) {
        self.issues.push(CatalogIssue {
            at: at.to_owned(),
            message: message.into(),
        });
    }

    fn id(&mut self, at: &str, id: i64) {
        if !(1..=i64::from(i32::MAX)).contains(&id) {
            self.issue(at, "id must be a positive integer");
        }
    }

    fn name(&mut self, at: &str, name: &str) {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            self.issue(at, "name must not be empty");
        } else if trimmed.chars().count() > MAX_NAME_CHARS {
            self.issue(
                at,
                format!("name is longer than {MAX_NAME_CHARS} characters"),
            );
        } else if trimmed.chars().any(char::is_control) {
            self.issue(at, "name must not contain control characters");
        }
    }

    fn range(&mut self, at: &str, field: &str, value: i64, low: i64, high: i64) {
        if !(low..=high).contains(&value) {
            self.issue(
                at,
                format!("{field} must be between {low} and {high}, got {value}"),
            );
        }
    }

    fn insurance_refs(
        &mut self,
        at: &str,
        ids: &[i64],
        insurances: &BTreeMap<i64, Insurance>,
    ) -> BTreeSet<i64> {
        let mut set = BTreeSet::new();
        for id in ids {
            if !insurances.contains_key(id) {
                self.issue(at, format!("insurance {id} does not exist"));
            } else if !set.insert(*id) {
                self.issue(at, format!("insurance {id} is listed more than once"));
            }
        }
        set
    }

    fn schedule(
        &mut self,
        at: &str,
        entry: &ScheduleEntry,
        default_tz: Option<Tz>,
        duration_minutes: i64,
    ) -> Option<Schedule> {
        let start_count = self.issues.len();
        let tz = match &entry.time_zone {
            None => default_tz,
            Some(name) => match name.parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    self.issue(
                        at,
                        format!("schedule.time_zone `{name}` is not an IANA time zone"),
                    );
                    None
                }
            },
        };
        self.range(
            at,
            "schedule.slot_interval_minutes",
            entry.slot_interval_minutes,
            5,
            24 * 60,
        );
        self.range(at, "schedule.capacity", entry.capacity, 1, 1000);
        self.range(at, "schedule.horizon_days", entry.horizon_days, 1, 366);
        self.range(
            at,
            "schedule.min_lead_minutes",
            entry.min_lead_minutes,
            0,
            30 * 24 * 60,
        );
        if entry.windows.is_empty() {
            self.issue(at, "schedule.windows must list at least one opening window");
        }
        let mut windows: Vec<Window> = Vec::new();
        for (w, window) in entry.windows.iter().enumerate() {
            let wat = format!("{at} schedule.windows[{w}]");
            let weekday = parse_weekday(&window.weekday);
            if weekday.is_none() {
                self.issue(
                    &wat,
                    format!("weekday `{}` is not one of mon..sun", window.weekday),
                );
            }
            let start = parse_clock(&window.start, false);
            let end = parse_clock(&window.end, true);
            if start.is_none() {
                self.issue(
                    &wat,
                    format!("start `{}` is not a time HH:MM", window.start),
                );
            }
            if end.is_none() {
                self.issue(&wat, format!("end `{}` is not a time HH:MM", window.end));
            }
            if let (Some(weekday), Some(start), Some(end)) = (weekday, start, end) {
                if end <= start {
                    self.issue(&wat, "end must be after start");
                } else if end - start < duration_minutes {
                    self.issue(
                        &wat,
                        format!(
                            "is shorter than the type's duration of {duration_minutes} minutes"
                        ),
                    );
                } else if let Some(other) = windows
                    .iter()
                    .find(|o| o.weekday == weekday && o.start < end && start < o.end)
                {
                    self.issue(
                        &wat,
                        format!(
                            "overlaps another {} window starting at {:02}:{:02}",
                            window.weekday,
                            other.start / 60,
                            other.start % 60
                        ),
                    );
                } else {
                    windows.push(Window {
                        weekday,
                        start,
                        end,
                    });
                }
            }
        }
        let mut closed = BTreeSet::new();
        for date in &entry.closed_dates {
            match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
                Ok(d) if d.format("%Y-%m-%d").to_string() == *date => {
                    closed.insert(d);
                }
                _ => self.issue(
                    at,
                    format!("schedule.closed_dates: `{date}` is not a date YYYY-MM-DD"),
                ),
            }
        }
        if self.issues.len() != start_count {
            return None;
        }
        Some(Schedule {
            time_zone: tz?,
            windows,
            slot_interval_minutes: entry.slot_interval_minutes,
            duration_minutes,
            capacity: entry.capacity,
            closed_dates: closed,
            horizon_days: entry.horizon_days,
            min_lead_minutes: entry.min_lead_minutes,
        })
    }
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    match text.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Some(Weekday::Mon),
        "tue" | "tuesday" => Some(Weekday::Tue),
        "wed" | "wednesday" => Some(Weekday::Wed),
        "thu" | "thursday" => Some(Weekday::Thu),
        "fri" | "friday" => Some(Weekday::Fri),
        "sat" | "saturday" => Some(Weekday::Sat),
        "sun" | "sunday" => Some(Weekday::Sun),
        _ => None,
    }
}

/// Minutes after local midnight of `HH:MM`; `24:00` only as an end.
fn parse_clock(text: &str, is_end: bool) -> Option<i64> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: i64 = h.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    if (h, m) == (24, 0) && is_end {
        return Some(24 * 60);
    }
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
time_zone: Europe/Berlin
insurances:
  - { id: 136, name: Public }
  - { id: 137, name: Private }
categories:
  - { id: 53, name: General, insurance_ids: [136, 137] }
types:
  - id: 198
    name: Checkup
    category_id: 53
    duration_minutes: 20
    insurance_ids: [136]
    asap_notifications_enabled: true
    schedule:
      windows: [{ weekday: mon, start: "08:00", end: "12:00" }]
      slot_interval_minutes: 20
      capacity: 1
      horizon_days: 60
"#;

    #[test]
    fn a_good_document_parses() {
        let catalog = Catalog::parse(GOOD).unwrap();
        assert_eq!(catalog.types[&198].schedule.windows[0].start, 8 * 60);
        assert_eq!(catalog.categories_for(Some(136)).len(), 1);
        assert_eq!(catalog.types_for(Some(53), Some(137)).len(), 0);
        let again = Catalog::from_json(&catalog.to_json().unwrap()).unwrap();
        assert_eq!(again, catalog);
    }

    #[test]
    fn every_problem_names_its_entry() {
        let bad = GOOD
            .replace("category_id: 53", "category_id: 99")
            .replace("\"12:00\"", "\"07:00\"")
            .replace("Europe/Berlin", "Mars/Olympus");
        let err = Catalog::parse(&bad).unwrap_err();
        let text: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
        assert!(
            text.contains(&"types[0] (id 198): category 99 does not exist".to_owned()),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t
                    .starts_with("types[0] (id 198) schedule.windows[0]: end must be after start")),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.starts_with("time_zone:")), "{text:?}");
    }

    #[test]
    fn the_booking_limit_defaults_to_three_and_is_checked() {
        let catalog = Catalog::parse(GOOD).unwrap();
        assert_eq!(catalog.types[&198].max_active_appointments_per_patient, 3);
        let five = GOOD.replace(
            "asap_notifications_enabled: true",
            "asap_notifications_enabled: true\n    max_active_appointments_per_patient: 5",
        );
        let catalog = Catalog::parse(&five).unwrap();
        assert_eq!(catalog.types[&198].max_active_appointments_per_patient, 5);
        assert!(catalog
            .to_json()
            .unwrap()
            .contains("\"max_active_appointments_per_patient\":5"));
        for bad in ["0", "-1", "101"] {
            let text = GOOD.replace(
                "asap_notifications_enabled: true",
                &format!("asap_notifications_enabled: true\n    max_active_appointments_per_patient: {bad}"),
            );
            let err = Catalog::parse(&text).unwrap_err();
            assert_eq!(
                err.issues()[0].to_string(),
                format!("types[0] (id 198): max_active_appointments_per_patient must be between 1 and 100, got {bad}")
            );
        }
    }

    #[test]
    fn unknown_fields_are_syntax_errors() {
        let err = Catalog::parse(&GOOD.replace("capacity: 1", "capacity: 1\n      colour: red"))
            .unwrap_err();
        assert!(
            matches!(err, CatalogError::Syntax(ref m) if m.contains("colour")),
            "{err}"
        );
    }
}
