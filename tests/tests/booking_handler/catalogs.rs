//! Catalog documents: the demo catalog, and validation errors that name the bad entry.

use shared::booking::Catalog;
use testkit::catalog::demo_text;

#[test]
fn the_demo_catalog_is_valid_and_has_the_walkthrough_ids() {
    let catalog = Catalog::parse(&demo_text()).unwrap();
    assert!(catalog.insurances.contains_key(&136));
    assert!(catalog.categories[&53].insurance_ids.contains(&136));
    let t = &catalog.types[&198];
    assert_eq!(
        (t.category_id, t.duration_minutes, t.schedule.capacity),
        (53, 20, 1)
    );
    assert!(t.asap_notifications_enabled && !t.video_consultation);
    assert!(catalog.types.values().any(|t| t.video_consultation));
    assert!(catalog
        .types
        .values()
        .any(|t| !t.asap_notifications_enabled));
    assert!(catalog.types.values().any(|t| t.schedule.capacity == 2));
    assert_eq!(t.schedule.time_zone, chrono_tz::Europe::Berlin);
}

#[test]
fn catalog_validation_errors_name_the_bad_entry() {
    let text = demo_text()
        .replace(
            "category_id: 54\n    duration_minutes: 30",
            "category_id: 99\n    duration_minutes: 30",
        )
        .replace(
            "insurance_ids: [137, 138]\n    asap",
            "insurance_ids: [137, 555]\n    asap",
        )
        .replace(
            "weekday: fri, start: \"14:00\"",
            "weekday: friyay, start: \"14:00\"",
        );
    let error = Catalog::parse(&text).unwrap_err();
    let issues: Vec<String> = error.issues().iter().map(ToString::to_string).collect();
    assert!(
        issues.contains(&"types[2] (id 200): category 99 does not exist".to_owned()),
        "{issues:#?}"
    );
    assert!(
        issues.contains(&"types[4] (id 202): insurance 555 does not exist".to_owned()),
        "{issues:#?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.starts_with("types[4] (id 202) schedule.windows[0]: weekday `friyay`")),
        "{issues:#?}"
    );
    assert!(error.to_string().contains("3 problem(s)"), "{error}");

    let syntax = Catalog::parse("time_zone: Europe/Berlin\ninsurances: 5").unwrap_err();
    assert!(syntax.to_string().contains("insurances"), "{syntax}");
    let duplicate = demo_text().replace("id: 199", "id: 198");
    let error = Catalog::parse(&duplicate).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("types[1] (id 198): id 198 appears more than once"),
        "{error}"
    );
}
