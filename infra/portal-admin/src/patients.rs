//! `portal-admin patient list` and `patient show`: what operators need to answer a support
//! question ("is my address verified?", "which apps can see my data?") without reading the table.
//! Never a password hash: the output holds the profile, the verification state and the connected
//! apps only.

use serde_json::{json, Value};
use shared::account::apps::{connected, ConnectedApp};
use shared::domain::patient::{Email, Patient, PatientId};
use shared::repo::{ClientRepo, ConsentRepo, GrantRepo, PatientRepo};
use shared::store::{now_unix, SharedStore};

/// Which patient `show` is about.
pub enum Lookup {
    /// By id (the `sub` of their tokens).
    Id(String),
    /// By sign-in address (any letter case).
    Email(String),
}

/// Prints one page of patients (by address) and the cursor of the next.
pub async fn list(
    store: SharedStore,
    limit: u32,
    cursor: Option<&str>,
    json: bool,
) -> Result<(), String> {
    let (patients, next) = PatientRepo::new(store)
        .list(limit, cursor)
        .await
        .map_err(|e| format!("cannot list patients: {e}"))?;
    print!("{}", render_list(&patients, next.as_deref(), json));
    Ok(())
}

/// Prints one patient's profile, verification state and connected apps.
pub async fn show(store: SharedStore, lookup: Lookup, json: bool) -> Result<(), String> {
    let patients = PatientRepo::new(store.clone());
    let id = match lookup {
        Lookup::Id(id) => PatientId::parse(&id).map_err(|e| format!("--id: {e}"))?,
        Lookup::Email(email) => {
            let email = Email::parse(&email).map_err(|e| format!("--email: {e}"))?;
            patients
                .credentials_by_email(&email)
                .await
                .map_err(|e| format!("cannot read the account: {e}"))?
                .ok_or("no patient has this email address")?
                .patient_id
        }
    };
    let patient = patients
        .get(&id)
        .await
        .map_err(|e| format!("cannot read the account: {e}"))?
        .ok_or("no patient has this id")?;
    let apps = apps_of(&store, &id).await?;
    print!("{}", render_show(&patient, &apps, json));
    Ok(())
}

async fn apps_of(store: &SharedStore, id: &PatientId) -> Result<Vec<ConnectedApp>, String> {
    let consents = ConsentRepo::new(store.clone())
        .of_patient(id)
        .await
        .map_err(|e| format!("cannot read the consents: {e}"))?;
    let grants = GrantRepo::new(store.clone())
        .of_patient(id, None)
        .await
        .map_err(|e| format!("cannot read the grants: {e}"))?;
    let clients = ClientRepo::new(store.clone());
    let mut apps = Vec::new();
    for (client_id, mut app) in connected(&consents, &grants, now_unix()) {
        if let Some(client) = clients
            .get(&client_id)
            .await
            .map_err(|e| format!("cannot read client {client_id}: {e}"))?
        {
            app.name = client.name;
        }
        apps.push(app);
    }
    Ok(apps)
}

fn patient_json(patient: &Patient) -> Value {
    json!({
        "id": patient.id.as_str(),
        "email": patient.email.as_str(),
        "email_verified": patient.email_verified,
        "given_name": patient.first_name.as_str(),
        "family_name": patient.last_name.as_str(),
        "birthdate": patient.birth_date.to_string(),
        "phone_number": patient.phone.as_ref().map(|p| p.as_str()),
        "locale": patient.locale.tag(),
    })
}

fn time(at: Option<i64>) -> Value {
    at.and_then(|at| chrono::DateTime::from_timestamp(at, 0))
        .map(|at| json!(at.to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// The output of `patient list`.
pub fn render_list(patients: &[Patient], next: Option<&str>, json: bool) -> String {
    if json {
        let entries: Vec<Value> = patients.iter().map(patient_json).collect();
        return format!("{}\n", json!({ "patients": entries, "next_cursor": next }));
    }
    let mut out = String::new();
    if patients.is_empty() {
        out.push_str("No patients.\n");
    }
    for patient in patients {
        out.push_str(&format!(
            "{}  {}  {}  {} {}\n",
            patient.id,
            patient.email,
            if patient.email_verified {
                "verified"
            } else {
                "unverified"
            },
            patient.first_name,
            patient.last_name
        ));
    }
    if let Some(next) = next {
        out.push_str(&format!("More: --cursor {next}\n"));
    }
    out
}

/// The output of `patient show`.
pub fn render_show(patient: &Patient, apps: &[ConnectedApp], json: bool) -> String {
    let apps_json: Vec<Value> = apps
        .iter()
        .map(|app| {
            json!({
                "client_id": app.client_id.as_str(),
                "name": app.name,
                "scope": app.scopes.to_string(),
                "granted_at": time(app.granted_at),
                "last_used_at": time(app.last_used_at),
            })
        })
        .collect();
    if json {
        let mut body = patient_json(patient);
        body["connected_apps"] = json!(apps_json);
        return format!("{body}\n");
    }
    let text = |value: &Value| value.as_str().unwrap_or("-").to_owned();
    let mut out = format!(
        "Patient        {}\nEmail          {} ({})\nName           {} {}\nDate of birth  {}\nPhone          {}\nLanguage       {}\nConnected apps {}\n",
        patient.id,
        patient.email,
        if patient.email_verified { "verified" } else { "not verified" },
        patient.first_name,
        patient.last_name,
        patient.birth_date,
        patient.phone.as_ref().map(|p| p.as_str()).unwrap_or("-"),
        patient.locale.tag(),
        apps.len(),
    );
    for app in &apps_json {
        out.push_str(&format!(
            "  {} ({})  scope: {}  granted: {}  last used: {}\n",
            text(&app["name"]),
            text(&app["client_id"]),
            text(&app["scope"]),
            text(&app["granted_at"]),
            text(&app["last_used_at"]),
        ));
    }
    out
}
