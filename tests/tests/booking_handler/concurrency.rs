//! Races settled by conditional writes: twenty patients for one slot (SQLite and DynamoDB), two
//! reschedules of one appointment.

use std::sync::Arc;

use serde_json::json;
use shared::boot::Context;
use shared::store::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};

use super::*;

/// `context` mints the patients' tokens; `booking` is what the booking function runs with.
async fn twenty_patients_race_for_one_slot(context: Context, booking: Context) {
    catalog::load_demo(&context.store).await;
    let app = Arc::new(App::new(booking));
    let scout = ApiPatient::new(&context);
    let slot = availabilities(&app, &scout, 198, 53).await[0].clone();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            let patient = ApiPatient::new(&context);
            let body = book_body(&slot);
            tokio::spawn(async move {
                let response = call(&*app, patient.post("/booking", &body)).await;
                (response.status().as_u16(), self::body(&response))
            })
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["error"], "slot_unavailable");
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, conflicts), (1, 19));
    let left = availabilities(&app, &scout, 198, 53).await;
    assert!(left.iter().all(|s| s["starts_at"] != slot["starts_at"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_bookings_of_one_slot_give_one_appointment_on_sqlite() {
    let ctx = TestContext::new();
    twenty_patients_race_for_one_slot(ctx.context.clone(), ctx.function(Role::Booking)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_bookings_of_one_slot_give_one_appointment_on_dynamodb() {
    let ctx = TestContext::new();
    let store = portal_tests::dynamo_store().await;
    let booking = ctx.function_over(Role::Booking, store.clone());
    twenty_patients_race_for_one_slot(ctx.with_store(store), booking).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_racing_reschedules_exactly_one_wins() {
    let ctx = TestContext::new();
    let gated = Arc::new(GateStore {
        inner: ctx.store(),
        gate: std::sync::Mutex::new(None),
    });
    let context = ctx.with_store(gated.clone());
    catalog::load_demo(&context.store).await;
    let app = Arc::new(App::new(ctx.function_over(Role::Booking, gated.clone())));
    let patient = Arc::new(ApiPatient::new(&context));
    let slots = availabilities(&app, &patient, 198, 53).await;
    let id = book(&app, &patient, &slots[0]).await;
    *gated.gate.lock().unwrap() = Some(Arc::new(tokio::sync::Barrier::new(2)));
    let targets = [slots[1].clone(), slots[2].clone()];
    let tasks: Vec<_> = targets
        .iter()
        .map(|target| {
            let app = app.clone();
            let patient = patient.clone();
            let path = format!("/appointments/{id}");
            let body = json!({ "availability_id": target["id"] });
            tokio::spawn(async move {
                let response = call(&*app, patient.put(&path, &body)).await;
                (response.status().as_u16(), self::body(&response))
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    *gated.gate.lock().unwrap() = None;
    let winners: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results.iter().find(|(s, _)| *s != 200).unwrap();
    assert_eq!(loser.0, 409, "{results:?}");
    assert_eq!(loser.1["error"], "appointment_changed");

    let current = ok(&*app, patient.get(&format!("/appointments/{id}"))).await;
    assert_eq!(current["starts_at"], winners[0]["starts_at"]);
    let free = availabilities(&app, &patient, 198, 53).await;
    let offered = |s: &Value| free.iter().any(|f| f["starts_at"] == s["starts_at"]);
    assert!(offered(&slots[0]), "original slot released once");
    let won = targets
        .iter()
        .find(|t| t["starts_at"] == current["starts_at"])
        .unwrap();
    let lost = targets
        .iter()
        .find(|t| t["starts_at"] != current["starts_at"])
        .unwrap();
    assert!(!offered(won));
    assert!(offered(lost), "the loser's slot was not claimed");
}

/// A store whose reads wait for each other while a barrier is armed, so two requests are both
/// past their read before either writes: the race the conditional transaction must settle.
struct GateStore {
    inner: Arc<dyn Store>,
    gate: std::sync::Mutex<Option<Arc<tokio::sync::Barrier>>>,
}

impl GateStore {
    /// Waits for the other request's read while the barrier is armed.
    async fn pass_gate(&self) {
        let gate = self.gate.lock().unwrap().clone();
        if let Some(barrier) = gate {
            // One-shot: once both reads met, later reads (the inline ASAP dispatch after the
            // winning commit) pass freely.
            if barrier.wait().await.is_leader() {
                *self.gate.lock().unwrap() = None;
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for GateStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let item = self.inner.get(key).await?;
        self.pass_gate().await;
        Ok(item)
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let items = self.inner.get_many(keys).await?;
        self.pass_gate().await;
        Ok(items)
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
}
