//! Patient accounts on both stores: registration (and its race), verification, password
//! replacement, sessions bound to the credentials they were started with, email change, deletion
//! and the operators' list.

use std::time::Duration;

use shared::domain::patient::{BirthDate, Email, Name, Patient, Phone};
use shared::repo::{Credentials, EmailChange, PatientRepo, RepoError, SessionRepo, Verification};
use shared::store::{layout, now_unix};

use super::races::race;
use super::support::*;

fn patient(email: &str) -> Patient {
    Patient::new(
        Email::parse(email).unwrap(),
        Name::parse("Anna", "first name").unwrap(),
        Name::parse("Muster", "last name").unwrap(),
        BirthDate::parse("1985-02-28").unwrap(),
        None,
    )
}

async fn credentials(patients: &PatientRepo, email: &str) -> Credentials {
    patients
        .credentials_by_email(&Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{email} is registered"))
}

pub(super) async fn a_registration_is_unverified_and_expiring_and_its_address_registers_once(
    store: S,
) {
    let patients = PatientRepo::new(store.clone());
    let anna = patient("Anna@Example.org");
    patients.create(&anna, "hash-1").await.unwrap();
    let stored = credentials(&patients, "anna@example.ORG").await;
    assert_eq!(stored.patient_id, anna.id);
    assert!(!stored.email_verified);
    let profile = get(&store, &layout::patient_profile(anna.id.as_str()))
        .await
        .unwrap();
    assert!(
        profile.expires_at.is_some_and(|at| at > now_unix()),
        "an unverified registration expires by itself"
    );
    let again = patients
        .create(&patient("ANNA@example.org"), "hash-2")
        .await;
    assert!(matches!(again, Err(RepoError::AlreadyExists)), "{again:?}");
    let (listed, _) = patients.list(10, None).await.unwrap();
    assert_eq!(listed, vec![anna], "the second registration wrote nothing");
}

pub(super) async fn twenty_concurrent_registrations_of_one_address_make_exactly_one_account(
    store: S,
) {
    for round in 0..5 {
        let email = format!("race{round}@example.org");
        let results = race(&store, |i, store| {
            let email = email.clone();
            async move {
                // Letter case differs between racers: the address is one all the same.
                let email = if i % 2 == 0 {
                    email.to_uppercase()
                } else {
                    email
                };
                let candidate = patient(&email);
                let outcome = PatientRepo::new(store)
                    .create(&candidate, &format!("hash-{i}"))
                    .await;
                (candidate.id, outcome)
            }
        })
        .await;
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for (_, outcome) in &results {
            assert!(
                matches!(outcome, Ok(()) | Err(RepoError::AlreadyExists)),
                "{outcome:?}"
            );
        }
        let patients = PatientRepo::new(store.clone());
        let stored = credentials(&patients, &email).await;
        assert_eq!(&stored.patient_id, &winners[0].0, "round {round}");
        for (id, outcome) in &results {
            if outcome.is_err() {
                assert!(
                    patients.get(id).await.unwrap().is_none(),
                    "no orphan profile"
                );
            }
        }
    }
}

pub(super) async fn verification_verifies_once_and_a_link_for_another_address_changes_nothing(
    store: S,
) {
    let patients = PatientRepo::new(store.clone());
    let anna = patient("anna@example.org");
    patients.create(&anna, "hash-1").await.unwrap();
    let elsewhere = Email::parse("anna@elsewhere.org").unwrap();
    assert_eq!(
        patients.mark_verified(&anna.id, &elsewhere).await.unwrap(),
        Verification::Stale
    );
    assert!(
        !credentials(&patients, "anna@example.org")
            .await
            .email_verified
    );
    assert_eq!(
        patients.mark_verified(&anna.id, &anna.email).await.unwrap(),
        Verification::Verified
    );
    assert_eq!(
        patients.mark_verified(&anna.id, &anna.email).await.unwrap(),
        Verification::AlreadyVerified
    );
    assert!(
        credentials(&patients, "anna@example.org")
            .await
            .email_verified
    );
    assert!(
        patients
            .get(&anna.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    for key in [
        layout::patient_profile(anna.id.as_str()),
        layout::email_index(&anna.email.lookup_key()),
    ] {
        assert_eq!(get(&store, &key).await.unwrap().expires_at, None, "{key}");
    }
    let gone = patient("gone@example.org");
    assert_eq!(
        patients.mark_verified(&gone.id, &gone.email).await.unwrap(),
        Verification::Stale,
        "an account that does not exist"
    );
}

pub(super) async fn a_password_is_replaced_once_per_credentials_and_a_reset_proves_the_mailbox(
    store: S,
) {
    let patients = PatientRepo::new(store.clone());
    let anna = patient("anna@example.org");
    patients.create(&anna, "hash-1").await.unwrap();
    let before = credentials(&patients, "anna@example.org").await;
    patients
        .replace_password(&before, "hash-2", true)
        .await
        .unwrap();
    let after = credentials(&patients, "anna@example.org").await;
    assert_eq!(after.password_hash, "hash-2");
    assert!(after.email_verified, "a reset link proves the mailbox");
    assert!(
        patients
            .get(&anna.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    let twice = patients.replace_password(&before, "hash-3", true).await;
    assert!(matches!(twice, Err(RepoError::NotFound)), "{twice:?}");
    patients
        .replace_password(&after, "hash-4", false)
        .await
        .unwrap();
    assert_eq!(
        credentials(&patients, "anna@example.org")
            .await
            .password_hash,
        "hash-4"
    );
}

pub(super) async fn only_a_still_unverified_account_is_replaced_by_its_mailbox_owner(store: S) {
    let patients = PatientRepo::new(store.clone());
    let squatter = patient("owner@example.org");
    patients.create(&squatter, "squatter-hash").await.unwrap();
    let squatted = credentials(&patients, "owner@example.org").await;
    let fresh = || {
        let mut owner = Patient::new(
            Email::parse("Owner@example.org").unwrap(),
            Name::parse("Olga", "first name").unwrap(),
            Name::parse("Owner", "last name").unwrap(),
            BirthDate::parse("1970-01-01").unwrap(),
            None,
        );
        owner.email_verified = true;
        owner
    };

    // Of racing claims with the same credentials, exactly one replaces the account.
    let results = race(&store, |i, store| {
        let squatted = squatted.clone();
        let owner = fresh();
        async move {
            let outcome = PatientRepo::new(store)
                .replace_unverified(&squatted, &owner, &format!("owner-hash-{i}"))
                .await;
            (owner, outcome)
        }
    })
    .await;
    let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for (_, outcome) in &results {
        assert!(
            matches!(outcome, Ok(()) | Err(RepoError::NotFound)),
            "{outcome:?}"
        );
    }
    let owner = winners[0].0.clone();
    let stored = credentials(&patients, "owner@example.org").await;
    assert_eq!(stored.patient_id, owner.id);
    assert!(stored.email_verified);
    assert_eq!(patients.get(&owner.id).await.unwrap(), Some(owner.clone()));
    assert!(
        patients.get(&squatter.id).await.unwrap().is_none(),
        "the squatter's profile is gone"
    );
    for key in [
        layout::patient_profile(owner.id.as_str()),
        layout::email_index("owner@example.org"),
    ] {
        let item = get(&store, &key).await.unwrap();
        assert_eq!(item.expires_at, None, "a verified account never expires");
    }
    for (loser, _) in results.iter().filter(|(_, r)| r.is_err()) {
        assert!(
            patients.get(&loser.id).await.unwrap().is_none(),
            "nothing half-written"
        );
    }
    let (listed, _) = patients.list(10, None).await.unwrap();
    assert_eq!(listed, vec![owner.clone()]);

    // A verified account is never replaced, even with its current credentials.
    let verified = patient("verified@example.org");
    patients.create(&verified, "hash-v").await.unwrap();
    let before = credentials(&patients, "verified@example.org").await;
    assert_eq!(
        patients
            .mark_verified(&verified.id, &verified.email)
            .await
            .unwrap(),
        Verification::Verified
    );
    let mut claimer = patient("verified@example.org");
    claimer.email_verified = true;
    let refused = patients
        .replace_unverified(&before, &claimer, "hash-c")
        .await;
    assert!(matches!(refused, Err(RepoError::NotFound)), "{refused:?}");
    assert_eq!(
        credentials(&patients, "verified@example.org")
            .await
            .patient_id,
        verified.id
    );
    assert!(patients.get(&claimer.id).await.unwrap().is_none());
}

pub(super) async fn sessions_need_current_credentials_and_end_all_ends_every_other_one(store: S) {
    let patients = PatientRepo::new(store.clone());
    let sessions = SessionRepo::new(store.clone());
    let mut anna = patient("anna@example.org");
    anna.email_verified = true;
    patients.create(&anna, "hash-1").await.unwrap();
    let current = credentials(&patients, "anna@example.org").await;
    let hour = Duration::from_secs(3600);
    let mut sids = Vec::new();
    for _ in 0..4 {
        sids.push(sessions.create(&current, now_unix(), hour).await.unwrap());
    }
    let bert = patient("bert@example.org");
    patients.create(&bert, "hash-b").await.unwrap();
    let berts = credentials(&patients, "bert@example.org").await;
    let other = sessions.create(&berts, now_unix(), hour).await.unwrap();

    let ended = sessions.end_all(&anna.id, Some(&sids[0])).await.unwrap();
    assert_eq!(ended, 3);
    assert!(sessions.get(&sids[0]).await.unwrap().is_some(), "kept");
    for sid in &sids[1..] {
        assert!(sessions.get(sid).await.unwrap().is_none());
    }
    assert!(
        sessions.get(&other).await.unwrap().is_some(),
        "another patient's session"
    );
    assert_eq!(sessions.end_all(&anna.id, None).await.unwrap(), 1);
    assert!(sessions.get(&sids[0]).await.unwrap().is_none());

    patients
        .replace_password(&current, "hash-2", false)
        .await
        .unwrap();
    let stale = sessions.create(&current, now_unix(), hour).await;
    assert!(
        matches!(stale, Err(RepoError::NotFound)),
        "a sign-in checked against the old password lost to the change: {stale:?}"
    );
}

pub(super) async fn an_email_change_moves_the_index_unless_taken_or_stale(store: S) {
    let patients = PatientRepo::new(store.clone());
    let mut anna = patient("anna@example.org");
    anna.email_verified = true;
    patients.create(&anna, "hash-1").await.unwrap();
    patients
        .create(&patient("taken@example.org"), "hash-t")
        .await
        .unwrap();
    let current = credentials(&patients, "anna@example.org").await;
    let taken = Email::parse("TAKEN@example.org").unwrap();
    assert_eq!(
        patients.change_email(&current, &taken).await.unwrap(),
        EmailChange::Taken
    );
    let new = Email::parse("anna.new@example.org").unwrap();
    assert_eq!(
        patients.change_email(&current, &new).await.unwrap(),
        EmailChange::Changed
    );
    assert!(patients
        .credentials_by_email(&current.email)
        .await
        .unwrap()
        .is_none());
    let moved = credentials(&patients, "anna.new@example.org").await;
    assert_eq!(
        (&moved.patient_id, moved.password_hash.as_str()),
        (&anna.id, "hash-1")
    );
    assert_eq!(patients.get(&anna.id).await.unwrap().unwrap().email, new);
    assert_eq!(
        patients
            .change_email(&current, &Email::parse("third@example.org").unwrap())
            .await
            .unwrap(),
        EmailChange::Stale,
        "a second link decided on the old address"
    );
    let recased = Email::parse("Anna.New@Example.org").unwrap();
    assert_eq!(
        patients.change_email(&moved, &recased).await.unwrap(),
        EmailChange::Changed
    );
    assert_eq!(
        credentials(&patients, "anna.new@example.org").await.email,
        recased
    );
}

pub(super) async fn a_profile_update_replaces_names_birth_date_and_phone_of_existing_accounts(
    store: S,
) {
    let patients = PatientRepo::new(store.clone());
    let anna = patient("anna@example.org");
    patients.create(&anna, "hash-1").await.unwrap();
    let (first, last) = (
        Name::parse("Anne", "first name").unwrap(),
        Name::parse("Beispiel", "last name").unwrap(),
    );
    let born = BirthDate::parse("1990-01-31").unwrap();
    let phone = Phone::parse("+49 30 1234567").unwrap();
    patients
        .update_profile(&anna.id, &first, &last, born, Some(&phone))
        .await
        .unwrap();
    let stored = patients.get(&anna.id).await.unwrap().unwrap();
    assert_eq!(
        (
            &stored.first_name,
            &stored.last_name,
            stored.birth_date,
            &stored.phone
        ),
        (&first, &last, born, &Some(phone))
    );
    patients
        .update_profile(&anna.id, &first, &last, born, None)
        .await
        .unwrap();
    assert_eq!(patients.get(&anna.id).await.unwrap().unwrap().phone, None);
    let (listed, _) = patients.list(10, None).await.unwrap();
    assert_eq!(listed[0].first_name, first, "the index item follows");
    let nobody = patient("nobody@example.org");
    let missing = patients
        .update_profile(&nobody.id, &first, &last, born, None)
        .await;
    assert!(matches!(missing, Err(RepoError::NotFound)), "{missing:?}");
    assert!(patients.get(&nobody.id).await.unwrap().is_none());
}

pub(super) async fn a_deleted_account_leaves_nothing_and_its_address_registers_again(store: S) {
    let patients = PatientRepo::new(store.clone());
    let sessions = SessionRepo::new(store.clone());
    let mut anna = patient("anna@example.org");
    anna.email_verified = true;
    patients.create(&anna, "hash-1").await.unwrap();
    let current = credentials(&patients, "anna@example.org").await;
    let sid = sessions
        .create(&current, now_unix(), Duration::from_secs(3600))
        .await
        .unwrap();
    let keys = patients.partition_keys(&anna.id, 50).await.unwrap();
    assert_eq!(keys.len(), 1, "the session list entry: {keys:?}");
    sessions.end_all(&anna.id, None).await.unwrap();
    patients.delete_keys(keys).await.unwrap();
    assert!(patients
        .partition_keys(&anna.id, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(sessions.get(&sid).await.unwrap().is_none());

    let changed = Credentials {
        password_hash: "hash-other".into(),
        ..current.clone()
    };
    let stale = patients.delete(&changed).await;
    assert!(matches!(stale, Err(RepoError::NotFound)), "{stale:?}");
    assert!(patients.get(&anna.id).await.unwrap().is_some());
    patients.delete(&current).await.unwrap();
    assert!(patients.get(&anna.id).await.unwrap().is_none());
    assert!(patients
        .credentials_by_email(&anna.email)
        .await
        .unwrap()
        .is_none());
    assert!(patients.list(10, None).await.unwrap().0.is_empty());
    patients
        .create(&patient("anna@example.org"), "hash-2")
        .await
        .expect("the address is free again");
}

pub(super) async fn patients_are_listed_by_address_page_by_page(store: S) {
    let patients = PatientRepo::new(store.clone());
    for name in ["carl", "anna", "bert", "dora", "emil"] {
        patients
            .create(&patient(&format!("{name}@example.org")), "hash")
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = patients.list(2, cursor.as_deref()).await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|p| p.email.as_str().to_owned()));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = ["anna", "bert", "carl", "dora", "emil"]
        .iter()
        .map(|name| format!("{name}@example.org"))
        .collect();
    assert_eq!(seen, expected);
    let bad = patients.list(2, Some("not a cursor")).await;
    assert!(bad.is_err(), "a malformed cursor is refused");
}
