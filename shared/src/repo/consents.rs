//! What a patient has allowed a client ([`layout::consent`]: `CONSENT#{patient_id}` /
//! `CLIENT#{client_id}`).
//!
//! Each granted scope is its own boolean attribute `scope_<name>` rather than one list, so widening a
//! consent is a single blind update that sets the new attributes: the union with what was granted
//! before happens inside the store, with no read-modify-write race between two consent submissions.
//! `updated_at` records the last grant.

use std::sync::Arc;

use super::RepoError;
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::scope::{Scope, Scopes};
use crate::store::{layout, now_unix, Condition, Key, Store, Update, Value};

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
        let Some(item) = self.store.get(&consent_key(patient, client)).await? else {
            return Ok(None);
        };
        let scopes = item
            .attrs
            .iter()
            .filter(|(_, value)| **value == Value::Bool(true))
            .filter_map(|(name, _)| name.strip_prefix(SCOPE_PREFIX))
            .filter_map(|name| Scope::parse(name).ok())
            .collect();
        Ok(Some(scopes))
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
}
