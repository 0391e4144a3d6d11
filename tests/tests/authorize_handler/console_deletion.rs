//! Deleting an account from the account page: the password confirms it; upcoming appointments are
//! cancelled and their slots freed (with the outbox record for the ASAP list); apps lose access;
//! sessions end; the profile and the address are gone, so nobody signs in with them and the
//! address can register again; and the whole deletion touches only partitions the function's
//! role may use.

use serde_json::Value;
use shared::booking::BookingRepo;
use shared::domain::patient::PatientId;
use shared::keys::Role;
use shared::repo::PatientRepo;
use shared::store::layout::{
    ACCOUNT_INDEX_PREFIXES, ACCOUNT_ITEM_PREFIXES, ACCOUNT_QUERY_PREFIXES,
    AUTHORIZE_INDEX_PREFIXES, AUTHORIZE_KEY_PREFIXES,
};
use testkit::api::{body, book_request, call, days_ahead, ok, ApiPatient};
use testkit::catalog;

use super::console::{account_page, granted, post_form, signed_in, token_app};
use super::*;
use testkit::oauth::token_call;

/// The first free slot of the demo type from three days on.
async fn first_slot(app: &booking_fn::App, patient: &ApiPatient) -> Value {
    let page = ok(
        app,
        patient.get(&format!(
            "/availabilities?category_id={}&type_id={}&insurance_id={}&from={}",
            catalog::CATEGORY,
            catalog::TYPE,
            catalog::INSURANCE,
            days_ahead(3)
        )),
    )
    .await;
    page["data"][0].clone()
}

#[tokio::test]
async fn deleting_the_account_cancels_appointments_frees_slots_and_lets_the_address_register_again()
{
    let w = world().await;
    let store = w.ctx.store();
    let demo = catalog::load_demo(&store).await;
    catalog::save(&store, &catalog::with_capacity(&demo, catalog::TYPE, 1)).await;
    let booking = booking_fn::App::new(w.ctx.function(Role::Booking));
    let anna = ApiPatient::existing(&w.ctx.context, w.patient.id.as_str());
    let other = ApiPatient::new(&w.ctx.context);
    let slot = first_slot(&booking, &anna).await;
    let starts_at = slot["starts_at"].clone();
    let booked = call(
        &booking,
        anna.post("/booking", &book_request(slot["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(booked.status(), 201, "{}", body(&booked));
    let appointment = body(&booked)["id"].as_str().unwrap().to_owned();
    let taken = call(
        &booking,
        other.post("/booking", &book_request(slot["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(taken.status(), 409, "capacity 1: the slot is Anna's");

    // An app with a live grant.
    let (app, secret) = w.ctx.client_named("Termin-App", REDIRECT).await;
    let tokens = token_app(&w);
    let mut b = Browser::new(&w);
    let issued = granted(
        &mut b,
        &w,
        &app,
        &secret,
        "openid offline_access appointment_read",
    )
    .await;
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    let mut elsewhere = signed_in(&w).await;

    let wrong = post_form(
        &mut b,
        "/account/delete",
        &[("password", "not my password!")],
    )
    .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong.body.contains("id=\"delete_password-error\""),
        "{}",
        wrong.body
    );
    assert!(PatientRepo::new(store.clone())
        .get(&w.patient.id)
        .await
        .unwrap()
        .is_some());

    account_page(&mut b).await;
    w.ctx.counter.take_partitions();
    let token = account_page(&mut b).await.hidden("csrf_token");
    let deleted = b
        .post(
            "/account/delete",
            &[("csrf_token", &token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(deleted.body.contains(&shared::i18n::catalog::message(
        shared::i18n::Locale::ENGLISH,
        "console-deleted.title",
        &[]
    )));
    assert!(deleted
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("portal_session=;")));
    let touched = w.ctx.counter.take_partitions();
    assert!(
        touched.iter().any(|pk| pk.starts_with("OUTBOX#")),
        "{touched:?}"
    );
    let allowed: Vec<&str> = AUTHORIZE_KEY_PREFIXES
        .iter()
        .chain(&ACCOUNT_ITEM_PREFIXES)
        .chain(&ACCOUNT_QUERY_PREFIXES)
        .chain(&AUTHORIZE_INDEX_PREFIXES)
        .chain(&ACCOUNT_INDEX_PREFIXES)
        .copied()
        .collect();
    for pk in &touched {
        assert!(
            allowed.iter().any(|p| pk.starts_with(p)),
            "the deletion touched {pk}, which authorize's role may not"
        );
    }

    // The appointment is cancelled and its slot free again for someone else.
    let patient_id = PatientId::parse(w.patient.id.as_str()).unwrap();
    let stored = BookingRepo::new(store.clone())
        .appointment(
            &patient_id,
            &shared::booking::AppointmentId::parse(&appointment).unwrap(),
        )
        .await
        .unwrap();
    assert!(
        stored.is_none(),
        "the appointment record is gone with the account"
    );
    let slot = first_slot(&booking, &other).await;
    assert_eq!(slot["starts_at"], starts_at, "the slot is offered again");
    let rebooked = call(
        &booking,
        other.post("/booking", &book_request(slot["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(rebooked.status(), 201, "{}", body(&rebooked));

    // Apps and sessions.
    let (status, error) = token_call(
        &tokens,
        "/oauth/token",
        &app,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(elsewhere.get("/account").await.status, 303);

    // Nobody signs in with the old credentials; the address registers again.
    let mut again = Browser::new(&w);
    let page = again.get("/oauth/login?return=account").await;
    let refused = again
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("return", "account"),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let patients = PatientRepo::new(store.clone());
    assert!(patients.get(&w.patient.id).await.unwrap().is_none());
    assert!(patients
        .credentials_by_email(&w.patient.email)
        .await
        .unwrap()
        .is_none());
    assert!(patients
        .partition_keys(&w.patient.id, 10)
        .await
        .unwrap()
        .is_empty());
    let anew = testkit::patients::patient(EMAIL, None);
    patients.create(&anew, "$argon2id$new").await.unwrap();
}
