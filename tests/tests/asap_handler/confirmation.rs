//! ASAP addresses other than the account address: one confirmation mail, the link's page and
//! its two buttons, "this wasn't me", and the daily limits a book/cancel loop cannot get past.

use shared::asap::limits::{
    CONFIRMATIONS_PER_ADDRESS_PER_DAY, NOTIFICATIONS_PER_SUBSCRIPTION_PER_DAY,
};
use testkit::{patients, Event};

use super::*;

/// A registered patient with a verified account address.
async fn account(p: &Portal) -> (ApiPatient, String) {
    let email = format!(
        "{}@example.org",
        shared::crypto::random_id(10).to_lowercase()
    );
    let mut account = patients::patient(&email, None);
    account.email_verified = true;
    patients::register(&p.ctx.store(), &account, None).await;
    (
        ApiPatient::existing(&p.ctx.context, account.id.as_str()),
        email,
    )
}

fn to(mails: &[String], address: &str) -> usize {
    mails
        .iter()
        .filter(|m| m.contains(&format!("To: <{address}>")))
        .count()
}

#[tokio::test]
async fn an_unconfirmed_address_gets_one_link_and_notifications_go_to_the_account_until_it_is_confirmed(
) {
    let p = portal().await;
    let (subscriber, own) = account(&p).await;
    let other = ApiPatient::new(&p.ctx.context);
    let free = p.free(&other, 198, 53).await;
    let id = p
        .book(&subscriber, &free[8], Some("friend@example.org"))
        .await;
    let shown = ok(&*p.booking, subscriber.get(&format!("/appointments/{id}"))).await;
    assert_eq!(
        shown["asap_list"],
        json!({ "subscribed": true, "email": "friend@example.org", "email_confirmed": false })
    );
    let sent = mails(&p.outbox());
    assert_eq!(sent.len(), 1, "{sent:?}");
    let mail = unfolded(&sent[0]);
    assert!(mail.contains("To: <friend@example.org>"), "{mail}");
    assert!(
        mail.contains("Demo Practice Dr. Berg"),
        "names the institution: {mail}"
    );
    assert!(!mail.contains("List-Unsubscribe"), "{mail}");

    // The page (GET) acts on nothing: it names who asked and offers both answers.
    let (path, mail) = confirmation_mail(&p.outbox(), "friend@example.org");
    std::fs::remove_file(path).unwrap();
    let link = path_and_query(&confirmation_link(&mail));
    let page = call(&*p.asap, Event::get(&link)).await;
    assert_eq!(status(&page), 200);
    let html = page_text(&page);
    assert!(html.contains("Demo Practice Dr. Berg"), "{html}");
    assert!(html.contains("friend@example.org"), "{html}");
    assert!(html.contains(r#"value="confirm""#) && html.contains(r#"value="not_me""#));
    assert!(html.contains("This wasn"), "{html}");

    // Until confirmed, a freed slot is told to the account address.
    let first = p.book(&other, &free[0], None).await;
    p.cancel(&other, &first).await;
    let sent = mails(&p.outbox());
    assert_eq!(
        (to(&sent, &own), to(&sent, "friend@example.org")),
        (1, 0),
        "{sent:?}"
    );
    for file in std::fs::read_dir(p.outbox()).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }

    // Confirmed (once), the address gets them.
    let done = call(&*p.asap, Event::post(&link).form(&[("action", "confirm")])).await;
    assert_eq!(status(&done), 200, "{}", page_text(&done));
    let again = call(&*p.asap, Event::post(&link).form(&[("action", "confirm")])).await;
    assert_eq!(status(&again), 410);
    let shown = ok(&*p.booking, subscriber.get(&format!("/appointments/{id}"))).await;
    assert_eq!(shown["asap_list"]["email_confirmed"], true);
    let first = p.book(&other, &free[1], None).await;
    p.cancel(&other, &first).await;
    let sent = mails(&p.outbox());
    assert_eq!(
        (to(&sent, &own), to(&sent, "friend@example.org")),
        (0, 1),
        "{sent:?}"
    );

    // A forged link is refused with a page, not an error trace.
    let forged = call(&*p.asap, Event::get("/asap/confirm?token=nope")).await;
    assert_eq!(status(&forged), 400);
}

#[tokio::test]
async fn the_account_address_is_confirmed_without_a_mail() {
    let p = portal().await;
    let (subscriber, own) = account(&p).await;
    let free = p.free(&subscriber, 198, 53).await;
    let id = p
        .book(&subscriber, &free[3], Some(&own.to_uppercase()))
        .await;
    let shown = ok(&*p.booking, subscriber.get(&format!("/appointments/{id}"))).await;
    assert_eq!(shown["asap_list"]["email_confirmed"], true, "{shown}");
    assert!(mails(&p.outbox()).is_empty());
}

#[tokio::test]
async fn this_wasnt_me_stops_further_confirmation_mails_to_the_address() {
    let p = portal().await;
    let stranger = ApiPatient::new(&p.ctx.context);
    let free = p.free(&stranger, 198, 53).await;
    p.book(&stranger, &free[2], Some("victim@example.org"))
        .await;
    let (path, mail) = confirmation_mail(&p.outbox(), "victim@example.org");
    std::fs::remove_file(path).unwrap();
    let link = path_and_query(&confirmation_link(&mail));
    let declined = call(&*p.asap, Event::post(&link).form(&[("action", "not_me")])).await;
    assert_eq!(status(&declined), 200);
    assert!(page_text(&declined).contains("30 days"));

    let another = ApiPatient::new(&p.ctx.context);
    p.book(&another, &free[4], Some("victim@example.org")).await;
    assert!(mails(&p.outbox()).is_empty(), "blocked");
}

#[tokio::test]
async fn a_book_and_cancel_loop_by_a_second_account_stays_within_the_daily_limits() {
    let p = portal().await;
    let (subscriber, own) = account(&p).await;
    let attacker = ApiPatient::new(&p.ctx.context);
    let free = p.free(&attacker, 198, 53).await;
    p.book(&subscriber, &free[10], Some("")).await;
    for round in 0..6 {
        // Each booking names the victim's address; each cancel frees an earlier slot.
        let id = p
            .book(&attacker, &free[round % 2], Some("victim@example.org"))
            .await;
        p.cancel(&attacker, &id).await;
    }
    let sent = mails(&p.outbox());
    assert_eq!(
        to(&sent, "victim@example.org"),
        CONFIRMATIONS_PER_ADDRESS_PER_DAY as usize,
        "{sent:?}"
    );
    assert_eq!(
        to(&sent, &own),
        NOTIFICATIONS_PER_SUBSCRIPTION_PER_DAY as usize,
        "{sent:?}"
    );
}
