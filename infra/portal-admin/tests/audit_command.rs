//! `portal-admin audit` as an operator runs it: the real binary on a SQLite store holding access
//! records of two patients and a registered client.

use std::process::Command;
use std::sync::Arc;

use shared::audit::{AccessRecord, AuditLog};
use shared::domain::client::{Client, ClientId, RedirectUri};
use shared::domain::patient::PatientId;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::sqlite::SqliteStore;
use shared::store::{now_unix, SharedStore};

fn record(
    patient: &PatientId,
    client: &ClientId,
    ago_secs: i64,
    resource: Option<&str>,
) -> AccessRecord {
    AccessRecord {
        at_ms: (now_unix() - ago_secs) * 1000,
        client_id: client.clone(),
        patient_id: patient.clone(),
        route: "GET /api/portal/v1/appointments/{id}".into(),
        resource: resource.map(str::to_owned),
        status_class: "2xx".into(),
        error: None,
        request_id: Some("req-1".into()),
    }
}

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_portal-admin"))
        .args(args)
        .env_clear()
        .env("PORTAL_DATA_DIR", dir)
        .env(
            "PORTAL_STORE",
            format!("sqlite:{}", dir.join("portal.db").display()),
        )
        .output()
        .expect("portal-admin runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn shows_a_patients_recent_access_as_a_table_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(SqliteStore::open(dir.path().join("portal.db")).unwrap());
    let redirect = RedirectUri::parse("https://app.example/cb").unwrap();
    let client = Client::new_public("Praxis App", vec![redirect], Scopes::all()).unwrap();
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .unwrap();
    let (anna, other) = (PatientId::generate(), PatientId::generate());
    let log = AuditLog::new(store.clone(), 365);
    log.append(&record(&anna, &client.id, 3600, Some("A1")))
        .await
        .unwrap();
    log.append(&record(&anna, &client.id, 40 * 24 * 3600, Some("OLD")))
        .await
        .unwrap();
    log.append(&record(&other, &client.id, 60, Some("B1")))
        .await
        .unwrap();
    drop(store);

    let (ok, table, err) = run(dir.path(), &["audit", "--patient", anna.as_str()]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "header, one record of the last 30 days, summary:\n{table}"
    );
    assert!(
        lines[1].contains(&format!("{} (Praxis App)", client.id)),
        "{table}"
    );
    assert!(
        lines[1].contains("appointment A1") && lines[1].ends_with("2xx"),
        "{table}"
    );
    assert!(!table.contains("B1") && !table.contains("OLD"), "{table}");

    let (ok, json, err) = run(
        dir.path(),
        &[
            "audit",
            "--patient",
            anna.as_str(),
            "--days",
            "60",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let resources: Vec<&str> = value["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["A1", "OLD"], "newest first");

    let (ok, _, err) = run(dir.path(), &["audit", "--patient", "not a patient id"]);
    assert!(!ok);
    assert!(err.contains("--patient"), "{err}");
    let (ok, _, err) = run(
        dir.path(),
        &["audit", "--patient", anna.as_str(), "--days", "0"],
    );
    assert!(!ok);
    assert!(err.contains("--days"), "{err}");
}
