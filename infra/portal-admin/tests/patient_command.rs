//! `portal-admin patient list` and `patient show` as an operator runs them: the real binary on a
//! SQLite store holding two patients (one verified, with a connected app) and never printing a
//! password hash.

use std::process::Command;
use std::sync::Arc;

use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::{BirthDate, Email, Name, Patient};
use shared::repo::{ClientRepo, ConsentRepo, PatientRepo};
use shared::scope::Scopes;
use shared::store::sqlite::SqliteStore;
use shared::store::SharedStore;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";

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

fn patient(email: &str, given: &str, verified: bool) -> Patient {
    let mut patient = Patient::new(
        Email::parse(email).unwrap(),
        Name::parse(given, "first name").unwrap(),
        Name::parse("Muster", "last name").unwrap(),
        BirthDate::parse("1985-02-28").unwrap(),
        None,
    );
    patient.email_verified = verified;
    patient
}

#[tokio::test]
async fn lists_and_shows_patients_with_their_apps_and_never_a_password_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store: SharedStore = Arc::new(SqliteStore::open(dir.path().join("portal.db")).unwrap());
    let patients = PatientRepo::new(store.clone());
    let anna = patient("anna@example.org", "Anna", true);
    let bea = patient("bea@example.org", "Bea", false);
    patients.create(&anna, HASH).await.unwrap();
    patients.create(&bea, HASH).await.unwrap();
    let redirect = RedirectUri::parse("https://app.example/cb").unwrap();
    let client = Client::new_public("Praxis App", vec![redirect], Scopes::all()).unwrap();
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .unwrap();
    ConsentRepo::new(store.clone())
        .grant(
            &anna.id,
            &client.id,
            &Scopes::parse("openid profile").unwrap(),
        )
        .await
        .unwrap();

    let (ok, out, err) = run(dir.path(), &["patient", "list", "--json"]);
    assert!(ok, "{err}");
    assert!(
        !out.contains("argon2") && !out.contains("password"),
        "{out}"
    );
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let emails: Vec<&str> = listed["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["anna@example.org", "bea@example.org"]);
    assert_eq!(listed["patients"][1]["email_verified"], false);
    assert_eq!(listed["next_cursor"], serde_json::Value::Null);

    let (ok, out, _) = run(dir.path(), &["patient", "list", "--limit", "1"]);
    assert!(ok);
    assert!(
        out.contains("anna@example.org") && out.contains("verified"),
        "{out}"
    );
    assert!(out.contains("More: --cursor "), "{out}");
    let cursor = out.trim_end().rsplit(' ').next().unwrap();
    let (ok, out, err) = run(
        dir.path(),
        &["patient", "list", "--limit", "1", "--cursor", cursor],
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("bea@example.org") && !out.contains("anna@"),
        "{out}"
    );

    let (ok, out, err) = run(
        dir.path(),
        &["patient", "show", "--email", "ANNA@example.org", "--json"],
    );
    assert!(ok, "{err}");
    assert!(!out.contains("argon2"), "{out}");
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["id"], anna.id.as_str());
    assert_eq!(shown["email_verified"], true);
    assert_eq!(shown["connected_apps"][0]["name"], "Praxis App");
    assert_eq!(shown["connected_apps"][0]["scope"], "openid profile");

    let (ok, out, _) = run(dir.path(), &["patient", "show", "--id", bea.id.as_str()]);
    assert!(ok);
    assert!(
        out.contains("not verified") && out.contains("Connected apps 0"),
        "{out}"
    );

    let (ok, _, err) = run(
        dir.path(),
        &["patient", "show", "--email", "nobody@example.org"],
    );
    assert!(!ok);
    assert!(err.contains("no patient"), "{err}");
    let (ok, _, _) = run(dir.path(), &["patient", "show"]);
    assert!(!ok, "an id or an address is required");
}
