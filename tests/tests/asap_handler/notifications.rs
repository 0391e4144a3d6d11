//! Who is emailed when a slot frees up on cancel or reschedule, and how many at most.

use shared::booking::repo::NewSubscription;
use shared::booking::{AppointmentId, BookingRepo};
use shared::domain::patient::PatientId;
use shared::store::now_unix;
use testkit::patients;

use super::*;

#[tokio::test]
async fn a_cancelled_slot_is_emailed_to_the_subscriber_whose_appointment_is_later() {
    let p = portal().await;
    let (early, late) = (
        ApiPatient::new(&p.ctx.context),
        ApiPatient::new(&p.ctx.context),
    );
    let free = p.free(&early, 198, 53).await;
    let first = p.book(&early, &free[0], None).await;
    let _waiting = p.book(&late, &free[6], Some("late@example.org")).await;
    assert!(mails(&p.outbox()).is_empty());

    p.cancel(&early, &first).await;

    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1, "exactly one email: {sent:?}");
    let mail = unfolded(&sent[0]);
    assert!(mail.contains("To: <late@example.org>"), "{mail}");
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(
        mail.contains(&catalog::spoken_start(&free[0], Locale::ENGLISH)),
        "names the freed time: {mail}"
    );
    assert!(
        mail.contains(&catalog::spoken_start(&free[6], Locale::ENGLISH)),
        "names the current appointment: {mail}"
    );
    assert!(mail.contains("(CET)") || mail.contains("(CEST)"), "{mail}");
    assert!(mail.contains("Content-Type: text/plain") && mail.contains("Content-Type: text/html"));
}

#[tokio::test]
async fn the_account_address_is_used_when_the_subscription_names_none() {
    let p = portal().await;
    // A subscriber with an account: the notifier reads its address.
    let email = format!(
        "{}@example.org",
        shared::crypto::random_id(10).to_lowercase()
    );
    let mut account = patients::patient(&email, None);
    account.email_verified = true;
    patients::register(&p.ctx.store(), &account, None).await;
    let late = ApiPatient::existing(&p.ctx.context, account.id.as_str());
    let early = ApiPatient::new(&p.ctx.context);
    let free = p.free(&early, 198, 53).await;
    let first = p.book(&early, &free[1], None).await;
    p.book(&late, &free[4], Some("")).await;
    p.cancel(&early, &first).await;
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains(&format!("To: <{email}>")), "{}", sent[0]);
}

#[tokio::test]
async fn nobody_is_emailed_when_asap_is_off_unsubscribed_or_the_freed_slot_is_later() {
    let p = portal().await;
    let ctx = &p.ctx.context;

    // Type 200 has no ASAP list: opting in is refused, and its cancellations send nothing.
    let (a, b) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let checkups = p.free(&a, 200, 54).await;
    let refused = call(
        &*p.booking,
        a.post(
            "/booking",
            &json!({ "availability_id": checkups[0]["id"], "insurance_id": 136, "asap_list_opt_in": true }),
        ),
    )
    .await;
    assert_eq!(status(&refused), 409);
    let checkup = p.book(&a, &checkups[0], None).await;
    let later_checkup = p.book(&b, &checkups[3], None).await;
    let response = call(
        &*p.asap,
        b.post(
            &format!("/appointments/{later_checkup}/asap_list"),
            &json!({}),
        ),
    )
    .await;
    assert_eq!(status(&response), 409, "{}", body(&response));
    assert_eq!(body(&response)["error"], "asap_unavailable");
    p.cancel(&a, &checkup).await;

    // Unsubscribed before the slot frees up.
    let (c, d) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&c, 198, 53).await;
    let early = p.book(&c, &free[0], None).await;
    let waiting = p.book(&d, &free[5], Some("d@example.org")).await;
    ok(
        &*p.asap,
        d.delete(&format!("/appointments/{waiting}/asap_list")),
    )
    .await;
    p.cancel(&c, &early).await;

    // The freed slot is later than the subscriber's own appointment.
    let (e, f) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&e, 198, 53).await;
    let _soon = p.book(&f, &free[0], Some("f@example.org")).await;
    let later = p.book(&e, &free[3], None).await;
    p.cancel(&e, &later).await;

    // A cancelled subscriber is not told either.
    let (g, h) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&g, 198, 53).await;
    let early = p.book(&g, &free[0], None).await;
    let gone = p.book(&h, &free[4], Some("h@example.org")).await;
    p.cancel(&h, &gone).await;
    p.cancel(&g, &early).await;

    assert!(mails(&p.outbox()).is_empty(), "{:?}", mails(&p.outbox()));
}

#[tokio::test]
async fn rescheduling_away_frees_the_slot_but_never_for_the_patient_who_moved() {
    let p = portal().await;
    let ctx = &p.ctx.context;
    let (mover, waiter) = (ApiPatient::new(ctx), ApiPatient::new(ctx));
    let free = p.free(&mover, 198, 53).await;
    // The mover is subscribed too, and moves to a later slot than the one they free.
    let moving = p.book(&mover, &free[0], Some("mover@example.org")).await;
    p.book(&waiter, &free[8], Some("waiter@example.org")).await;
    ok(
        &*p.booking,
        mover.put(
            &format!("/appointments/{moving}"),
            &json!({ "availability_id": free[4]["id"] }),
        ),
    )
    .await;
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("To: <waiter@example.org>"));
    assert!(unfolded(&sent[0]).contains(&catalog::spoken_start(&free[0], Locale::ENGLISH)));

    // The mover's subscription moved with the appointment: a slot freed before it reaches them.
    let other = ApiPatient::new(ctx);
    let more = p.free(&other, 198, 53).await;
    let before_mover = more
        .iter()
        .find(|a| a["starts_at"].as_str() < free[4]["starts_at"].as_str())
        .unwrap()
        .clone();
    let id = p.book(&other, &before_mover, None).await;
    p.cancel(&other, &id).await;
    let sent = mails(&p.outbox());
    assert_eq!(
        sent.len(),
        3,
        "both subscribers are later than the freed slot: {sent:?}"
    );
    assert!(sent.iter().any(|m| m.contains("To: <mover@example.org>")));
}

#[tokio::test]
async fn fan_out_is_bounded_and_serves_the_oldest_subscriptions_first() {
    let ctx = TestContext::with_env(&[("PORTAL_ASAP_FANOUT", "2")]);
    catalog::load_demo(&ctx.store()).await;
    let context = ctx.context.clone();
    let p = Portal::on(ctx);

    let freeing = ApiPatient::new(&context);
    let free = p.free(&freeing, 198, 53).await;
    let first = p.book(&freeing, &free[0], None).await;
    let repo = BookingRepo::new(context.store.clone());
    // Subscriber i subscribed i minutes ago... in reverse: w1 is the oldest subscription, but
    // its appointment is not the earliest, so order comes from `since`, not from the start.
    for i in 1..=4_i64 {
        let patient = ApiPatient::new(&context);
        let id = p.book(&patient, &free[11 - i as usize], None).await;
        let current = repo
            .appointment(
                &PatientId::parse(&patient.id).unwrap(),
                &AppointmentId::parse(&id).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        repo.set_subscription(
            &current,
            Some(NewSubscription {
                id: format!("sub{i}"),
                since: now_unix() - 1_000 + i * 10,
                email: Some(format!("w{}@example.org", 5 - i)),
            }),
            None,
            now_unix(),
        )
        .await
        .unwrap();
    }
    p.cancel(&freeing, &first).await;
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 2, "{sent:?}");
    // Oldest subscriptions (i = 1, 2) have the addresses w4 and w3.
    assert!(
        sent.iter().any(|m| m.contains("To: <w4@example.org>")),
        "{sent:?}"
    );
    assert!(
        sent.iter().any(|m| m.contains("To: <w3@example.org>")),
        "{sent:?}"
    );
}
