//! `portal-admin audit --patient ID [--days N] [--limit N] [--json]`: what apps did with a
//! patient's data, newest first, from the audit log of patient-data access
//! ([`shared::audit::AuditLog::recent_access`], what the account page will show the patient).

use std::collections::BTreeMap;

use shared::audit::{AccessRecord, AuditLog};
use shared::config::Config;
use shared::domain::client::ClientId;
use shared::domain::patient::PatientId;
use shared::repo::ClientRepo;
use shared::store::SharedStore;

/// Reads the patient's records of the last `days` days (at most `limit`) and prints them.
pub async fn show(
    config: &Config,
    patient: &str,
    days: u32,
    limit: usize,
    json: bool,
) -> Result<(), String> {
    let patient = PatientId::parse(patient).map_err(|e| format!("--patient: {e}"))?;
    let store = shared::boot::connect_store(config)
        .await
        .map_err(|e| e.to_string())?;
    let since = shared::store::now_unix() - i64::from(days) * 24 * 3600;
    let records = AuditLog::new(store.clone(), config.audit_retention_days)
        .recent_access(&patient, since, limit)
        .await
        .map_err(|e| format!("cannot read the audit log: {e}"))?;
    let names = client_names(&store, &records).await?;
    print!("{}", render(&records, &names, days, json));
    Ok(())
}

/// The display names of the clients the records name (one read per distinct client; a client
/// deleted since is shown without a name).
async fn client_names(
    store: &SharedStore,
    records: &[AccessRecord],
) -> Result<BTreeMap<ClientId, String>, String> {
    let clients = ClientRepo::new(store.clone());
    let mut names = BTreeMap::new();
    for record in records {
        if names.contains_key(&record.client_id) {
            continue;
        }
        let name = clients
            .get(&record.client_id)
            .await
            .map_err(|e| format!("cannot read client {}: {e}", record.client_id))?
            .map(|client| client.name)
            .unwrap_or_default();
        names.insert(record.client_id.clone(), name);
    }
    Ok(names)
}

/// The output: one JSON document, or a table for people (when, app, what, outcome).
pub fn render(
    records: &[AccessRecord],
    names: &BTreeMap<ClientId, String>,
    days: u32,
    json: bool,
) -> String {
    let name_of = |id: &ClientId| names.get(id).map(String::as_str).unwrap_or_default();
    if json {
        let entries: Vec<serde_json::Value> = records
            .iter()
            .map(|record| {
                let mut entry = record.to_json();
                entry["client_name"] = serde_json::json!(name_of(&record.client_id));
                entry
            })
            .collect();
        return format!(
            "{}\n",
            serde_json::json!({ "days": days, "records": entries })
        );
    }
    if records.is_empty() {
        return format!("no access by apps in the last {days} days\n");
    }
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|record| {
            let name = name_of(&record.client_id);
            let app = if name.is_empty() {
                record.client_id.to_string()
            } else {
                format!("{} ({name})", record.client_id)
            };
            let what = match &record.resource {
                Some(id) => format!("{} appointment {id}", record.route),
                None => record.route.clone(),
            };
            [record.at_rfc3339(), app, what, record.outcome()]
        })
        .collect();
    let header = ["WHEN (UTC)", "APP", "WHAT", "OUTCOME"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 4]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i == 3 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        format!("{}\n", text.trim_end())
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(row));
    }
    out.push_str(&format!(
        "{} access record(s) in the last {days} days\n",
        rows.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        at_ms: i64,
        client: &str,
        resource: Option<&str>,
        error: Option<&str>,
    ) -> AccessRecord {
        AccessRecord {
            at_ms,
            client_id: ClientId::parse(client).unwrap(),
            patient_id: PatientId::parse("p1").unwrap(),
            route: "GET /api/portal/v1/appointments/{id}".into(),
            resource: resource.map(str::to_owned),
            status_class: if error.is_some() { "4xx" } else { "2xx" }.into(),
            error: error.map(str::to_owned),
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn the_table_shows_when_which_app_what_and_the_outcome() {
        let records = [
            record(1_700_000_060_000, "app-1", Some("A1"), None),
            record(1_700_000_000_000, "gone", None, Some("not_found")),
        ];
        let names = BTreeMap::from([
            (ClientId::parse("app-1").unwrap(), "Praxis App".to_owned()),
            (ClientId::parse("gone").unwrap(), String::new()),
        ]);
        let table = render(&records, &names, 30, false);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].starts_with("WHEN (UTC)"), "{table}");
        assert!(
            lines[1].starts_with("2023-11-14T22:14:20.000Z  app-1 (Praxis App)"),
            "{table}"
        );
        assert!(lines[1].contains("GET /api/portal/v1/appointments/{id} appointment A1"));
        assert!(lines[1].ends_with("2xx"), "{table}");
        assert!(
            lines[2].contains("  gone  ") && lines[2].ends_with("4xx not_found"),
            "{table}"
        );
        // Columns line up.
        let app_at = lines[0].find("APP").unwrap();
        assert_eq!(lines[1].find("app-1"), Some(app_at));
        assert_eq!(lines[2].find("gone"), Some(app_at));
        assert_eq!(lines[3], "2 access record(s) in the last 30 days");
        assert_eq!(
            render(&[], &names, 7, false),
            "no access by apps in the last 7 days\n"
        );
    }

    #[test]
    fn json_has_every_field_and_the_client_name() {
        let records = [record(1_700_000_000_000, "app-1", Some("A1"), None)];
        let names = BTreeMap::from([(ClientId::parse("app-1").unwrap(), "Praxis App".to_owned())]);
        let out = render(&records, &names, 30, true);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        let entry = &value["records"][0];
        assert_eq!(entry["client_id"], "app-1");
        assert_eq!(entry["client_name"], "Praxis App");
        assert_eq!(entry["patient_id"], "p1");
        assert_eq!(entry["resource"], "A1");
        assert_eq!(entry["outcome"], "2xx");
        assert_eq!(entry["request_id"], "req-1");
        assert_eq!(value["days"], 30);
    }
}
