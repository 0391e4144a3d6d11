//! What the account page shows, read at once: the profile, the connected apps, the apps' recent
//! access to the patient's data (the audit log), each app by its name, and the second factors.

use super::apps::ConnectedApp;
use super::console::AccountConsole;
use crate::audit::AccessRecord;
use crate::domain::patient::Patient;
use crate::oauth::flow_error::PageError;
use crate::repo::Session;
use crate::store::now_unix;

/// How far back the page lists apps' access to the patient's data.
pub const RECENT_ACCESS_SECS: i64 = 30 * 24 * 60 * 60;

/// How many access records the page lists at most.
pub const RECENT_ACCESS_LIMIT: usize = 20;

/// Everything the account page shows.
#[derive(Clone, Debug)]
pub struct Overview {
    /// The patient.
    pub patient: Patient,
    /// Apps with live access or a remembered consent, by name.
    pub apps: Vec<ConnectedApp>,
    /// What apps did with the patient's data lately, newest first, with the app's name.
    pub recent_access: Vec<(AccessRecord, String)>,
    /// The authenticator app, when set up: how many recovery codes are left.
    pub totp_recovery_left: Option<usize>,
    /// How many passkeys the patient has.
    pub passkeys: usize,
}

impl AccountConsole {
    /// What the page shows: the profile, the connected apps and recent access, read at once.
    /// `None` once the account is gone.
    pub async fn overview(&self, session: &Session) -> Result<Option<Overview>, PageError> {
        let since = now_unix() - RECENT_ACCESS_SECS;
        let (patient, apps, records, totp_recovery_left, passkeys) = tokio::try_join!(
            self.patient(session),
            self.connected_apps(&session.patient_id),
            async {
                self.audit
                    .recent_access(&session.patient_id, since, RECENT_ACCESS_LIMIT)
                    .await
                    .map_err(|error| PageError::from(crate::repo::RepoError::from(error)))
            },
            async {
                let id = &session.patient_id;
                match self.second_factors.totp(id).await? {
                    Some(_) => Ok(Some(self.second_factors.recovery_codes_left(id).await?)),
                    None => Ok::<_, PageError>(None),
                }
            },
            async {
                let passkeys = self.passkeys.list(&session.patient_id).await?;
                Ok::<_, PageError>(passkeys.len())
            },
        )?;
        let Some(patient) = patient else {
            return Ok(None);
        };
        let names = self
            .client_names(records.iter().map(|record| record.client_id.clone()))
            .await?;
        let recent_access = records
            .into_iter()
            .map(|record| {
                let name = names
                    .get(&record.client_id)
                    .cloned()
                    .unwrap_or_else(|| record.client_id.to_string());
                (record, name)
            })
            .collect();
        Ok(Some(Overview {
            patient,
            apps,
            recent_access,
            totp_recovery_left,
            passkeys,
        }))
    }
}
