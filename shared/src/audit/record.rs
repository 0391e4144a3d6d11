//! One access record and its two outward forms: the stored item and the JSON of logs and
//! `portal-admin audit --json`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value as Json};

use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::store::{layout, Item, StoreError, Value};

/// Longest error code a record keeps; a longer one (or one of other characters) is stored as
/// `other`, so a record never carries free text from a response body.
const MAX_ERROR_CODE_LEN: usize = 64;

/// Who accessed which patient's data, how, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRecord {
    /// When the request arrived (unix milliseconds).
    pub at_ms: i64,
    /// The app: the access token's `client_id`.
    pub client_id: ClientId,
    /// The patient whose data was asked for: the token's subject.
    pub patient_id: PatientId,
    /// The route as its template (`METHOD /path/{param}`).
    pub route: String,
    /// The appointment the request named or created, if any.
    pub resource: Option<String>,
    /// `2xx`, `4xx` or `5xx`.
    pub status_class: String,
    /// The error code of a refused request (`not_found`, `insufficient_scope`, …).
    pub error: Option<String>,
    /// The Lambda request id, to find the request's log line.
    pub request_id: Option<String>,
}

impl AccessRecord {
    /// `2xx`, or the status class and error code of a refusal (`4xx not_found`).
    pub fn outcome(&self) -> String {
        match &self.error {
            Some(code) => format!("{} {code}", self.status_class),
            None => self.status_class.clone(),
        }
    }

    /// The record's time as RFC 3339 (UTC, milliseconds).
    pub fn at_rfc3339(&self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.at_ms)
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true))
            .unwrap_or_else(|| self.at_ms.to_string())
    }

    /// The JSON form (logs, `portal-admin audit --json`).
    pub fn to_json(&self) -> Json {
        json!({
            "at": self.at_rfc3339(),
            "client_id": self.client_id.as_str(),
            "patient_id": self.patient_id.as_str(),
            "route": self.route,
            "resource": self.resource,
            "outcome": self.outcome(),
            "request_id": self.request_id,
        })
    }

    /// The stored item, at a key of its own (`unique` tells records of one millisecond apart),
    /// expiring at `expires_at` (unix seconds).
    pub fn to_item(&self, unique: &str, expires_at: i64) -> Item {
        let mut item = Item::new(layout::access_record(
            self.patient_id.as_str(),
            self.at_ms,
            unique,
        ))
        .with("at", self.at_ms)
        .with("client_id", self.client_id.as_str())
        .with("patient_id", self.patient_id.as_str())
        .with("route", self.route.as_str())
        .with("status_class", self.status_class.as_str())
        .expiring_at(expires_at);
        for (name, value) in [
            ("resource", &self.resource),
            ("error", &self.error),
            ("request_id", &self.request_id),
        ] {
            if let Some(value) = value {
                item = item.with(name, value.as_str());
            }
        }
        item
    }

    /// Reads a stored record back.
    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("access record {}: {what}", item.key));
        let optional = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
        Ok(Self {
            at_ms: item.number("at")?,
            client_id: ClientId::parse(item.string("client_id")?)
                .map_err(|e| corrupt(&e.to_string()))?,
            patient_id: PatientId::parse(item.string("patient_id")?)
                .map_err(|e| corrupt(&e.to_string()))?,
            route: item.string("route")?.to_owned(),
            resource: optional("resource"),
            status_class: item.string("status_class")?.to_owned(),
            error: optional("error"),
            request_id: optional("request_id"),
        })
    }
}

/// An error code as a record may keep it: lowercase letters, digits and `_`, else `other`.
pub fn error_code(code: &str) -> String {
    let plain = !code.is_empty()
        && code.len() <= MAX_ERROR_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        code.to_owned()
    } else {
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AccessRecord {
        AccessRecord {
            at_ms: 1_700_000_000_123,
            client_id: ClientId::parse("app-1").unwrap(),
            patient_id: PatientId::parse("p1").unwrap(),
            route: "GET /api/portal/v1/appointments/{id}".into(),
            resource: Some("a1".into()),
            status_class: "4xx".into(),
            error: Some("not_found".into()),
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn items_round_trip_and_expire() {
        let record = record();
        let item = record.to_item("u1", 42);
        assert_eq!(item.key, layout::access_record("p1", record.at_ms, "u1"));
        assert_eq!(item.expires_at, Some(42));
        assert_eq!(AccessRecord::from_item(&item).unwrap(), record);
        let bare = AccessRecord {
            resource: None,
            error: None,
            request_id: None,
            status_class: "2xx".into(),
            ..record
        };
        let item = bare.to_item("u2", 42);
        assert_eq!(
            item.attrs.keys().collect::<Vec<_>>(),
            ["at", "client_id", "patient_id", "route", "status_class"]
        );
        assert_eq!(AccessRecord::from_item(&item).unwrap(), bare);
    }

    #[test]
    fn json_names_the_outcome_and_the_time() {
        let json = record().to_json();
        assert_eq!(json["at"], "2023-11-14T22:13:20.123Z");
        assert_eq!(json["outcome"], "4xx not_found");
        assert_eq!(json["resource"], "a1");
        assert_eq!(json.as_object().unwrap().len(), 7);
    }

    #[test]
    fn only_plain_error_codes_are_kept() {
        assert_eq!(error_code("insufficient_scope"), "insufficient_scope");
        assert_eq!(error_code("Bad Code"), "other");
        assert_eq!(error_code(""), "other");
        assert_eq!(error_code(&"a".repeat(65)), "other");
    }
}
