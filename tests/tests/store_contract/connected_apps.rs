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

/// A grant of `patient`'s for `client`, stored as redeeming a code stores it.
async fn stored_grant(grants: &GrantRepo, client: &ClientId, patient: &PatientId) -> Grant {
    let g = grant(client, patient);
    grants
        .create_with_client_check(&g, ClientCheck::Public)
        .await
        .unwrap();
    g
}

/// Where the consent-withdrawal tests start: a public app, a patient who consented to it, and a
/// live grant of theirs.
struct Granted {
    grants: GrantRepo,
    consents: ConsentRepo,
    client: Client,
    anna: PatientId,
    live: Grant,
}

impl Granted {
    async fn new(store: &S) -> Self {
        let grants = GrantRepo::new(store.clone());
        let consents = ConsentRepo::new(store.clone());
        let client = public_client(store, "App").await;
        let anna = PatientId::generate();
        consents
            .grant(&anna, &client.id, &Scopes::parse("openid").unwrap())
            .await
            .unwrap();
        let live = stored_grant(&grants, &client.id, &anna).await;
        Self {
            grants,
            consents,
            client,
            anna,
            live,
        }
    }

    /// Redeems a code the patient approved at `approved`: its grant, as it was to be stored.
    async fn redeem(&self, approved: ApprovedAt) -> (Grant, Result<(), GrantError>) {
        let code = grant(&self.client.id, &self.anna).authorized_at(approved);
        let stored = self
            .grants
            .create_with_client_check(&code, ClientCheck::Public)
            .await;
        (code, stored)
    }

    /// Refreshes grant `id` (first generation) with a token sealed with the approval `approved`.
    async fn refresh(&self, id: &GrantId, approved: ApprovedAt) -> Result<(), GrantError> {
        self.grants
            .rotate_with_client_check(
                id,
                &self.client.id,
                0,
                ClientCheck::Public,
                (&self.anna, approved),
            )
            .await
    }

    /// A code approved at `approved` is refused and nothing written; so is a refresh of the live
    /// grant sealed with that approval, which stays as it was.
    async fn assert_refused(&self, what: &str, approved: ApprovedAt) {
        let (code, redeemed) = self.redeem(approved).await;
        assert!(
            matches!(redeemed, Err(GrantError::ConsentWithdrawn)),
            "{what}: {redeemed:?}"
        );
        assert!(
            self.grants.get(&code.id).await.unwrap().is_none(),
            "{what}: nothing written"
        );
        let refreshed = self.refresh(&self.live.id, approved).await;
        assert!(
            matches!(refreshed, Err(GrantError::ConsentWithdrawn)),
            "{what}: {refreshed:?}"
        );
        let live = self.grants.get(&self.live.id).await.unwrap().unwrap();
        assert_eq!(live.generation, 0, "{what}");
    }

    /// A code approved at `approved` is redeemed, and its grant refreshed.
    async fn assert_works(&self, approved: ApprovedAt) {
        let (code, redeemed) = self.redeem(approved).await;
        redeemed.unwrap();
        self.refresh(&code.id, approved).await.unwrap();
    }
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
        of_one.push(stored_grant(&grants, &one.id, &anna).await);
    }
    let of_two = stored_grant(&grants, &two.id, &anna).await;
    let berts = stored_grant(&grants, &one.id, &bert).await;
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
    let app = Granted::new(&store).await;
    let before = ApprovedAt::Secs(now_unix() - 10);
    app.consents
        .withdraw(&app.anna, &app.client.id, None)
        .await
        .unwrap();
    app.assert_refused("approved before the removal", before)
        .await;

    // A code the patient approved after removing the access (consent given again) works.
    app.assert_works(ApprovedAt::Secs(now_unix() + 5)).await;
}

/// Withdrawal and approvals compared to the millisecond: an app removed and approved again
/// within one second works, while what was approved before the removal (even in that second)
/// stays refused; tokens sealed with seconds only keep the old rule.
pub(super) async fn a_consent_given_again_in_the_second_of_its_withdrawal_works(store: S) {
    let app = Granted::new(&store).await;
    let (anna, client) = (&app.anna, &app.client.id);
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(3));
    tick().await;
    let approved_before = ApprovedAt::now();
    tick().await;
    app.consents.withdraw(anna, client, None).await.unwrap();
    let withdrawn_second = now_unix();
    tick().await;
    let approved_again = ApprovedAt::now();
    let openid = Scopes::parse("openid").unwrap();
    app.consents.grant(anna, client, &openid).await.unwrap();

    app.assert_refused("approved before, to the millisecond", approved_before)
        .await;
    app.assert_refused(
        "sealed with seconds, the same second",
        ApprovedAt::Secs(withdrawn_second),
    )
    .await;
    app.assert_works(approved_again).await;
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
