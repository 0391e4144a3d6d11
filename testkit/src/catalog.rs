//! The demo catalog (`infra/catalog/demo.yaml`) and other catalogs, loaded into a store the way
//! `portal-admin catalog load` loads them.

use serde_json::{json, Value};
use shared::booking::{BookingError, BookingRepo, Catalog};
use shared::i18n::{datetime, Locale};
use shared::store::{now_unix, SharedStore};

/// The demo catalog document, read at run time.
pub const DEMO_CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/catalog/demo.yaml");
/// The demo walkthrough's ids: insurance 136, category 53 ("General medicine"), type 198
/// ("Consultation", 20 minutes, capacity 1, 24 h cancellation notice).
pub const INSURANCE: i64 = 136;
/// See [`INSURANCE`].
pub const CATEGORY: i64 = 53;
/// See [`INSURANCE`].
pub const TYPE: i64 = 198;

/// The demo catalog document.
///
/// # Panics
/// When the file cannot be read.
pub fn demo_text() -> String {
    std::fs::read_to_string(DEMO_CATALOG)
        .unwrap_or_else(|e| panic!("cannot read {DEMO_CATALOG}: {e}"))
}

/// A catalog document, validated.
///
/// # Panics
/// When it is not a valid catalog (the message names the bad entry).
pub fn parse(text: &str) -> Catalog {
    Catalog::parse(text).unwrap_or_else(|e| panic!("not a valid catalog: {e}"))
}

/// `catalog` with type `type_id` taking `capacity` bookings per slot (so a benchmark can book
/// thousands of times without running out of slots).
///
/// # Panics
/// When the catalog has no such type.
pub fn with_capacity(catalog: &Catalog, type_id: i64, capacity: i64) -> Catalog {
    // The stored form is the document, so change it there and validate again.
    let mut file = catalog.file.clone();
    let entry = file
        .types
        .iter_mut()
        .find(|t| t.id == type_id)
        .unwrap_or_else(|| panic!("the catalog has no type {type_id}"));
    entry.schedule.capacity = capacity;
    Catalog::from_file(file).unwrap_or_else(|e| panic!("the changed catalog is invalid: {e}"))
}

/// A catalog document (time zone Europe/Berlin) of one type, [`TYPE`] "Consultation" of 30
/// minutes in category [`CATEGORY`] for insurance [`INSURANCE`], open every day from `opens` to
/// `closes`, a slot every `slot_interval_minutes`, capacity 1, bookable `horizon_days` ahead. Change
/// what a test needs in the returned JSON, then [`load`] its text.
pub fn daily(opens: &str, closes: &str, slot_interval_minutes: u32, horizon_days: u32) -> Value {
    let windows: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|day| json!({ "weekday": day, "start": opens, "end": closes }))
        .collect();
    json!({
        "time_zone": "Europe/Berlin",
        "insurances": [{ "id": INSURANCE, "name": "GKV" }],
        "categories": [{ "id": CATEGORY, "name": "General", "insurance_ids": [INSURANCE] }],
        "types": [{
            "id": TYPE, "name": "Consultation", "category_id": CATEGORY, "duration_minutes": 30,
            "insurance_ids": [INSURANCE],
            "schedule": { "windows": windows, "slot_interval_minutes": slot_interval_minutes,
                          "capacity": 1, "horizon_days": horizon_days }
        }]
    })
}

/// Stores `catalog` as the current one.
///
/// # Panics
/// When the store refuses it.
pub async fn save(store: &SharedStore, catalog: &Catalog) {
    BookingRepo::new(store.clone())
        .save_catalog(catalog, now_unix())
        .await
        .unwrap_or_else(|e| panic!("cannot save the catalog: {e}"));
}

/// Validates and stores a catalog document; the catalog.
pub async fn load(store: &SharedStore, text: &str) -> Catalog {
    let catalog = parse(text);
    save(store, &catalog).await;
    catalog
}

/// Stores the demo catalog; the catalog.
pub async fn load_demo(store: &SharedStore) -> Catalog {
    load(store, &demo_text()).await
}

/// Loads the demo catalog into a store that has none yet (the store of the portal the end-to-end
/// tests share, where another test may have loaded it already); a catalog already there stays.
///
/// # Panics
/// When the store cannot be read or written.
pub async fn ensure_demo(store: &SharedStore) {
    let repo = BookingRepo::new(store.clone());
    match repo.catalog().await {
        Ok(_) => {}
        Err(BookingError::CatalogMissing) => {
            // Tests sharing the store start at once: two may find no catalog and both load it.
            // The loser's conditional write is refused; the winner's catalog is the demo too.
            match repo.save_catalog(&parse(&demo_text()), now_unix()).await {
                Ok(_) => {}
                Err(BookingError::Conflict {
                    code: "catalog_changed",
                    ..
                }) => {}
                Err(other) => panic!("cannot save the catalog: {other}"),
            }
        }
        Err(other) => panic!("cannot read the catalog: {other}"),
    }
}

/// When an availability or appointment of demo type [`TYPE`] (an API answer with `starts_at`)
/// starts, as pages and mails write it in `locale`: "Thursday, 3 December 2026, 09:20 (CET)",
/// "Donnerstag, 3. Dezember 2026, 09:20 Uhr (MEZ)", in the type's time zone.
///
/// # Panics
/// When `starts_at` is missing or not RFC 3339.
pub fn spoken_start(answer: &Value, locale: Locale) -> String {
    let text = answer["starts_at"]
        .as_str()
        .unwrap_or_else(|| panic!("no starts_at in {answer}"));
    let start = chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("starts_at {text} is not RFC 3339: {e}"))
        .timestamp();
    let zone = parse(&demo_text()).types[&TYPE].schedule.time_zone;
    datetime::long(locale, zone, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_the_walkthrough_ids_and_a_daily_catalog_is_valid() {
        let demo = parse(&demo_text());
        assert!(demo.insurances.contains_key(&INSURANCE));
        assert_eq!(demo.types[&TYPE].category_id, CATEGORY);
        let daily = parse(&daily("09:00", "10:00", 30, 7).to_string());
        assert_eq!(daily.types[&TYPE].schedule.capacity, 1);
        let roomy = with_capacity(&daily, TYPE, 3);
        assert_eq!(roomy.types[&TYPE].schedule.capacity, 3);
    }

    #[test]
    fn a_start_is_spoken_in_the_demo_types_time_zone() {
        let winter = json!({ "starts_at": "2026-12-01T09:00:00+01:00" });
        assert_eq!(
            spoken_start(&winter, Locale::ENGLISH),
            "Tuesday, 1 December 2026, 09:00 (CET)"
        );
        let summer = json!({ "starts_at": "2026-07-01T07:00:00Z" });
        assert_eq!(
            spoken_start(&summer, Locale::parse("de").unwrap()),
            "Mittwoch, 1. Juli 2026, 09:00 Uhr (MESZ)"
        );
    }
}
