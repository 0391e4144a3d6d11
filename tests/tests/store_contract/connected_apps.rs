//! Connected apps on both stores: a patient's consents and grants listed per client, "remove
//! access" (every grant of one client revoked, the consent withdrawn, older codes and refresh
//! tokens refused), and the account action limits.

use shared::domain::client::{Client, ClientId, RedirectUri};
use shared::domain::patient::PatientId;
use shared::repo::limits::Limit;
use shared::repo::{
    ApprovedAt, ClientCheck, ClientRepo, ConsentRepo, Grant, GrantError, GrantId, GrantRepo,
    LimitRepo, Subject,
};
use shared::scope::Scopes;
use shared::store::now_unix;

use super::races::race;
use super::support::*;

async fn public_client(store: &S, name: &str) -> Client {
    let uris = vec![RedirectUri::parse("https://app.example.com/cb").unwrap()];
    let client = Client::new_public(name, uris, Scopes::all()).unwrap();
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .unwrap();
    client
}

fn grant(client: &ClientId, patient: &PatientId) -> Grant {
    Grant::new(
        GrantId::generate(),
        client.clone(),
        patient.clone(),
        Scopes::parse("openid offline_access").unwrap(),
        now_unix() - 5,
        now_unix() + 3600,
    )
}

pub(super) async fn consents_are_listed_per_patient_and_a_withdrawn_one_has_no_scopes(store: S) {
    let consents = ConsentRepo::new(store.clone());
    let (anna, bert) = (PatientId::generate(), PatientId::generate());
    let (one, two) = (ClientId::generate(), ClientId::generate());
    let scopes = Scopes::parse("openid profile").unwrap();
    consents.grant(&anna, &one, &scopes).await.unwrap();
    consents.grant(&anna, &two, &scopes).await.unwrap();
    consents.grant(&bert, &one, &scopes).await.unwrap();
    let mut listed = consents.of_patient(&anna).await.unwrap();
    listed.sort_by(|a, b| a.client_id.as_str().cmp(b.client_id.as_str()));
    let mut expected = vec![one.clone(), two.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(
        listed
            .iter()
            .map(|r| r.client_id.clone())
            .collect::<Vec<_>>(),
        expected
    );
    assert!(listed
        .iter()
        .all(|r| r.scopes == scopes && r.updated_at.is_some_and(|at| at >= now_unix() - 60)));
    consents.withdraw(&anna, &one, None).await.unwrap();
    assert!(consents.get(&anna, &one).await.unwrap().unwrap().is_empty());
    let after = consents.of_patient(&anna).await.unwrap();
    let withdrawn = after.iter().find(|r| r.client_id == one).unwrap();
    assert!(withdrawn.scopes.is_empty());
    assert_eq!(consents.get(&bert, &one).await.unwrap(), Some(scopes));
}

pub(super) async fn grants_are_listed_per_patient_and_client_and_revoked_per_client(store: S) {
    let grants = GrantRepo::new(store.clone());
    let one = public_client(&store, "One").await;
    let two = public_client(&store, "Two").await;
    let (anna, bert) = (PatientId::generate(), PatientId::generate());
    let mut of_one = Vec::new();
    for _ in 0..3 {
        let g = grant(&one.id, &anna);
        grants
            .create_with_client_check(&g, ClientCheck::Public)
            .await
            .unwrap();
        of_one.push(g);
    }
    let of_two = grant(&two.id, &anna);
    let berts = grant(&one.id, &bert);
    for g in [&of_two, &berts] {
        grants
            .create_with_client_check(g, ClientCheck::Public)
            .await
            .unwrap();
    }
    grants
        .rotate_with_client_check(
            &of_one[0].id,
            &one.id,
            0,
            ClientCheck::Public,
            (&anna, of_one[0].authorized_at),
        )
        .await
        .unwrap();

    let all = grants.of_patient(&anna, None).await.unwrap();
    assert_eq!(all.len(), 4);
    let listed = grants.of_patient(&anna, Some(&one.id)).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .all(|g| g.client_id == one.id && g.patient_id == anna));
    let refreshed = listed.iter().find(|g| g.id == of_one[0].id).unwrap();
    assert!(
        refreshed.rotated_at.is_some_and(|at| at >= now_unix() - 60),
        "last used"
    );
    assert!(listed
        .iter()
        .filter(|g| g.id != of_one[0].id)
        .all(|g| g.rotated_at.is_none()));

    assert_eq!(grants.revoke_all(&anna, Some(&one.id)).await.unwrap(), 3);
    for g in &of_one {
        assert!(grants.get(&g.id).await.unwrap().unwrap().revoked);
    }
    assert!(!grants.get(&of_two.id).await.unwrap().unwrap().revoked);
    assert!(!grants.get(&berts.id).await.unwrap().unwrap().revoked);
    assert_eq!(
        grants.revoke_all(&anna, Some(&one.id)).await.unwrap(),
        0,
        "revoked grants are not revoked again"
    );
    assert_eq!(grants.delete_all(&anna).await.unwrap(), 4);
    assert!(grants.of_patient(&anna, None).await.unwrap().is_empty());
    assert!(grants.get(&berts.id).await.unwrap().is_some());
}

pub(super) async fn a_withdrawn_consent_refuses_older_codes_and_refreshes_but_not_newer_ones(
    store: S,
) {
    let grants = GrantRepo::new(store.clone());
    let consents = ConsentRepo::new(store.clone());
    let client = public_client(&store, "App").await;
    let anna = PatientId::generate();
    consents
        .grant(&anna, &client.id, &Scopes::parse("openid").unwrap())
        .await
        .unwrap();
    let live = grant(&client.id, &anna);
    grants
        .create_with_client_check(&live, ClientCheck::Public)
        .await
        .unwrap();
    let before = ApprovedAt::Secs(now_unix() - 10);
    consents.withdraw(&anna, &client.id, None).await.unwrap();

    let old_code = grant(&client.id, &anna).authorized_at(before);
    let refused = grants
        .create_with_client_check(&old_code, ClientCheck::Public)
        .await;
    assert!(
        matches!(refused, Err(GrantError::ConsentWithdrawn)),
        "{refused:?}"
    );
    assert!(
        grants.get(&old_code.id).await.unwrap().is_none(),
        "nothing written"
    );
    let refresh = grants
        .rotate_with_client_check(
            &live.id,
            &client.id,
            0,
            ClientCheck::Public,
            (&anna, before),
        )
        .await;
    assert!(
        matches!(refresh, Err(GrantError::ConsentWithdrawn)),
        "{refresh:?}"
    );
    assert_eq!(grants.get(&live.id).await.unwrap().unwrap().generation, 0);

    // A code the patient approved after removing the access (consent given again) works.
    let later = ApprovedAt::Secs(now_unix() + 5);
    let new_code = grant(&client.id, &anna).authorized_at(later);
    grants
        .create_with_client_check(&new_code, ClientCheck::Public)
        .await
        .unwrap();
    grants
        .rotate_with_client_check(
            &new_code.id,
            &client.id,
            0,
            ClientCheck::Public,
            (&anna, later),
        )
        .await
        .unwrap();
}

/// Withdrawal and approvals compared to the millisecond: an app removed and approved again
/// within one second works, while what was approved before the removal (even in that second)
/// stays refused; tokens sealed with seconds only keep the old rule.
pub(super) async fn a_consent_given_again_in_the_second_of_its_withdrawal_works(store: S) {
    let grants = GrantRepo::new(store.clone());
    let consents = ConsentRepo::new(store.clone());
    let client = public_client(&store, "App").await;
    let anna = PatientId::generate();
    let openid = Scopes::parse("openid").unwrap();
    consents.grant(&anna, &client.id, &openid).await.unwrap();
    let live = grant(&client.id, &anna);
    grants
        .create_with_client_check(&live, ClientCheck::Public)
        .await
        .unwrap();
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(3));
    tick().await;
    let approved_before = ApprovedAt::now();
    tick().await;
    consents.withdraw(&anna, &client.id, None).await.unwrap();
    let withdrawn_second = now_unix();
    tick().await;
    let approved_again = ApprovedAt::now();
    consents.grant(&anna, &client.id, &openid).await.unwrap();

    for (what, approved) in [
        ("approved before, to the millisecond", approved_before),
        (
            "sealed with seconds, the same second",
            ApprovedAt::Secs(withdrawn_second),
        ),
    ] {
        let code = grant(&client.id, &anna).authorized_at(approved);
        let refused = grants
            .create_with_client_check(&code, ClientCheck::Public)
            .await;
        assert!(
            matches!(refused, Err(GrantError::ConsentWithdrawn)),
            "{what}: {refused:?}"
        );
        let refresh = grants
            .rotate_with_client_check(
                &live.id,
                &client.id,
                0,
                ClientCheck::Public,
                (&anna, approved),
            )
            .await;
        assert!(
            matches!(refresh, Err(GrantError::ConsentWithdrawn)),
            "{what}: {refresh:?}"
        );
    }
    let new_code = grant(&client.id, &anna).authorized_at(approved_again);
    grants
        .create_with_client_check(&new_code, ClientCheck::Public)
        .await
        .unwrap();
    grants
        .rotate_with_client_check(
            &new_code.id,
            &client.id,
            0,
            ClientCheck::Public,
            (&anna, approved_again),
        )
        .await
        .unwrap();
}

pub(super) async fn twenty_concurrent_takes_of_a_limit_stop_exactly_at_it(store: S) {
    const LIMIT: Limit = Limit {
        action: "contract",
        per_window: 4,
    };
    let window = || now_unix().div_euclid(shared::repo::limits::WINDOW_SECS);
    let started = window();
    let results = race(&store, |_, store| async move {
        LimitRepo::new(store)
            .take(LIMIT, Subject::Hashed("anna@example.org"))
            .await
            .unwrap()
    })
    .await;
    let taken = results.iter().filter(|ok| **ok).count();
    // A window boundary passed during the race gives the new window its own units.
    if window() == started {
        assert_eq!(taken, 4, "{results:?}");
    } else {
        assert!((4..=8).contains(&taken), "{results:?}");
    }
    let limits = LimitRepo::new(store.clone());
    assert!(
        limits.take(LIMIT, Subject::Ip("192.0.2.1")).await.unwrap(),
        "another subject has its own units"
    );
}
