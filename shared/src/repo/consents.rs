//! What a patient has allowed a client ([`layout::consent`]: `CONSENT#{patient_id}` /
//! `CLIENT#{client_id}`).
//!
//! Each granted scope is its own boolean attribute `scope_<name>` rather than one list, so widening a
//! consent is a single blind update that sets the new attributes: the union with what was granted
//! before happens inside the store, with no read-modify-write race between two consent submissions.
//! `updated_at` records the last grant.
//!
//! Withdrawing a consent (the account page's "remove access") replaces the item with one holding
//! no scope, `revoked_at` (unix seconds) and `revoked_at_ms` (unix milliseconds): the app is asked
//! again next time, and the token endpoint refuses codes and refresh tokens approved before that
//! instant (see [`crate::repo::grants`]). Milliseconds, because a patient may remove an app and
//! approve it again within one second, and the new approval must work; `revoked_at` stays for
//! tokens sealed before approvals carried milliseconds. Granting again later adds scopes to the
//! same item and leaves both, which keeps older codes and grants dead.
use std::sync::Arc;

use super::reads::Read;
use super::{corrupt, RepoError};
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::scope::{Scope, Scopes};
use crate::store::{layout, now_unix, now_unix_ms, Condition, Item, Key, Store, Update, Value};

/// How long the withdrawn consents of a deleted account are kept: past the life of any code or
/// refresh token issued under them, so none of those can create or refresh a grant.
pub const DELETED_ACCOUNT_TOMBSTONE_SECS: i64 = 31 * 24 * 60 * 60;

/// One consent record of a patient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// The client.
    pub client_id: ClientId,
    /// What the patient allows it now (empty once withdrawn).
    pub scopes: Scopes,
    /// When the patient last allowed something, unix seconds.
    pub updated_at: Option<i64>,
}

const SCOPE_PREFIX: &str = "scope_";

fn consent_key(patient: &PatientId, client: &ClientId) -> Key {
    layout::consent(patient.as_str(), client.as_str())
}

fn attribute(scope: Scope) -> String {
    format!("{SCOPE_PREFIX}{}", scope.as_str())
}

/// Patients' consents to clients.
#[derive(Clone)]
pub struct ConsentRepo {
    store: Arc<dyn Store>,
}

impl ConsentRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The scopes the patient has allowed the client, if they ever consented. One round trip.
    /// A stored scope this server no longer offers is ignored (the patient is simply asked again).
    pub async fn get(
        &self,
        patient: &PatientId,
        client: &ClientId,
    ) -> Result<Option<Scopes>, RepoError> {
        Self::read(patient, client).get(&*self.store).await
    }

    /// A read of what the patient has allowed the client, to batch with other reads
    /// ([`super::reads`]).
    pub fn read(patient: &PatientId, client: &ClientId) -> Read<Scopes> {
        Read::new(consent_key(patient, client), |item| {
            Ok(Some(scopes_of(&item)))
        })
    }

    /// Every consent record of the patient (withdrawn ones too, with no scopes). One round trip
    /// per 100 (a table partition: strongly consistent).
    pub async fn of_patient(&self, patient: &PatientId) -> Result<Vec<ConsentRecord>, RepoError> {
        let mut records = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(layout::consents_of(patient.as_str(), 100).after(cursor))
                .await?;
            for item in &page.items {
                let client_id = layout::consent_client(&item.key)
                    .and_then(|id| ClientId::parse(id).ok())
                    .ok_or_else(|| corrupt(&item.key, "not a consent"))?;
                records.push(ConsentRecord {
                    client_id,
                    scopes: scopes_of(item),
                    updated_at: item.get("updated_at").and_then(Value::as_i64),
                });
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(records),
            }
        }
    }

    /// Forgets what the patient allowed the client and records when (`revoked_at` = now): the
    /// app is asked again next time, and codes and grants from before stop working. One round
    /// trip. With `expires_at` (account deletion) the record itself goes away then.
    pub async fn withdraw(
        &self,
        patient: &PatientId,
        client: &ClientId,
        expires_at: Option<i64>,
    ) -> Result<(), RepoError> {
        let now_ms = now_unix_ms();
        let now = now_ms.div_euclid(1000);
        let mut item = Item::new(consent_key(patient, client))
            .with("revoked_at", now)
            .with("revoked_at_ms", now_ms)
            .with("updated_at", now);
        if let Some(expires_at) = expires_at {
            item = item.expiring_at(expires_at);
        }
        self.store.put(item, Condition::None).await?;
        Ok(())
    }

    /// Adds `scopes` to what the patient has allowed the client (union with any earlier consent).
    /// One round trip; nothing is written for an empty set.
    pub async fn grant(
        &self,
        patient: &PatientId,
        client: &ClientId,
        scopes: &Scopes,
    ) -> Result<(), RepoError> {
        if scopes.is_empty() {
            return Ok(());
        }
        let update = scopes
            .iter()
            .fold(Update::default(), |update, scope| {
                update.set(&attribute(scope), true)
            })
            .set("updated_at", now_unix());
        self.store
            .update(&consent_key(patient, client), update, Condition::None)
            .await?;
        Ok(())
    }
}

fn scopes_of(item: &Item) -> Scopes {
    item.attrs
        .iter()
        .filter(|(_, value)| **value == Value::Bool(true))
        .filter_map(|(name, _)| name.strip_prefix(SCOPE_PREFIX))
        .filter_map(|name| Scope::parse(name).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn repo(dir: &tempfile::TempDir) -> ConsentRepo {
        ConsentRepo::new(Arc::new(
            SqliteStore::open(dir.path().join("t.db")).unwrap(),
        ))
    }

    #[tokio::test]
    async fn no_consent_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let consents = repo(&dir);
        let (patient, client) = (PatientId::generate(), ClientId::generate());
        assert!(consents.get(&patient, &client).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn grants_accumulate_as_a_union_per_patient_and_client() {
        let dir = tempfile::tempdir().unwrap();
        let consents = repo(&dir);
        let (patient, client) = (PatientId::generate(), ClientId::generate());
        consents
            .grant(
                &patient,
                &client,
                &Scopes::parse("openid profile_read").unwrap(),
            )
            .await
            .unwrap();
        consents
            .grant(
                &patient,
                &client,
                &Scopes::parse("profile_read appointment_read").unwrap(),
            )
            .await
            .unwrap();
        consents
            .grant(&patient, &client, &Scopes::new())
            .await
            .unwrap();
        let granted = consents.get(&patient, &client).await.unwrap().unwrap();
        assert_eq!(granted.to_string(), "openid profile_read appointment_read");

        let other_client = ClientId::generate();
        assert!(consents
            .get(&patient, &other_client)
            .await
            .unwrap()
            .is_none());
        let other_patient = PatientId::generate();
        assert!(consents
            .get(&other_patient, &client)
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn a_withdrawn_consent_has_no_scopes_is_listed_and_grants_again() {
        let dir = tempfile::tempdir().unwrap();
        let consents = repo(&dir);
        let (patient, client) = (PatientId::generate(), ClientId::generate());
        let scopes = Scopes::parse("openid profile").unwrap();
        consents.grant(&patient, &client, &scopes).await.unwrap();
        let listed = consents.of_patient(&patient).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (&listed[0].client_id, &listed[0].scopes),
            (&client, &scopes)
        );
        consents.withdraw(&patient, &client, None).await.unwrap();
        assert!(consents
            .get(&patient, &client)
            .await
            .unwrap()
            .unwrap()
            .is_empty());
        assert!(consents.of_patient(&patient).await.unwrap()[0]
            .scopes
            .is_empty());
        consents.grant(&patient, &client, &scopes).await.unwrap();
        assert_eq!(
            consents.get(&patient, &client).await.unwrap().unwrap(),
            scopes
        );
        assert!(consents
            .of_patient(&PatientId::generate())
            .await
            .unwrap()
            .is_empty());
    }
}
