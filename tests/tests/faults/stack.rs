//! One portal on one store behind a [`FaultStore`]: the booking and ASAP functions, a recording
//! mailer, the table's stream played by hand, and the invariant checks over the whole table.

use std::sync::Arc;

use asap_fn::App as AsapApp;
use booking_fn::App as BookingApp;
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use shared::boot::{Context, EventHandler as _, Handler};
use shared::store::dynamo::DynamoStore;
use shared::store::sqlite::SqliteStore;
use shared::store::{FaultStore, Item, SharedStore};
use tempfile::TempDir;
use testkit::api::{body, book_request, call, days_ahead, header, ok, ApiPatient};
use testkit::invariants::{self, Expected, GrantSeen};
use testkit::mail::Recorder;
use testkit::{catalog, patients, Event, TestContext};

/// Which adapter is behind the fault store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapter {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh DynamoDB table on the test run's moto.
    Dynamo,
}

/// Who sends ASAP mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispatch {
    /// The booking request that freed the slot (local default).
    Inline,
    /// The table's stream (deployed default), played by [`Stack::run_stream`].
    Stream,
}

/// Keys and configuration for many stacks (generating keys is the slow part of a fresh portal).
pub fn context(dispatch: Dispatch) -> TestContext {
    let mode = match dispatch {
        Dispatch::Inline => "inline",
        Dispatch::Stream => "stream",
    };
    TestContext::with_env(&[("PORTAL_ASAP_DISPATCH", mode)])
}

enum Table {
    Sqlite { store: SqliteStore, _dir: TempDir },
    Dynamo(DynamoStore),
}

/// The portal of one scenario.
pub struct Stack {
    /// The fault store every function uses.
    pub faults: Arc<FaultStore>,
    /// The store without faults, for set-up.
    pub direct: SharedStore,
    /// The functions' context.
    pub context: Context,
    /// The `booking` function.
    pub booking: BookingApp,
    /// The `asap` function.
    pub asap: AsapApp,
    /// Every mail either function sent.
    pub mail: Recorder,
    table: Table,
}

impl Stack {
    /// A fresh store of `adapter` with the demo catalog, behind a fault store that injects
    /// nothing yet, and the functions over it with `ctx`'s keys and configuration.
    pub async fn new(ctx: &TestContext, adapter: Adapter) -> Stack {
        let table = match adapter {
            Adapter::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let store = SqliteStore::open(dir.path().join("portal.db")).expect("SQLite store");
                Table::Sqlite { store, _dir: dir }
            }
            Adapter::Dynamo => Table::Dynamo(portal_tests::dynamo_adapter("faults").await),
        };
        let direct: SharedStore = match &table {
            Table::Sqlite { store, .. } => Arc::new(store.clone()),
            Table::Dynamo(store) => Arc::new(store.clone()),
        };
        catalog::load_demo(&direct).await;
        let faults = Arc::new(FaultStore::new(direct.clone()));
        let context = ctx.with_store(faults.clone());
        let mail = Recorder::new();
        Stack {
            booking: BookingApp::with_mailer(context.clone(), Arc::new(mail.clone())),
            asap: AsapApp::with_mailer(context.clone(), Arc::new(mail.clone())),
            faults,
            direct,
            context,
            mail,
            table,
        }
    }

    /// A stored patient (so the ASAP notifier finds their account address) holding a token with
    /// every portal scope.
    pub async fn patient(&self) -> ApiPatient {
        let email = format!(
            "f.{}@example.org",
            shared::crypto::random_id(10).to_ascii_lowercase()
        );
        let mut patient = patients::patient(&email, None);
        patient.email_verified = true;
        patients::register(&self.direct, &patient, None).await;
        ApiPatient::existing(&self.context, patient.id.as_str())
    }

    /// Free availabilities of the demo type 198 from three days ahead (no faults: set-up).
    pub async fn free(&self, patient: &ApiPatient) -> Vec<Value> {
        let page = ok(
            &self.booking,
            patient.get(&format!(
                "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&limit=20",
                days_ahead(3)
            )),
        )
        .await;
        page["data"].as_array().expect("a page").clone()
    }

    /// Books `availability` for `patient` (on the ASAP list when `asap`); the appointment id.
    pub async fn book(&self, patient: &ApiPatient, availability: &Value, asap: bool) -> String {
        let mut request = book_request(availability["id"].as_str().expect("an id"));
        request["asap_list_opt_in"] = json!(asap);
        let response = call(&self.booking, patient.post("/booking", &request)).await;
        assert_eq!(response.status(), 201, "{}", body(&response));
        body(&response)["id"].as_str().expect("an id").to_owned()
    }

    /// The appointment's current `ETag`.
    pub async fn etag(&self, patient: &ApiPatient, id: &str) -> String {
        let response = call(&self.booking, patient.get(&format!("/appointments/{id}"))).await;
        assert_eq!(response.status(), 200, "{}", body(&response));
        header(&response, "etag").to_owned()
    }

    /// Every live item of the table.
    pub async fn items(&self) -> Vec<Item> {
        match &self.table {
            Table::Sqlite { store, .. } => store.snapshot().await,
            Table::Dynamo(store) => store.snapshot().await,
        }
        .expect("a snapshot of the table")
    }

    /// Plays the table's stream: every outbox record goes to the `asap` function as a batch, and
    /// the records it reports failed come again, as Lambda retries them, until none fails (at
    /// most `rounds` batches). Whether the last batch went through.
    pub async fn run_stream(&self, rounds: usize) -> bool {
        let items = self.items().await;
        let mut batch = testkit::stream::outbox_batch(&items);
        for _ in 0..rounds {
            let answer = self
                .asap
                .handle_event(batch.clone())
                .await
                .expect("a stream batch is handled");
            let failed: Vec<&str> = answer["batchItemFailures"]
                .as_array()
                .expect("a batch answer")
                .iter()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            if failed.is_empty() {
                return true;
            }
            // Lambda starts again from the first failed record.
            let first = failed.iter().min_by_key(|s| s.parse::<u64>().unwrap_or(0));
            let records: Vec<Value> = batch["Records"]
                .as_array()
                .expect("records")
                .iter()
                .skip_while(|r| r["dynamodb"]["SequenceNumber"].as_str() != first.copied())
                .cloned()
                .collect();
            batch = json!({ "Records": records });
        }
        false
    }

    /// Runs the invariant checks over the table (faults healed first) with the mail this stack
    /// sent and what the clients saw of `grants`; panics listing every violation.
    pub async fn assert_consistent(&self, grants: &[(String, GrantSeen)]) {
        self.faults.heal();
        let expected = Expected {
            mails: Some(self.mail.message_ids()),
            grants: grants.iter().cloned().collect(),
            all_dispatched: true,
            now: shared::store::now_unix(),
        };
        let report = invariants::check(&self.items().await, &expected);
        assert!(
            report.is_clean(),
            "{}:\n{}",
            report.summary(),
            report.violations.join("\n")
        );
    }
}

/// Checks the answer to a request that met a store failure: 503, `Retry-After`, a JSON error
/// saying to try again, and nothing about the cause.
pub fn assert_unavailable(response: &Response<Body>) {
    assert_eq!(response.status(), 503, "{}", body(response));
    assert!(
        response.headers().contains_key("retry-after"),
        "a 503 says when to retry"
    );
    let answer = body(response);
    assert_eq!(answer["error"], "temporarily_unavailable", "{answer}");
    assert!(!answer.to_string().contains("injected"), "{answer}");
}

/// Sends `event` again while it is answered 503 (as a client honouring `Retry-After` would, at
/// most `tries` times in all); every 503 is checked with [`assert_unavailable`] and nothing may be
/// another 5xx. The last answer and how many 503s came before it.
pub async fn until_served(app: &impl Handler, event: &Event, tries: u32) -> (Response<Body>, u32) {
    let mut unavailable = 0;
    loop {
        let response = call(app, event.clone()).await;
        let status = response.status().as_u16();
        assert!(
            status < 500 || status == 503,
            "{status} for {event:?}: {}",
            body(&response)
        );
        if status != 503 {
            return (response, unavailable);
        }
        assert_unavailable(&response);
        unavailable += 1;
        if unavailable == tries {
            return (response, unavailable);
        }
    }
}
