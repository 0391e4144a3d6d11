//! Connected apps: every client with a live grant (refresh-token family) or a remembered consent,
//! and "remove access".
//!
//! Removing access withdraws the consent first, then revokes every grant family of that client
//! for this patient: the token endpoint checks the withdrawal in the same transaction as every
//! code exchange and refresh, so even a grant the (eventually consistent) grant index did not list
//! yet stops working at once; the revocation makes introspection report the app's tokens
//! inactive.

use std::collections::{BTreeMap, HashMap};

use futures_util::future::try_join_all;

use super::console::AccountConsole;
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::oauth::flow_error::PageError;
use crate::repo::{ConsentRecord, Grant};
use crate::scope::Scopes;
use crate::store::now_unix;

/// One app with access to the patient's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedApp {
    /// The client.
    pub client_id: ClientId,
    /// Its registered name (its id if it no longer exists).
    pub name: String,
    /// What it may do: the remembered consent and what its live grants hold.
    pub scopes: Scopes,
    /// When the patient first allowed it what it holds now (unix seconds), if known.
    pub granted_at: Option<i64>,
    /// When it last refreshed its access (unix seconds), if ever.
    pub last_used_at: Option<i64>,
}

/// The apps of `consents` and `grants` (one patient's) at `now`, without names yet: live grants
/// and consents that still allow something, by client.
pub fn connected(
    consents: &[ConsentRecord],
    grants: &[Grant],
    now: i64,
) -> BTreeMap<ClientId, ConnectedApp> {
    let mut apps: BTreeMap<ClientId, ConnectedApp> = BTreeMap::new();
    let entry = |apps: &mut BTreeMap<ClientId, ConnectedApp>, client_id: &ClientId| {
        apps.entry(client_id.clone())
            .or_insert_with(|| ConnectedApp {
                client_id: client_id.clone(),
                name: client_id.to_string(),
                scopes: Scopes::new(),
                granted_at: None,
                last_used_at: None,
            })
            .clone()
    };
    for consent in consents.iter().filter(|c| !c.scopes.is_empty()) {
        let mut app = entry(&mut apps, &consent.client_id);
        app.scopes = app.scopes.union(&consent.scopes);
        app.granted_at = consent.updated_at.or(app.granted_at);
        apps.insert(app.client_id.clone(), app);
    }
    for grant in grants
        .iter()
        .filter(|grant| !grant.revoked && grant.expires_at > now)
    {
        let mut app = entry(&mut apps, &grant.client_id);
        app.scopes = app.scopes.union(&grant.scopes);
        app.granted_at = Some(match app.granted_at {
            Some(at) => at.min(grant.created_at),
            None => grant.created_at,
        });
        app.last_used_at = app.last_used_at.max(grant.rotated_at);
        apps.insert(app.client_id.clone(), app);
    }
    apps
}

impl AccountConsole {
    /// The patient's connected apps, by name. Reads: the consents (one query) and the grants
    /// (one index query) at once, then each app's client record at once.
    pub async fn connected_apps(
        &self,
        patient: &PatientId,
    ) -> Result<Vec<ConnectedApp>, PageError> {
        let (consents, grants) = tokio::try_join!(
            self.consents.of_patient(patient),
            self.grants.of_patient(patient, None),
        )?;
        let apps = connected(&consents, &grants, now_unix());
        let names = self.client_names(apps.keys().cloned()).await?;
        let mut apps: Vec<ConnectedApp> = apps
            .into_values()
            .map(|mut app| {
                if let Some(name) = names.get(&app.client_id) {
                    app.name = name.clone();
                }
                app
            })
            .collect();
        apps.sort_by_key(|app| app.name.to_lowercase());
        Ok(apps)
    }

    /// The registered names of `clients` (each read once, all at once); unknown ones are missing.
    pub(super) async fn client_names(
        &self,
        clients: impl Iterator<Item = ClientId>,
    ) -> Result<HashMap<ClientId, String>, PageError> {
        let mut unique: Vec<ClientId> = clients.collect();
        unique.sort();
        unique.dedup();
        let found = try_join_all(unique.iter().map(|id| self.clients.get(id))).await?;
        Ok(found
            .into_iter()
            .flatten()
            .map(|client| (client.id, client.name))
            .collect())
    }

    /// "Remove access": withdraws the patient's consent to `client` and revokes every grant family
    /// of it (see the module documentation). Returns how many families were revoked. Removing
    /// an app that has no access changes nothing but the (empty) consent record.
    pub async fn revoke_app(
        &self,
        patient: &PatientId,
        client: &ClientId,
    ) -> Result<usize, PageError> {
        self.consents.withdraw(patient, client, None).await?;
        let revoked = self.grants.revoke_all(patient, Some(client)).await?;
        tracing::info!(client_id = %client, revoked, "a patient removed an app's access");
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::{ApprovedAt, GrantId};

    fn client(id: &str) -> ClientId {
        ClientId::parse(id).unwrap()
    }

    fn grant(client_id: &str, created_at: i64, rotated_at: Option<i64>, revoked: bool) -> Grant {
        Grant {
            id: GrantId::generate(),
            client_id: client(client_id),
            patient_id: PatientId::generate(),
            scopes: Scopes::parse("openid appointment_read").unwrap(),
            generation: 0,
            revoked,
            auth_time: created_at,
            created_at,
            expires_at: 10_000,
            rotated_at,
            authorized_at: ApprovedAt::Secs(created_at),
        }
    }

    #[test]
    fn apps_join_consents_and_live_grants_and_skip_withdrawn_and_revoked_ones() {
        let consents = vec![
            ConsentRecord {
                client_id: client("a"),
                scopes: Scopes::parse("openid profile").unwrap(),
                updated_at: Some(50),
            },
            ConsentRecord {
                client_id: client("withdrawn"),
                scopes: Scopes::new(),
                updated_at: Some(60),
            },
        ];
        let grants = vec![
            grant("a", 100, Some(300), false),
            grant("a", 200, Some(250), false),
            grant("b", 120, None, false),
            grant("revoked", 130, Some(140), true),
        ];
        let apps = connected(&consents, &grants, 1_000);
        assert_eq!(
            apps.keys().map(ClientId::as_str).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let a = &apps[&client("a")];
        assert_eq!(a.scopes.to_string(), "openid profile appointment_read");
        assert_eq!((a.granted_at, a.last_used_at), (Some(50), Some(300)));
        let b = &apps[&client("b")];
        assert_eq!((b.granted_at, b.last_used_at), (Some(120), None));
        assert!(!connected(&consents, &grants, 10_000).contains_key(&client("b")));
    }
}
