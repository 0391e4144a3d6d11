//! What the record costs (round trips, counted by the kit's `CountingStore`), and that nothing
//! leaves without its record: a read fails closed, a change with its transaction.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use shared::store::{Condition, Key, Page, Query, SharedStore, Store, StoreError, Update, Write};

use super::*;

#[tokio::test]
async fn changes_carry_their_record_in_their_own_transaction_and_reads_add_one_put() {
    let portal = Portal::new().await;
    let (patient, app) = patient_and_app(&portal).await;
    let free = portal.free(&app, 198).await;
    let counter = &portal.ctx.counter;
    counter.take();

    let id = portal.book(&app, &free[0]).await;
    assert_eq!(counter.take(), 1, "a booking is still one transaction");
    let one = format!("{API}/appointments/{id}");

    let (status, _, _) = run(&portal.booking, "booking", app.get(&one), "r-get").await;
    assert_eq!(status, 200);
    assert_eq!(
        counter.take(),
        2,
        "a read: the appointment, then its record"
    );

    let (status, _, _) = run(
        &portal.userinfo,
        "userinfo",
        app.get("/oauth/userinfo"),
        "r-ui",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(counter.take(), 2, "userinfo: the profile, then its record");

    // Warms the asap instance's catalog cache (then counts as its own read).
    let earlier = app.get(&format!("{one}/earlier_availability"));
    let (status, _, _) = run(&portal.asap, "asap", earlier, "r-earlier").await;
    assert_eq!(status, 200);
    counter.take();
    let (status, _, _) = run(
        &portal.asap,
        "asap",
        app.post(&format!("{one}/asap_list"), &json!({})),
        "r-sub",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        counter.take(),
        2,
        "subscribe: the appointment, then one transaction"
    );

    // With the current ETag a change reads nothing: one transaction, record included.
    let tagged = invoke(
        &portal.booking,
        "booking",
        invocation(app.get(&one), "r-tag"),
    )
    .await
    .0;
    let tag = tagged.headers()["etag"].to_str().unwrap().to_owned();
    counter.take();
    let event = app
        .put(&one, &json!({ "availability_id": free[1] }))
        .header("if-match", &tag);
    let (response, _) = invoke(&portal.booking, "booking", invocation(event, "r-move")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(counter.take(), 1, "a tagged reschedule is one transaction");
    let tag = response.headers()["etag"].to_str().unwrap().to_owned();
    let event = app.delete(&one).header("if-match", &tag);
    let (status, _, _) = run(&portal.booking, "booking", event, "r-cancel").await;
    assert_eq!(status, 200);
    assert_eq!(counter.take(), 1, "a tagged cancel is one transaction");

    // Catalog reads name no patient: nothing added.
    let (status, _, _) = run(
        &portal.booking,
        "booking",
        app.get(&format!("{API}/insurances")),
        "r-cat",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(counter.take(), 0);

    assert_eq!(portal.records(&patient.id).await.len(), 8);
}

/// The real store, except that it cannot take access records (a put or a transaction that
/// writes under `AUDIT#` fails as an unreachable DynamoDB would).
struct AuditDown {
    inner: SharedStore,
}

fn is_audit(key: &Key) -> bool {
    key.pk.starts_with("AUDIT#")
}

fn unreachable() -> StoreError {
    StoreError::Unavailable("connection reset".into())
}

#[async_trait]
impl Store for AuditDown {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        if is_audit(&item.key) {
            return Err(unreachable());
        }
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
        if writes.iter().any(|w| is_audit(w.key())) {
            return Err(unreachable());
        }
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
}

#[tokio::test]
async fn without_its_record_no_patient_data_leaves_and_no_change_is_made() {
    let portal = Portal::new().await;
    let (patient, app) = patient_and_app(&portal).await;
    let free = portal.free(&app, 198).await;
    let id = portal.book(&app, &free[0]).await;
    let before = portal.records(&patient.id).await.len();

    let down: SharedStore = Arc::new(AuditDown {
        inner: portal.ctx.store(),
    });
    let cut_booking = booking_fn::App::new(portal.ctx.function_over(Role::Booking, down.clone()));
    let cut_userinfo = userinfo_fn::App::new(portal.ctx.function_over(Role::Userinfo, down));
    let one = format!("{API}/appointments/{id}");

    // A read: the data was found, but it is withheld without its record.
    let event = app.get(&one).header("origin", "http://127.0.0.1:3000");
    let (response, log) = invoke(&cut_booking, "booking", invocation(event, "r-read")).await;
    assert_eq!(response.status(), 503);
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(!text.contains(&id) && !text.contains("starts_at"), "{text}");
    assert_eq!(log.fields()["audit"]["stored"], false);
    assert_eq!(
        log.fields()["audit"]["outcome"],
        "2xx",
        "what the record would have said"
    );
    assert_eq!(log.fields()["status"], 503);

    let (status, body, _) = run(
        &cut_userinfo,
        "userinfo",
        app.get("/oauth/userinfo"),
        "r-ui",
    )
    .await;
    assert_eq!(status, 503);
    assert!(body.get("email").is_none(), "{body}");

    // A change: its transaction carries the record, so neither is written.
    let event = app.post(&format!("{API}/booking"), &book_request(&free[1]));
    let (status, _, _) = run(&cut_booking, "booking", event, "r-book").await;
    assert_eq!(status, 503);
    let (status, body, _) = run(&cut_booking, "booking", app.delete(&one), "r-cancel").await;
    assert_eq!(status, 503, "{body}");
    let list = app.get(&format!("{API}/appointments"));
    let (_, body, _) = run(&portal.booking, "booking", list, "r-list").await;
    let listed = body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "no second booking: {body}");
    assert_eq!(listed[0]["status"], "booked", "not cancelled: {body}");

    // Nothing stored by the cut-off requests (the list above added its own record).
    assert_eq!(portal.records(&patient.id).await.len(), before + 1);
}
