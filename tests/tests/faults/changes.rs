//! A booking, a cancellation and a reschedule whose storage write fails — refused, timed out, or
//! committed with its answer lost — and are then sent again exactly as they were, as a client does
//! after a 503: one appointment, the right final state, a clear answer, one mail per subscriber.

use serde_json::json;
use shared::store::faults::{Fault, Op};
use testkit::api::{body, book_request, call, header, ok};

use super::stack::{assert_unavailable, context, Adapter, Dispatch, Stack};

async fn booking_sent_again(adapter: Adapter) {
    let ctx = context(Dispatch::Inline);
    for fault in Fault::ALL {
        let s = Stack::new(&ctx, adapter).await;
        let patient = s.patient().await;
        let free = s.free(&patient).await;
        let request = book_request(free[0]["id"].as_str().unwrap());
        let booking = patient
            .post("/booking", &request)
            .header("idempotency-key", "booking-1");

        s.faults.fail_next(&[Op::Transact], fault);
        assert_unavailable(&call(&s.booking, booking.clone()).await);
        let again = call(&s.booking, booking.clone()).await;
        assert_eq!(again.status(), 201, "{fault}: {}", body(&again));
        let replayed = again.headers().get("idempotent-replayed").is_some();
        assert_eq!(replayed, fault == Fault::LostAnswer, "{fault}");
        let id = body(&again)["id"].as_str().unwrap().to_owned();

        // And once more: the same appointment, still.
        let third = call(&s.booking, booking).await;
        assert_eq!(body(&third)["id"], id.as_str(), "{fault}");
        let list = ok(&s.booking, patient.get("/appointments")).await;
        let ids: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()], "{fault}: exactly one appointment");
        s.assert_consistent(&[]).await;
    }
}

#[tokio::test]
async fn sqlite_a_booking_sent_again_with_its_idempotency_key_after_any_fault_is_one_appointment() {
    booking_sent_again(Adapter::Sqlite).await;
}

#[tokio::test]
async fn dynamo_a_booking_sent_again_with_its_idempotency_key_after_any_fault_is_one_appointment() {
    booking_sent_again(Adapter::Dynamo).await;
}

async fn cancel_sent_again(adapter: Adapter) {
    let ctx = context(Dispatch::Inline);
    for fault in Fault::ALL {
        let s = Stack::new(&ctx, adapter).await;
        let (patient, waiting) = (s.patient().await, s.patient().await);
        let free = s.free(&patient).await;
        let id = s.book(&patient, &free[0], false).await;
        s.book(&waiting, &free[5], true).await;
        let tag = s.etag(&patient, &id).await;
        let cancel = patient
            .delete(&format!("/appointments/{id}"))
            .header("if-match", &tag);

        s.faults.fail_next(&[Op::Transact], fault);
        assert_unavailable(&call(&s.booking, cancel.clone()).await);
        for attempt in ["again", "once more"] {
            let answer = call(&s.booking, cancel.clone()).await;
            assert_eq!(
                answer.status(),
                200,
                "{fault}, {attempt}: {}",
                body(&answer)
            );
            assert_eq!(body(&answer), json!({ "id": id }), "{fault}, {attempt}");
        }
        let current = ok(&s.booking, patient.get(&format!("/appointments/{id}"))).await;
        assert_eq!(current["status"], "cancelled", "{fault}");
        assert_eq!(
            s.mail.sent().len(),
            1,
            "{fault}: the waiting patient is told once about the freed slot"
        );
        s.assert_consistent(&[]).await;
    }
}

#[tokio::test]
async fn sqlite_a_cancel_sent_again_with_if_match_after_any_fault_ends_cancelled_and_answers_200() {
    cancel_sent_again(Adapter::Sqlite).await;
}

#[tokio::test]
async fn dynamo_a_cancel_sent_again_with_if_match_after_any_fault_ends_cancelled_and_answers_200() {
    cancel_sent_again(Adapter::Dynamo).await;
}

async fn reschedule_sent_again(adapter: Adapter) {
    let ctx = context(Dispatch::Inline);
    for fault in Fault::ALL {
        let s = Stack::new(&ctx, adapter).await;
        let (patient, waiting) = (s.patient().await, s.patient().await);
        let free = s.free(&patient).await;
        let id = s.book(&patient, &free[0], true).await;
        s.book(&waiting, &free[5], true).await;
        let tag = s.etag(&patient, &id).await;
        let target = &free[2];
        let reschedule = patient
            .put(
                &format!("/appointments/{id}"),
                &json!({ "availability_id": target["id"] }),
            )
            .header("if-match", &tag);

        s.faults.fail_next(&[Op::Transact], fault);
        assert_unavailable(&call(&s.booking, reschedule.clone()).await);
        for attempt in ["again", "once more"] {
            let answer = call(&s.booking, reschedule.clone()).await;
            assert_eq!(
                answer.status(),
                200,
                "{fault}, {attempt}: {}",
                body(&answer)
            );
            let moved = body(&answer);
            assert_eq!(moved["id"], id.as_str());
            assert_eq!(
                moved["starts_at"], target["starts_at"],
                "{fault}, {attempt}"
            );
            assert_eq!(moved["status"], "booked");
            // The tag of the state it answers, good for the next change.
            assert!(!header(&answer, "etag").is_empty());
        }
        let current = ok(&s.booking, patient.get(&format!("/appointments/{id}"))).await;
        assert_eq!(current["starts_at"], target["starts_at"], "{fault}");
        let left = s.free(&waiting).await;
        let offered = |slot: &serde_json::Value| {
            left.iter()
                .any(|free| free["starts_at"] == slot["starts_at"])
        };
        assert!(offered(&free[0]), "{fault}: the old slot is free again");
        assert!(!offered(target), "{fault}: the new slot is taken");
        assert_eq!(
            s.mail.sent().len(),
            1,
            "{fault}: one mail about the old slot"
        );
        s.assert_consistent(&[]).await;
    }
}

#[tokio::test]
async fn sqlite_a_reschedule_sent_again_with_if_match_after_any_fault_ends_moved_and_answers_200() {
    reschedule_sent_again(Adapter::Sqlite).await;
}

#[tokio::test]
async fn dynamo_a_reschedule_sent_again_with_if_match_after_any_fault_ends_moved_and_answers_200() {
    reschedule_sent_again(Adapter::Dynamo).await;
}
