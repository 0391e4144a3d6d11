//! The audit log's repository (`shared::audit::AuditLog`) on both stores: written once against
//! the port, run on SQLite and on DynamoDB (moto). Each test owns its store.

use std::sync::Arc;

use portal_tests::{dynamo_store, sqlite_store};
use shared::audit::{AccessRecord, AuditLog};
use shared::domain::client::ClientId;
use shared::domain::patient::PatientId;
use shared::store::{layout, now_unix, Condition, Item, Key, Store, StoreError, Write};

type S = Arc<dyn Store>;

fn record(patient: &PatientId, at_ms: i64, resource: &str) -> AccessRecord {
    AccessRecord {
        at_ms,
        client_id: ClientId::parse("app-1").unwrap(),
        patient_id: patient.clone(),
        route: "GET /api/portal/v1/appointments/{id}".into(),
        resource: Some(resource.to_owned()),
        status_class: "2xx".into(),
        error: None,
        request_id: Some(format!("req-{resource}")),
    }
}

fn resources(records: &[AccessRecord]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r.resource.as_deref().unwrap())
        .collect()
}

/// Milliseconds `secs` seconds ago.
fn ago(secs: i64) -> i64 {
    (now_unix() - secs) * 1000
}

async fn reads_a_patients_records_newest_first_since_a_time(store: S) {
    let log = AuditLog::new(store.clone(), 365);
    let (anna, ben) = (PatientId::generate(), PatientId::generate());
    for (at, resource) in [(ago(50), "a2"), (ago(90), "a1"), (ago(10), "a3")] {
        log.append(&record(&anna, at, resource)).await.unwrap();
    }
    log.append(&record(&ben, ago(20), "b1")).await.unwrap();

    let all = log.recent_access(&anna, 0, 100).await.unwrap();
    assert_eq!(resources(&all), ["a3", "a2", "a1"]);
    // Read back whole: every field as written.
    let a3 = &all[0];
    assert_eq!(
        *a3,
        AccessRecord {
            at_ms: a3.at_ms,
            ..record(&anna, 0, "a3")
        }
    );
    assert!((ago(11)..=ago(9)).contains(&a3.at_ms));
    let recent = log
        .recent_access(&anna, now_unix() - 60, 100)
        .await
        .unwrap();
    assert_eq!(resources(&recent), ["a3", "a2"]);
    let newest = log.recent_access(&anna, 0, 2).await.unwrap();
    assert_eq!(resources(&newest), ["a3", "a2"]);
    assert_eq!(
        resources(&log.recent_access(&ben, 0, 100).await.unwrap()),
        ["b1"]
    );
}

async fn records_of_the_same_millisecond_are_all_kept(store: S) {
    let log = AuditLog::new(store, 365);
    let patient = PatientId::generate();
    let at = ago(5);
    for resource in ["x1", "x2", "x3", "x4"] {
        log.append(&record(&patient, at, resource)).await.unwrap();
    }
    let mut stored = resources(&log.recent_access(&patient, 0, 100).await.unwrap())
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    stored.sort();
    assert_eq!(stored, ["x1", "x2", "x3", "x4"]);
}

async fn records_expire_after_the_retention(store: S) {
    let log = AuditLog::new(store.clone(), 1);
    let patient = PatientId::generate();
    log.append(&record(&patient, ago(2 * 24 * 3600), "old"))
        .await
        .unwrap();
    log.append(&record(&patient, ago(3600), "new"))
        .await
        .unwrap();
    assert_eq!(
        resources(&log.recent_access(&patient, 0, 100).await.unwrap()),
        ["new"]
    );
    let items = store
        .query(layout::access_records_since(patient.as_str(), 0, 10))
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 1);
    let at_ms = items[0].number("at").unwrap();
    assert_eq!(items[0].expires_at, Some(at_ms / 1000 + 24 * 3600));
}

async fn a_record_commits_with_the_change_it_rides_in_or_not_at_all(store: S) {
    let log = AuditLog::new(store.clone(), 365);
    let patient = PatientId::generate();
    let change = Key::new("CHANGE#1", "X");
    let writes = |resource: &str| {
        vec![
            Write::Put {
                item: Item::new(change.clone()).with("v", 1),
                condition: Condition::NotExists,
            },
            log.write(&record(&patient, ago(1), resource)),
        ]
    };
    store.transact(writes("first")).await.unwrap();
    // The change's condition fails now: the record of the second attempt is not stored either.
    let failed = store.transact(writes("second")).await;
    assert!(
        matches!(failed, Err(StoreError::TransactionFailed { index: 0, .. })),
        "{failed:?}"
    );
    assert_eq!(
        resources(&log.recent_access(&patient, 0, 100).await.unwrap()),
        ["first"]
    );
}

async fn more_records_than_a_page_are_read_in_pages(store: S) {
    let log = AuditLog::new(store, 365);
    let patient = PatientId::generate();
    for i in 0..12 {
        log.append(&record(&patient, ago(100 - i), &format!("r{i:02}")))
            .await
            .unwrap();
    }
    let all = log.recent_access(&patient, 0, 1000).await.unwrap();
    assert_eq!(all.len(), 12);
    assert_eq!(all[0].resource.as_deref(), Some("r11"));
    assert_eq!(all[11].resource.as_deref(), Some("r00"));
    assert_eq!(log.recent_access(&patient, 0, 5).await.unwrap().len(), 5);
}

macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let (store, _dir) = super::sqlite_store();
                    super::$test(store).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::dynamo_store().await).await;
                }
            )*
        }
    };
}

on_both_stores!(
    reads_a_patients_records_newest_first_since_a_time,
    records_of_the_same_millisecond_are_all_kept,
    records_expire_after_the_retention,
    a_record_commits_with_the_change_it_rides_in_or_not_at_all,
    more_records_than_a_page_are_read_in_pages,
);
