//! Second factors on both stores: an enrolment is all or nothing, each TOTP step is accepted once
//! (also when twenty requests race with the same code), each recovery code is used once, and
//! removal leaves nothing behind.

use shared::domain::patient::PatientId;
use shared::domain::recovery_codes;
use shared::domain::totp::{step_of, TotpSecret};
use shared::repo::{EnrolError, SecondFactorRepo};
use shared::store::now_unix;

use super::races::race;
use super::support::*;

fn hashes() -> (Vec<String>, Vec<String>) {
    let codes = recovery_codes::generate();
    let hashes = codes
        .iter()
        .map(|code| recovery_codes::hash(code).unwrap())
        .collect();
    (codes, hashes)
}

pub(super) async fn an_enrolment_is_all_or_nothing_and_happens_once(store: S) {
    let repo = SecondFactorRepo::new(store.clone());
    let patient = PatientId::generate();
    let secret = TotpSecret::generate();
    let step = step_of(now_unix());
    let (_, codes) = hashes();
    repo.enrol(&patient, &secret, step, &codes).await.unwrap();
    assert_eq!(repo.totp(&patient).await.unwrap().unwrap().secret, secret);
    assert_eq!(repo.recovery_codes_left(&patient).await.unwrap(), 10);

    // A second enrolment fails on its first write and leaves its other codes unwritten.
    let (_, other_codes) = hashes();
    let again = repo
        .enrol(&patient, &TotpSecret::generate(), step + 1, &other_codes)
        .await;
    assert!(
        matches!(again, Err(EnrolError::AlreadyEnrolled)),
        "{again:?}"
    );
    assert_eq!(repo.totp(&patient).await.unwrap().unwrap().secret, secret);
    assert_eq!(repo.recovery_codes_left(&patient).await.unwrap(), 10);
    assert!(!repo
        .use_recovery_code(&patient, &other_codes[0])
        .await
        .unwrap());

    // An enrolment whose code's step was used writes nothing at all.
    let bert = PatientId::generate();
    assert!(repo.accept_step(&bert, step).await.unwrap());
    let replayed = repo.enrol(&bert, &secret, step, &codes).await;
    assert!(
        matches!(replayed, Err(EnrolError::StepUsed)),
        "{replayed:?}"
    );
    assert!(repo.totp(&bert).await.unwrap().is_none());
    assert_eq!(repo.recovery_codes_left(&bert).await.unwrap(), 0);
}

pub(super) async fn each_totp_step_is_accepted_once_even_when_twenty_requests_race(store: S) {
    let repo = SecondFactorRepo::new(store.clone());
    let patient = PatientId::generate();
    let step = step_of(now_unix());
    let results = race(&store, |_, store| {
        let patient = patient.clone();
        async move {
            SecondFactorRepo::new(store)
                .accept_step(&patient, step)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(results.iter().filter(|accepted| **accepted).count(), 1);
    // Replays and older steps are refused; the next step passes; other patients are untouched.
    assert!(!repo.accept_step(&patient, step).await.unwrap());
    assert!(!repo.accept_step(&patient, step - 1).await.unwrap());
    assert!(repo.accept_step(&patient, step + 1).await.unwrap());
    assert!(repo
        .accept_step(&PatientId::generate(), step)
        .await
        .unwrap());
}

pub(super) async fn each_recovery_code_is_used_once_and_removal_leaves_nothing(store: S) {
    let repo = SecondFactorRepo::new(store.clone());
    let patient = PatientId::generate();
    let (_, codes) = hashes();
    repo.enrol(
        &patient,
        &TotpSecret::generate(),
        step_of(now_unix()),
        &codes,
    )
    .await
    .unwrap();
    let first = codes[0].clone();
    let results = race(&store, |_, store| {
        let (patient, first) = (patient.clone(), first.clone());
        async move {
            SecondFactorRepo::new(store)
                .use_recovery_code(&patient, &first)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(results.iter().filter(|used| **used).count(), 1);
    assert_eq!(repo.recovery_codes_left(&patient).await.unwrap(), 9);
    assert!(!repo
        .use_recovery_code(&PatientId::generate(), &codes[1])
        .await
        .unwrap());

    assert!(repo.remove(&patient).await.unwrap());
    assert!(repo.totp(&patient).await.unwrap().is_none());
    assert_eq!(repo.recovery_codes_left(&patient).await.unwrap(), 0);
    assert!(!repo.use_recovery_code(&patient, &codes[1]).await.unwrap());
    assert!(!repo.remove(&patient).await.unwrap());
}
