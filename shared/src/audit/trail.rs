//! The audit trail of one request: who (app and patient) and what (appointment) as the request
//! learns them, whether a transaction already carried the record, and, once the answer is made,
//! the record itself.
//!
//! Kept in a task-local like the request's metrics ([`crate::metrics`]), so the flows that learn
//! a piece (the bearer check, the booking repository's transactions) add it where they are,
//! without threading it through every signature. Outside a trail (the admin CLI, tests calling a
//! handler directly) every call here does nothing.

use std::future::Future;
use std::sync::{Arc, Mutex};

use lambda_http::http::{header, HeaderValue};
use lambda_http::{Body, Response};
use serde_json::Value as Json;

use super::log::AuditLog;
use super::record::{error_code, AccessRecord};
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::http::ApiError;
use crate::metrics::status_class;
use crate::store::observed::error_kind;
use crate::store::Write;

tokio::task_local! {
    static CURRENT: Arc<Mutex<State>>;
}

/// Whose data, which app, and where the record will be stored.
#[derive(Clone)]
struct Subject {
    log: AuditLog,
    client_id: ClientId,
    patient_id: PatientId,
}

#[derive(Default)]
struct State {
    route: String,
    request_id: Option<String>,
    at_ms: i64,
    subject: Option<Subject>,
    resource: Option<String>,
    /// The record a committed transaction stored.
    committed: Option<AccessRecord>,
    /// The record the last transaction offered, kept until it commits.
    offered: Option<AccessRecord>,
}

impl State {
    fn record(&self, subject: &Subject, status: &str, error: Option<String>) -> AccessRecord {
        AccessRecord {
            at_ms: self.at_ms,
            client_id: subject.client_id.clone(),
            patient_id: subject.patient_id.clone(),
            route: self.route.clone(),
            resource: self.resource.clone(),
            status_class: status.to_owned(),
            error,
            request_id: self.request_id.clone(),
        }
    }
}

/// What a request's trail gathered, handed back by [`follow`].
pub struct Trail {
    state: State,
}

/// Runs `future` (a request) inside a fresh trail for `route` (its template), arriving at
/// `at_ms` (unix milliseconds) with the Lambda `request_id`, and returns what it gathered.
pub async fn follow<F: Future>(
    route: &str,
    request_id: Option<&str>,
    at_ms: i64,
    future: F,
) -> (F::Output, Trail) {
    let state = Arc::new(Mutex::new(State {
        route: route.to_owned(),
        request_id: request_id.filter(|id| !id.is_empty()).map(str::to_owned),
        at_ms,
        ..State::default()
    }));
    let output = CURRENT.scope(Arc::clone(&state), future).await;
    let state = match state.lock() {
        Ok(mut guard) => std::mem::take(&mut *guard),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    (output, Trail { state })
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> Option<T> {
    CURRENT
        .try_with(|state| state.lock().ok().map(|mut state| f(&mut state)))
        .ok()
        .flatten()
}

/// The request reads or changes `patient_id`'s data for the app `client_id` (from a verified
/// access token): from here on it is audited into `log`, whatever its outcome.
pub fn subject(log: &AuditLog, client_id: ClientId, patient_id: PatientId) {
    with_state(|state| {
        state.subject = Some(Subject {
            log: log.clone(),
            client_id,
            patient_id,
        })
    });
}

/// The appointment the request is about.
pub fn resource(appointment_id: &str) {
    with_state(|state| state.resource = Some(appointment_id.to_owned()));
}

/// The write that stores the request's record as a success, for the transaction that makes the
/// request's change (`resource`: the appointment it changes or creates). `None` when the request
/// is not audited or a transaction already carried its record. Call [`committed`] once the
/// transaction succeeded.
pub fn transaction_write(resource: Option<&str>) -> Option<Write> {
    with_state(|state| {
        if state.committed.is_some() {
            return None;
        }
        let subject = state.subject.clone()?;
        let mut record = state.record(&subject, "2xx", None);
        // Only once committed is the resource the request's: a failed booking created nothing.
        if let Some(id) = resource {
            record.resource = Some(id.to_owned());
        }
        let write = subject.log.write(&record);
        state.offered = Some(record);
        Some(write)
    })
    .flatten()
}

/// The transaction that took [`transaction_write`]'s write committed: the record is stored.
pub fn committed() {
    with_state(|state| {
        if let Some(record) = state.offered.take() {
            state.resource.clone_from(&record.resource);
            state.committed = Some(record);
        }
    });
}

impl Trail {
    /// Whether the request named a patient (and is therefore audited).
    pub fn is_audited(&self) -> bool {
        self.state.subject.is_some()
    }

    /// Finishes the request: stores its record unless a transaction did (one put), and returns
    /// the answer with the record's log form (`None` when the request was not audited).
    ///
    /// Fails closed: when the record cannot be stored the answer is replaced by `503
    /// temporarily_unavailable` (CORS headers kept, nothing else), so no patient data leaves
    /// without its record; the log form then says `"stored": false`.
    pub async fn close(self, response: Response<Body>) -> (Response<Body>, Option<Json>) {
        let state = self.state;
        let Some(subject) = state.subject.clone() else {
            return (response, None);
        };
        if let Some(record) = &state.committed {
            return (response, Some(log_form(record, true)));
        }
        let status = response.status().as_u16();
        let error = (status >= 400).then(|| error_of(&response));
        let record = state.record(&subject, status_class(status), error);
        match subject.log.append(&record).await {
            Ok(()) => (response, Some(log_form(&record, true))),
            Err(failure) => {
                let kind = error_kind(&failure).unwrap_or("condition");
                let refused = ApiError::Unavailable(format!(
                    "the access record could not be stored ({kind}); the answer was withheld"
                ))
                .into_response();
                (
                    with_cors_of(&response, refused),
                    Some(log_form(&record, false)),
                )
            }
        }
    }
}

fn log_form(record: &AccessRecord, stored: bool) -> Json {
    let mut json = record.to_json();
    if let Some(fields) = json.as_object_mut() {
        fields.insert("stored".into(), Json::Bool(stored));
    }
    json
}

/// The `error` code of a JSON error body, `other` for anything else.
fn error_of(response: &Response<Body>) -> String {
    serde_json::from_slice::<Json>(response.body().as_ref())
        .ok()
        .and_then(|body| body.get("error").and_then(Json::as_str).map(error_code))
        .unwrap_or_else(|| "other".to_owned())
}

/// `replacement` with the CORS headers of `original`, so a browser client can read the refusal.
fn with_cors_of(original: &Response<Body>, mut replacement: Response<Body>) -> Response<Body> {
    for (name, value) in original.headers() {
        if name.as_str().starts_with("access-control-") || name == header::VARY {
            replacement
                .headers_mut()
                .append(name.clone(), HeaderValue::clone(value));
        }
    }
    replacement
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::now_millis;
    use crate::store::sqlite::SqliteStore;
    use crate::store::SharedStore;
    use lambda_http::http::StatusCode;

    fn log() -> (AuditLog, SharedStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(SqliteStore::open(dir.path().join("db")).unwrap());
        (AuditLog::new(store.clone(), 30), store, dir)
    }

    fn answer(status: StatusCode, body: &str) -> Response<Body> {
        let mut response = Response::new(Body::from(body.to_owned()));
        *response.status_mut() = status;
        response
    }

    fn ids() -> (ClientId, PatientId) {
        (
            ClientId::parse("app").unwrap(),
            PatientId::parse("p1").unwrap(),
        )
    }

    #[tokio::test]
    async fn a_request_without_a_subject_is_not_audited() {
        let ((), trail) = follow("GET /x", None, 1, async {}).await;
        assert!(!trail.is_audited());
        let (response, json) = trail.close(answer(StatusCode::OK, "{}")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(json, None);
    }

    #[tokio::test]
    async fn a_refusal_is_stored_with_its_error_code() {
        let (log, store, _dir) = log();
        let (client, patient) = ids();
        let ((), trail) = follow("GET /a/{id}", Some("r1"), now_millis(), async {
            subject(&log, client, patient.clone());
            resource("a1");
        })
        .await;
        let (response, json) = trail
            .close(answer(
                StatusCode::NOT_FOUND,
                r#"{"error":"not_found","error_description":"no appointment a1"}"#,
            ))
            .await;
        assert_eq!(response.status(), 404);
        let json = json.unwrap();
        assert_eq!(json["outcome"], "4xx not_found");
        assert_eq!(json["stored"], true);
        let stored = log.recent_access(&patient, 0, 10).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].resource.as_deref(), Some("a1"));
        assert_eq!(stored[0].request_id.as_deref(), Some("r1"));
        assert_eq!(
            store
                .get(&crate::store::layout::patient_profile("p1"))
                .await
                .unwrap(),
            None,
            "nothing else written"
        );
    }

    #[tokio::test]
    async fn a_committed_transaction_leaves_nothing_to_write() {
        let (log, store, _dir) = log();
        let (client, patient) = ids();
        let ((), trail) = follow("POST /b", None, now_millis(), async {
            assert!(transaction_write(None).is_none(), "no subject yet");
            subject(&log, client, patient.clone());
            let write = transaction_write(Some("a9")).expect("a write");
            store.transact(vec![write]).await.unwrap();
            committed();
            assert!(transaction_write(None).is_none(), "only once");
        })
        .await;
        let (_, json) = trail.close(answer(StatusCode::CREATED, "{}")).await;
        assert_eq!(json.unwrap()["resource"], "a9");
        assert_eq!(log.recent_access(&patient, 0, 10).await.unwrap().len(), 1);
    }

    #[test]
    fn calls_outside_a_trail_do_nothing() {
        let (client, patient) = ids();
        let dir = tempfile::tempdir().unwrap();
        let store: SharedStore = Arc::new(SqliteStore::open(dir.path().join("db")).unwrap());
        subject(&AuditLog::new(store, 1), client, patient);
        resource("a1");
        assert!(transaction_write(None).is_none());
        committed();
    }
}
