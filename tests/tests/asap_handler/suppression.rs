//! SES bounce and complaint notifications (SNS deliveries to the `asap` function) suppress an
//! address: it gets no further ASAP notification or confirmation mail.

use shared::store::layout;
use testkit::ses::{self, Feedback};

use super::*;

fn unique_address(name: &str) -> String {
    format!(
        "{name}-{}@example.org",
        shared::crypto::random_id(10).to_lowercase()
    )
}

async fn suppression_reason(p: &Portal, address: &str) -> Option<String> {
    let item = p
        .ctx
        .store()
        .get(&layout::suppressed(address))
        .await
        .unwrap()?;
    item.get("reason")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Frees a slot before `free[5..]` (booked and cancelled by a patient of its own).
async fn free_a_slot(p: &Portal, slot: &Value) {
    let other = ApiPatient::new(&p.ctx.context);
    let id = p.book(&other, slot, None).await;
    p.cancel(&other, &id).await;
}

fn clear(dir: &Path) {
    for file in std::fs::read_dir(dir).into_iter().flatten() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }
}

#[tokio::test]
async fn a_hard_bounce_stops_the_notifications_to_a_confirmed_address() {
    let p = portal().await;
    let address = unique_address("bouncy");
    let subscriber = ApiPatient::new(&p.ctx.context);
    let free = p.free(&subscriber, 198, 53).await;
    p.book_confirmed(&subscriber, &free[8], &address).await;
    free_a_slot(&p, &free[0]).await;
    assert_eq!(mails(&p.outbox()).len(), 1, "notified before the bounce");
    clear(&p.outbox());

    let event = ses::notification(Feedback::HardBounce, "no-reply@portal.example", &address);
    assert!(p.asap.claims(&event));
    let result = p.asap.handle_event(event).await.unwrap();
    assert_eq!(result, json!({ "suppressed": 1 }));
    assert_eq!(
        suppression_reason(&p, &address).await.as_deref(),
        Some("bounce")
    );
    // Case does not make another mailbox.
    assert!(suppression_reason(&p, &address.to_uppercase())
        .await
        .is_some());

    free_a_slot(&p, &free[1]).await;
    assert!(mails(&p.outbox()).is_empty(), "{:?}", mails(&p.outbox()));
}

#[tokio::test]
async fn a_complaint_stops_confirmation_mails_to_the_address() {
    let p = portal().await;
    let address = unique_address("complainer");
    let event = ses::notification(Feedback::Complaint, "no-reply@portal.example", &address);
    let result = p.asap.handle_event(event).await.unwrap();
    assert_eq!(result, json!({ "suppressed": 1 }));
    assert_eq!(
        suppression_reason(&p, &address).await.as_deref(),
        Some("complaint")
    );

    let subscriber = ApiPatient::new(&p.ctx.context);
    let free = p.free(&subscriber, 198, 53).await;
    let id = p.book(&subscriber, &free[4], Some(&address)).await;
    assert!(mails(&p.outbox()).is_empty(), "{:?}", mails(&p.outbox()));
    let shown = ok(&*p.booking, subscriber.get(&format!("/appointments/{id}"))).await;
    assert_eq!(shown["asap_list"]["email_confirmed"], false);
    // Another address of the same subscriber is still asked.
    let other = unique_address("fine");
    let response = call(
        &*p.asap,
        subscriber.post(
            &format!("/appointments/{id}/asap_list"),
            &json!({ "email": other }),
        ),
    )
    .await;
    assert_eq!(status(&response), 200, "{}", page_text(&response));
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(&format!("To: <{other}>")));
}

#[tokio::test]
async fn soft_bounces_deliveries_and_foreign_messages_suppress_nothing() {
    let p = portal().await;
    let address = unique_address("fullbox");
    let sender = "no-reply@portal.example";
    for event in [
        ses::notification(Feedback::SoftBounce, sender, &address),
        ses::notification(Feedback::Delivery, sender, &address),
        ses::sns_event(&json!({ "hello": "world" })),
        ses::sns_event(&json!("not an SES event")),
    ] {
        let result = p.asap.handle_event(event).await.unwrap();
        assert_eq!(result, json!({ "suppressed": 0 }));
    }
    assert_eq!(suppression_reason(&p, &address).await, None);

    // Still mailed.
    let subscriber = ApiPatient::new(&p.ctx.context);
    let free = p.free(&subscriber, 198, 53).await;
    p.book(&subscriber, &free[2], Some(&address)).await;
    assert_eq!(mails(&p.outbox()).len(), 1);
}
