//! Passkeys on both stores: a credential is added once per patient, listed, and removed; a
//! sign-in's counter update is a compare-and-set on the counter it checked; and a challenge's
//! state is taken once, also when twenty answers race for it.

use shared::domain::patient::PatientId;
use shared::repo::{Ceremony, CeremonyKind, PasskeyRecord, PasskeyRepo, PasskeyUse};
use shared::store::now_unix;

use super::races::race;
use super::support::*;

fn record(hash: &str) -> PasskeyRecord {
    PasskeyRecord {
        credential_hash: hash.to_owned(),
        name: "Laptop".to_owned(),
        credential: r#"{"cred":"opaque to the store"}"#.to_owned(),
        counter: 0,
        backup_eligible: true,
        backed_up: false,
        created_at: now_unix(),
        last_used_at: None,
    }
}

fn used(hash: &str, before: i64, counter: i64) -> PasskeyUse {
    PasskeyUse {
        credential_hash: hash.to_owned(),
        counter_before: before,
        counter,
        credential: format!(r#"{{"counter":{counter}}}"#),
        backed_up: true,
    }
}

pub(super) async fn a_passkey_is_added_once_listed_updated_and_removed(store: S) {
    let repo = PasskeyRepo::new(store.clone());
    let anna = PatientId::generate();
    let bert = PatientId::generate();
    assert!(repo.add(&anna, &record("h1")).await.unwrap());
    assert!(
        !repo.add(&anna, &record("h1")).await.unwrap(),
        "same credential twice"
    );
    assert!(repo.add(&anna, &record("h2")).await.unwrap());
    assert_eq!(repo.list(&anna).await.unwrap().len(), 2);
    assert!(
        repo.list(&bert).await.unwrap().is_empty(),
        "another patient's are not listed"
    );
    assert!(repo.get(&bert, "h1").await.unwrap().is_none());

    // The counter moves forward only from the value a sign-in checked.
    assert!(repo.record_use(&anna, &used("h1", 0, 5)).await.unwrap());
    let stored = repo.get(&anna, "h1").await.unwrap().unwrap();
    assert_eq!(stored.counter, 5);
    assert!(stored.backed_up);
    assert!(stored.last_used_at.is_some());
    assert_eq!(stored.credential, r#"{"counter":5}"#);
    assert!(
        !repo.record_use(&anna, &used("h1", 0, 6)).await.unwrap(),
        "a sign-in that checked a stale counter is not written"
    );
    assert_eq!(repo.get(&anna, "h1").await.unwrap().unwrap().counter, 5);

    assert!(repo.remove(&anna, "h1").await.unwrap());
    assert!(!repo.remove(&anna, "h1").await.unwrap());
    assert!(
        !repo.record_use(&anna, &used("h1", 5, 6)).await.unwrap(),
        "a removed passkey is not written back"
    );
    assert!(repo.get(&anna, "h1").await.unwrap().is_none());
    assert_eq!(repo.list(&anna).await.unwrap().len(), 1);
}

pub(super) async fn a_challenge_is_taken_once_even_when_twenty_answers_race(store: S) {
    let repo = PasskeyRepo::new(store.clone());
    let ceremony = Ceremony {
        kind: CeremonyKind::SignIn,
        state: r#"{"challenge":"c"}"#.to_owned(),
        binding: "csrf-hash".to_owned(),
        patient_id: None,
    };
    let id = "ceremony-race";
    repo.put_ceremony(id, &ceremony, 300).await.unwrap();
    let results = race(&store, |_, store| async move {
        PasskeyRepo::new(store).take_ceremony(id).await.unwrap()
    })
    .await;
    let taken: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(taken, vec![ceremony], "exactly one answer gets the state");
    assert!(repo.take_ceremony(id).await.unwrap().is_none());

    // A registration keeps its patient; an expired challenge cannot be taken.
    let anna = PatientId::generate();
    let registration = Ceremony {
        kind: CeremonyKind::Register,
        state: "{}".to_owned(),
        binding: "b".to_owned(),
        patient_id: Some(anna),
    };
    repo.put_ceremony("reg", &registration, 300).await.unwrap();
    assert_eq!(
        repo.take_ceremony("reg").await.unwrap(),
        Some(registration.clone())
    );
    repo.put_ceremony("old", &registration, -1).await.unwrap();
    assert!(repo.take_ceremony("old").await.unwrap().is_none());
    assert!(repo.take_ceremony("").await.unwrap().is_none());
}
