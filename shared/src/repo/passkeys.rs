//! A patient's passkeys ([`layout::passkey`], in the patient's partition, so deleting the account
//! deletes them) and the challenge state of passkey ceremonies ([`layout::ceremony`]).
//!
//! Every rule that must hold under concurrency is one conditional write:
//! - a credential is added once per patient: its put is guarded by its absence;
//! - a challenge is answered once: taking its state is a delete guarded by its existence, which
//!   hands back the deleted item, so of two answers to one challenge exactly one gets the state;
//! - a signature counter only moves forward from what the sign-in checked: the use is an update
//!   guarded by "the stored counter is still the one read" (a compare-and-set), so two sign-ins
//!   that raced past the same stored counter cannot both pass, and a credential removed meanwhile
//!   is not written back.
//!
//! The credential is stored as webauthn-rs serialises it (credential id, public key, counter,
//! flags): that is what the library needs back to check a signature. The counter and backup
//! flags are also attributes of their own, for the guard above and for the account page.

use std::sync::Arc;

use super::{corrupt, RepoError};
use crate::domain::patient::PatientId;
use crate::store::{layout, now_unix, Condition, Item, Key, Store, StoreError, Update, Write};

/// Most passkeys a patient can hold (the account page lists them all).
pub const MAX_PASSKEYS: u32 = 20;

/// One stored passkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// SHA-256 (base64url) of the credential id: its key in the patient's partition.
    pub credential_hash: String,
    /// The name the patient gave it.
    pub name: String,
    /// The credential as webauthn-rs serialises it (public key, counter, flags).
    pub credential: String,
    /// The last signature counter accepted (0 for authenticators without a counter).
    pub counter: i64,
    /// Whether the authenticator may back the key up (a synced passkey).
    pub backup_eligible: bool,
    /// Whether the key was backed up when last seen.
    pub backed_up: bool,
    /// When it was added, unix seconds.
    pub created_at: i64,
    /// When it was last used to sign in, unix seconds.
    pub last_used_at: Option<i64>,
}

impl PasskeyRecord {
    fn from_item(item: &Item) -> Result<Self, RepoError> {
        let credential_hash = item
            .key
            .sk
            .rsplit('#')
            .next()
            .filter(|hash| !hash.is_empty())
            .ok_or_else(|| corrupt(&item.key, "no credential hash in the sort key"))?;
        Ok(Self {
            credential_hash: credential_hash.to_owned(),
            name: item.string("name")?.to_owned(),
            credential: item.string("credential")?.to_owned(),
            counter: item.number("counter")?,
            backup_eligible: item.boolean("backup_eligible")?,
            backed_up: item.boolean("backed_up")?,
            created_at: item.number("created_at")?,
            last_used_at: item.get("last_used_at").and_then(|v| v.as_i64()),
        })
    }
}

/// What a stored challenge was offered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Adding a passkey to a signed-in account.
    Register,
    /// Signing in with a passkey.
    SignIn,
}

impl CeremonyKind {
    fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::SignIn => "sign_in",
        }
    }
}

/// The server side of a challenge on offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ceremony {
    /// What it is for.
    pub kind: CeremonyKind,
    /// webauthn-rs's ceremony state as JSON (the challenge, the policy).
    pub state: String,
    /// SHA-256 of the CSRF token of the form the challenge was put in: only that browser's
    /// answer is taken.
    pub binding: String,
    /// The patient adding a passkey (registrations only).
    pub patient_id: Option<PatientId>,
}

/// A use of a passkey for a sign-in, to be written with the session it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyUse {
    /// The credential's key hash.
    pub credential_hash: String,
    /// The counter the sign-in checked the assertion against (the stored one).
    pub counter_before: i64,
    /// The assertion's counter.
    pub counter: i64,
    /// The credential with its counter and backup state updated.
    pub credential: String,
    /// The backup state the assertion reported.
    pub backed_up: bool,
}

/// Passkeys and ceremony states.
#[derive(Clone)]
pub struct PasskeyRepo {
    store: Arc<dyn Store>,
}

impl PasskeyRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Stores a new passkey: `false` if the patient already has this credential. One round trip.
    pub async fn add(
        &self,
        patient_id: &PatientId,
        record: &PasskeyRecord,
    ) -> Result<bool, RepoError> {
        let item = Item::new(layout::passkey(
            patient_id.as_str(),
            &record.credential_hash,
        ))
        .with("name", record.name.as_str())
        .with("credential", record.credential.as_str())
        .with("counter", record.counter)
        .with("backup_eligible", record.backup_eligible)
        .with("backed_up", record.backed_up)
        .with("created_at", record.created_at);
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// One passkey of the patient. One round trip.
    pub async fn get(
        &self,
        patient_id: &PatientId,
        credential_hash: &str,
    ) -> Result<Option<PasskeyRecord>, RepoError> {
        let key = layout::passkey(patient_id.as_str(), credential_hash);
        match self.store.get(&key).await? {
            Some(item) => PasskeyRecord::from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    /// The patient's passkeys, in key order. One round trip.
    pub async fn list(&self, patient_id: &PatientId) -> Result<Vec<PasskeyRecord>, RepoError> {
        let page = self
            .store
            .query(layout::passkeys(patient_id.as_str(), MAX_PASSKEYS))
            .await?;
        page.items.iter().map(PasskeyRecord::from_item).collect()
    }

    /// Removes one passkey: `false` if the patient had no such passkey. One round trip.
    pub async fn remove(
        &self,
        patient_id: &PatientId,
        credential_hash: &str,
    ) -> Result<bool, RepoError> {
        let key = layout::passkey(patient_id.as_str(), credential_hash);
        match self.store.delete(&key, Condition::Exists).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// The write that records a sign-in with a passkey: the new counter, credential and backup
    /// state and the time, guarded by the stored counter still being the one the sign-in checked
    /// (and so by the passkey still existing).
    pub fn use_write(patient_id: &PatientId, used: &PasskeyUse) -> Write {
        let (key, update, condition) = use_guard(patient_id, used);
        Write::Update {
            key,
            update,
            condition,
        }
    }

    /// [`PasskeyRepo::use_write`] on its own: `false` when the counter moved meanwhile or the
    /// passkey is gone. One round trip.
    pub async fn record_use(
        &self,
        patient_id: &PatientId,
        used: &PasskeyUse,
    ) -> Result<bool, RepoError> {
        let (key, update, condition) = use_guard(patient_id, used);
        match self.store.update(&key, update, condition).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Stores a challenge's state under the random `ceremony_id` for `ttl_secs`. One round trip.
    pub async fn put_ceremony(
        &self,
        ceremony_id: &str,
        ceremony: &Ceremony,
        ttl_secs: i64,
    ) -> Result<(), RepoError> {
        let mut item = Item::new(layout::ceremony(ceremony_id))
            .with("kind", ceremony.kind.as_str())
            .with("state", ceremony.state.as_str())
            .with("binding", ceremony.binding.as_str())
            .expiring_at(now_unix().saturating_add(ttl_secs));
        if let Some(patient_id) = &ceremony.patient_id {
            item = item.with("patient_id", patient_id.as_str());
        }
        self.store.put(item, Condition::NotExists).await?;
        Ok(())
    }

    /// Takes (deletes and returns) the live challenge state stored under `ceremony_id`: `None`
    /// when there is none (never offered, expired, or already taken by another answer). One
    /// round trip.
    pub async fn take_ceremony(&self, ceremony_id: &str) -> Result<Option<Ceremony>, RepoError> {
        if ceremony_id.is_empty() || ceremony_id.len() > 128 {
            return Ok(None);
        }
        let key = layout::ceremony(ceremony_id);
        let item = match self.store.delete(&key, Condition::Exists).await {
            Ok(Some(item)) => item,
            Ok(None) | Err(StoreError::ConditionFailed { .. }) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let kind = match item.string("kind")? {
            "register" => CeremonyKind::Register,
            "sign_in" => CeremonyKind::SignIn,
            other => return Err(corrupt(&item.key, format!("unknown kind {other:?}"))),
        };
        let patient_id = match item.get("patient_id").and_then(|v| v.as_str()) {
            Some(text) => Some(PatientId::parse(text).map_err(|error| corrupt(&item.key, error))?),
            None => None,
        };
        Ok(Some(Ceremony {
            kind,
            state: item.string("state")?.to_owned(),
            binding: item.string("binding")?.to_owned(),
            patient_id,
        }))
    }
}

fn use_guard(patient_id: &PatientId, used: &PasskeyUse) -> (Key, Update, Condition) {
    (
        layout::passkey(patient_id.as_str(), &used.credential_hash),
        Update::default()
            .set("counter", used.counter)
            .set("credential", used.credential.as_str())
            .set("backed_up", used.backed_up)
            .set("last_used_at", now_unix()),
        Condition::Equals("counter".into(), used.counter_before.into()),
    )
}
