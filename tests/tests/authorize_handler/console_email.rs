//! Changing the address on the account page: the password confirms the request, the link goes to
//! the new address, its GET only shows a button, its POST moves the account once, the old
//! address is told, and a taken address or a used link changes nothing.

use shared::domain::patient::Email;
use shared::repo::PatientRepo;

use super::accounts::link_in;
use super::console::{post_form, signed_in};
use super::*;

const NEW: &str = "anna.neu@example.org";

#[tokio::test]
async fn a_new_address_is_used_once_its_mailed_link_is_posted_and_the_old_one_is_told() {
    let w = world().await;
    let mut b = signed_in(&w).await;
    let wrong = post_form(
        &mut b,
        "/account/email",
        &[("new_email", NEW), ("password", "not my password!")],
    )
    .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.body.contains("id=\"email_password-error\""));
    let invalid = post_form(
        &mut b,
        "/account/email",
        &[("new_email", "not an address"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(invalid.status, 400);
    assert!(invalid.body.contains("id=\"new_email-error\""));
    assert!(w.ctx.mails_to(NEW).is_empty(), "nothing mailed yet");

    let sent = post_form(
        &mut b,
        "/account/email",
        &[("new_email", NEW), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(sent.next_path(), "/account?done=email-sent");
    let mail = w
        .ctx
        .mails_to(NEW)
        .pop()
        .expect("the link goes to the new address");
    let link = link_in(&mail, "/account/email/confirm?token=");

    // A mail scanner's GET changes nothing.
    let mut other_device = Browser::new(&w);
    let page = other_device.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(NEW));
    let patients = PatientRepo::new(w.ctx.store());
    assert_eq!(
        patients
            .get(&w.patient.id)
            .await
            .unwrap()
            .unwrap()
            .email
            .as_str(),
        EMAIL
    );
    let token = page.hidden("token");
    let changed = other_device
        .post(
            "/account/email/confirm",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("token", &token),
            ],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let patient = patients.get(&w.patient.id).await.unwrap().unwrap();
    assert_eq!(patient.email.as_str(), NEW);
    assert!(patient.email_verified);
    assert!(patients
        .credentials_by_email(&Email::parse(EMAIL).unwrap())
        .await
        .unwrap()
        .is_none());
    let credentials = patients
        .credentials_by_email(&Email::parse(NEW).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(credentials.patient_id, w.patient.id);
    let notice = w
        .ctx
        .mails_to(EMAIL)
        .pop()
        .expect("the old address is told");
    assert!(notice.contains("/account/password/forgot"), "{notice}");

    // Used once: again it changes nothing and says so.
    let again = other_device
        .post(
            "/account/email/confirm",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("token", &token),
            ],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("role=\"alert\""));
    let forged = other_device
        .get("/account/email/confirm?token=forged")
        .await;
    assert_eq!(forged.status, 400);
}

#[tokio::test]
async fn an_address_another_account_took_meanwhile_is_refused() {
    let w = world().await;
    let mut b = signed_in(&w).await;
    let sent = post_form(
        &mut b,
        "/account/email",
        &[("new_email", NEW), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let mail = w.ctx.mails_to(NEW).pop().unwrap();
    let link = link_in(&mail, "/account/email/confirm?token=");
    let mut bea = patients::patient(NEW, None);
    bea.email_verified = true;
    patients::register(&w.ctx.store(), &bea, Some(PASSWORD)).await;
    let page = b.get(&link).await;
    let taken = b
        .post(
            "/account/email/confirm",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("token", &page.hidden("token")),
            ],
        )
        .await;
    assert_eq!(taken.status, 400, "{}", taken.body);
    let patient = PatientRepo::new(w.ctx.store())
        .get(&w.patient.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patient.email.as_str(), EMAIL, "unchanged");
}
