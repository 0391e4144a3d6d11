//! The stream handler: DynamoDB Stream batches of outbox records, partial batch failures.

use shared::booking::schedule::Slot;
use shared::booking::{BookingRepo, OutboxEvent};
use shared::domain::patient::PatientId;
use shared::store::{now_unix, Write};
use testkit::catalog::demo_text;
use testkit::stream::{image, record};

use super::*;

fn outbox_image(event: &OutboxEvent) -> Value {
    let Write::Put { item, .. } = event.write() else {
        unreachable!()
    };
    image(&item)
}

fn slot_of(availability: &Value) -> Slot {
    let start = chrono::DateTime::parse_from_rfc3339(availability["starts_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let end = chrono::DateTime::parse_from_rfc3339(availability["ends_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    Slot { start, end }
}

#[tokio::test]
async fn a_stream_batch_reports_only_its_failing_record_and_resends_nothing() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (early, late) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&early, 198, 53).await;
    p.book_confirmed(&late, &free[6], "late@example.org").await;
    let early_id = PatientId::parse(&early.id).unwrap();

    // A slot that frees up as far as the stream is concerned: the event is built the way the
    // booking transaction writes it (the slot is free: nobody booked it).
    let event = OutboxEvent::slot_freed(198, slot_of(&free[1]), &early_id, now_unix());
    let mut broken = outbox_image(&OutboxEvent::slot_freed(
        198,
        slot_of(&free[2]),
        &early_id,
        now_unix(),
    ));
    broken["kind"] = json!({ "S": "mystery" });
    let not_outbox = json!({ "pk": { "S": "PATIENT#x" }, "sk": { "S": "APPT#y" } });
    let batch = json!({ "Records": [
        record("100", "INSERT", outbox_image(&event)),
        record("200", "INSERT", broken),
        record("300", "INSERT", not_outbox),
        record("400", "REMOVE", outbox_image(&event)),
    ]});

    let result = p.asap.handle_event(batch.clone()).await.unwrap();
    assert_eq!(
        result,
        json!({ "batchItemFailures": [{ "itemIdentifier": "200" }] })
    );
    assert_eq!(mails(&p.outbox()).len(), 1);

    // Lambda retries from the failed record (the ones after it come again too): no email twice.
    let result = p.asap.handle_event(batch).await.unwrap();
    assert_eq!(result["batchItemFailures"].as_array().unwrap().len(), 1);
    assert_eq!(
        mails(&p.outbox()).len(),
        1,
        "the good record's email is not sent again"
    );

    // Not a stream batch at all: the invocation fails (the event source retries it).
    assert!(p
        .asap
        .handle_event(json!({ "Records": "nope" }))
        .await
        .is_err());
}

#[tokio::test]
async fn a_slot_taken_again_before_dispatch_is_not_offered() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (early, late, quick) = (
        ApiPatient::new(ctx),
        ApiPatient::new(ctx),
        ApiPatient::new(ctx),
    );
    let free = p.free(&early, 198, 53).await;
    p.book_confirmed(&late, &free[6], "late@example.org").await;
    p.book(&quick, &free[1], None).await;
    let early_id = PatientId::parse(&early.id).unwrap();
    let event = OutboxEvent::slot_freed(198, slot_of(&free[1]), &early_id, now_unix());
    let report = p
        .asap
        .notifier()
        .dispatch(&event, now_unix())
        .await
        .unwrap();
    assert_eq!(report.sent, 0);
    assert!(mails(&p.outbox()).is_empty());
}

#[tokio::test]
async fn a_catalog_load_that_adds_capacity_offers_each_subscriber_the_earliest_free_slot() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    // Fill every slot of type 199 (video, capacity 1, ASAP on) in the next days except... simply:
    // a subscriber books a late slot; raising capacity must offer them the earliest free slot.
    let waiter = ApiPatient::new(ctx);
    let free = p.free(&waiter, 199, 53).await;
    p.book_confirmed(&waiter, &free[5], "waiter@example.org")
        .await;
    let demo = demo_text();
    let more = demo.replacen(
        "slot_interval_minutes: 15\n      capacity: 1",
        "slot_interval_minutes: 15\n      capacity: 2",
        1,
    );
    assert_ne!(
        more, demo,
        "the demo catalog still has type 199 with capacity 1"
    );
    let events = BookingRepo::new(ctx.store.clone())
        .save_catalog(&catalog::parse(&more), now_unix())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].type_id, 199);
    p.asap
        .notifier()
        .dispatch(&events[0], now_unix())
        .await
        .unwrap();
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("To: <waiter@example.org>"));

    // Loading the same catalog again adds nothing.
    let events = BookingRepo::new(ctx.store.clone())
        .save_catalog(&catalog::parse(&more), now_unix())
        .await
        .unwrap();
    assert!(events.is_empty());
}
