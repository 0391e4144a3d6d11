//! Patients: the profile ([`layout::patient_profile`]: `PATIENT#{id}` / `PROFILE`) and the email
//! index ([`layout::email_index`]: `EMAIL#{lowercase email}` / `EMAIL`).
//!
//! The email index item holds the patient id, the password hash AND whether the address is
//! verified, so a login is one read, and its key makes email addresses unique (case-insensitively)
//! without a secondary index. Every change that touches both items (registration, verification,
//! email change, deletion) is one transaction whose conditions name what the change was decided
//! on, so two racing changes never leave the profile and the index disagreeing.
//!
//! An account registered by the patient and not verified yet expires, profile and index alike,
//! [`UNVERIFIED_TTL_SECS`] after registration: an address someone else registered (and cannot
//! verify) becomes free again by itself. Verifying, or proving the mailbox by a password reset,
//! removes the expiry. Index items written before verification existed (no `email_verified`
//! attribute) belong to operator-created accounts and count as verified.
//!
//! Profiles are also indexed on `gsi1` by address ([`layout::patient_by_email`]) for operators'
//! `portal-admin patient list`.

use std::sync::Arc;

use super::reads::Read;
use super::{corrupt, RepoError};
use crate::domain::patient::{BirthDate, Email, Name, Patient, PatientId, Phone};
use crate::i18n::Locale;
use crate::store::{
    layout, now_unix, Condition, Cursor, Item, Key, Store, StoreError, Update, Value, Write,
};

/// How long a self-registered account waits for its address to be verified before it is gone.
pub const UNVERIFIED_TTL_SECS: i64 = 7 * 24 * 60 * 60;

fn profile_key(id: &PatientId) -> Key {
    layout::patient_profile(id.as_str())
}

fn email_key(email: &Email) -> Key {
    layout::email_index(&email.lookup_key())
}

fn index_key(patient: &Patient) -> Key {
    layout::patient_by_email(&patient.email.lookup_key(), patient.id.as_str())
}

/// What a login needs, from one read of the email index.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account.
    pub patient_id: PatientId,
    /// The address as registered.
    pub email: Email,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Whether the address is verified (a sign-in issues no code until it is).
    pub email_verified: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("patient_id", &self.patient_id)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The transaction guard "these credentials are still current": the index item still names
    /// this patient with this password hash. A session started with them, an email change or a
    /// password change checks it, so a password reset that lands first wins.
    pub fn still_current(&self) -> Write {
        Write::Check {
            key: email_key(&self.email),
            condition: self.unchanged(),
        }
    }

    fn unchanged(&self) -> Condition {
        Condition::AllEqual(self.unchanged_attributes())
    }

    fn unchanged_attributes(&self) -> Vec<(String, Value)> {
        vec![
            (
                "patient_id".into(),
                Value::S(self.patient_id.as_str().into()),
            ),
            ("password_hash".into(), Value::S(self.password_hash.clone())),
        ]
    }
}

/// What verifying an address did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// The address is verified now.
    Verified,
    /// It already was (the link was used before).
    AlreadyVerified,
    /// The account is gone or its address has changed since the link was sent.
    Stale,
}

/// What changing the address did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailChange {
    /// The account has the new address now.
    Changed,
    /// Another account holds the new address.
    Taken,
    /// The account changed since the link was sent (address, password) or is gone.
    Stale,
}

/// Patient accounts.
#[derive(Clone)]
pub struct PatientRepo {
    store: Arc<dyn Store>,
}

impl PatientRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Registers a patient with the PHC string of their password. One transaction of the profile and
    /// the email index, each `NotExists`: an email already registered in any letter case (or,
    /// astronomically unlikely, a taken id) is [`RepoError::AlreadyExists`] and nothing is written.
    /// A patient whose address is not verified expires after [`UNVERIFIED_TTL_SECS`].
    pub async fn create(&self, patient: &Patient, password_hash: &str) -> Result<(), RepoError> {
        let expiry = (!patient.email_verified).then(|| now_unix() + UNVERIFIED_TTL_SECS);
        let mut index = Item::new(email_key(&patient.email))
            .with("patient_id", patient.id.as_str())
            .with("password_hash", password_hash)
            .with("email", patient.email.as_str())
            .with("email_verified", patient.email_verified);
        let mut profile = profile_item(patient).with("created_at", now_unix());
        if let Some(expiry) = expiry {
            index = index.expiring_at(expiry);
            profile = profile.expiring_at(expiry);
        }
        let writes = vec![
            Write::Put {
                item: profile,
                condition: Condition::NotExists,
            },
            Write::Put {
                item: index,
                condition: Condition::NotExists,
            },
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionFailed { .. }) => Err(RepoError::AlreadyExists),
            Err(other) => Err(other.into()),
        }
    }

    /// The patient with this id. One round trip.
    pub async fn get(&self, id: &PatientId) -> Result<Option<Patient>, RepoError> {
        Self::read(id).get(&*self.store).await
    }

    /// A read of the patient's profile, to batch with other reads ([`super::reads`]).
    pub fn read(id: &PatientId) -> Read<Patient> {
        let id = id.clone();
        Read::new(profile_key(&id), move |item| {
            from_profile(&id, &item).map(Some)
        })
    }

    /// Stores the patient's language (the language switch of a signed-in page; `/account`). One
    /// write, conditional on the profile existing: an unknown patient is [`RepoError::NotFound`]
    /// and nothing is created.
    pub async fn set_locale(&self, id: &PatientId, locale: Locale) -> Result<(), RepoError> {
        let update = Update::default().set("locale", locale.tag());
        self.update_existing(id, update).await
    }

    /// Replaces names, birth date and phone (`None` removes it). One conditional write.
    pub async fn update_profile(
        &self,
        id: &PatientId,
        first_name: &Name,
        last_name: &Name,
        birth_date: BirthDate,
        phone: Option<&Phone>,
    ) -> Result<(), RepoError> {
        let update = Update::default()
            .set("first_name", first_name.as_str())
            .set("last_name", last_name.as_str())
            .set("birth_date", birth_date.to_string());
        let update = match phone {
            Some(phone) => update.set("phone", phone.as_str()),
            None => update.remove("phone"),
        };
        self.update_existing(id, update).await
    }

    async fn update_existing(&self, id: &PatientId, update: Update) -> Result<(), RepoError> {
        match self
            .store
            .update(&profile_key(id), update, Condition::Exists)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.is_condition_failure() => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// The credentials registered for this email (any letter case), for login. One round trip.
    pub async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<Credentials>, RepoError> {
        let Some(item) = self.store.get(&email_key(email)).await? else {
            return Ok(None);
        };
        let record = &item.key;
        Ok(Some(Credentials {
            patient_id: PatientId::parse(item.string("patient_id")?)
                .map_err(|e| corrupt(record, e))?,
            email: Email::parse(item.string("email")?).map_err(|e| corrupt(record, e))?,
            password_hash: item.string("password_hash")?.to_owned(),
            // Operator-created accounts from before verification existed carry no flag.
            email_verified: match item.get("email_verified") {
                None => true,
                Some(_) => item.boolean("email_verified")?,
            },
        }))
    }

    /// Marks the address `email` of patient `id` verified, in ONE transaction of profile and index,
    /// each only if it still has that address (and the profile is not verified yet), and ends the
    /// unverified account's expiry. A link used twice finds the profile verified; a link to an
    /// address the account no longer has, or to an expired registration, changes nothing.
    pub async fn mark_verified(
        &self,
        id: &PatientId,
        email: &Email,
    ) -> Result<Verification, RepoError> {
        let verified = || Update {
            expires_at: Some(None),
            ..Update::default().set("email_verified", true)
        };
        let writes = vec![
            Write::Update {
                key: profile_key(id),
                update: verified(),
                condition: Condition::AllEqual(vec![
                    ("email".into(), Value::S(email.as_str().into())),
                    ("email_verified".into(), Value::Bool(false)),
                ]),
            },
            Write::Update {
                key: email_key(email),
                update: verified(),
                condition: Condition::Equals("patient_id".into(), Value::S(id.as_str().into())),
            },
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(Verification::Verified),
            Err(StoreError::TransactionFailed { index: 0, current }) => {
                let same_address = current
                    .as_ref()
                    .and_then(|item| item.get("email"))
                    .is_some_and(|stored| *stored == Value::S(email.as_str().into()));
                let verified = current
                    .as_ref()
                    .and_then(|item| item.get("email_verified"))
                    .is_some_and(|flag| *flag == Value::Bool(true));
                Ok(if same_address && verified {
                    Verification::AlreadyVerified
                } else {
                    Verification::Stale
                })
            }
            Err(StoreError::TransactionFailed { .. }) => Ok(Verification::Stale),
            Err(other) => Err(other.into()),
        }
    }

    /// Replaces the password hash, only if the credentials are still `current` (one conditional
    /// write; [`RepoError::NotFound`] otherwise, e.g. a reset link used twice). With
    /// `proves_mailbox` (a reset through a mailed link) the address also becomes verified and the
    /// account stops expiring, in the same transaction.
    pub async fn replace_password(
        &self,
        current: &Credentials,
        new_hash: &str,
        proves_mailbox: bool,
    ) -> Result<(), RepoError> {
        let mut index = Update::default().set("password_hash", new_hash);
        let mut writes = Vec::with_capacity(2);
        if proves_mailbox {
            index = Update {
                expires_at: Some(None),
                ..index.set("email_verified", true)
            };
            writes.push(Write::Update {
                key: profile_key(&current.patient_id),
                update: Update {
                    expires_at: Some(None),
                    ..Update::default().set("email_verified", true)
                },
                condition: Condition::Equals(
                    "email".into(),
                    Value::S(current.email.as_str().into()),
                ),
            });
        }
        writes.push(Write::Update {
            key: email_key(&current.email),
            update: index,
            condition: current.unchanged(),
        });
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(error) if error.is_condition_failure() => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Replaces a never-verified account by `patient` (a fresh account whose owner just proved the
    /// mailbox with a reset link, so it is stored verified and never expires) in ONE transaction:
    /// the email index entry is rewritten only if it still names the old account with the same
    /// password hash AND is still unverified, the old profile goes, and the new profile is
    /// created. Whoever registered the address first (and could not verify it) leaves nothing
    /// behind: an unverified account cannot sign in, so it has no sessions, factors or
    /// appointments. [`RepoError::NotFound`] (nothing written) if the old account was verified,
    /// changed or is gone meanwhile.
    pub async fn replace_unverified(
        &self,
        old: &Credentials,
        patient: &Patient,
        password_hash: &str,
    ) -> Result<(), RepoError> {
        let index = Item::new(email_key(&patient.email))
            .with("patient_id", patient.id.as_str())
            .with("password_hash", password_hash)
            .with("email", patient.email.as_str())
            .with("email_verified", true);
        let mut still_unverified = old.unchanged_attributes();
        still_unverified.push(("email_verified".into(), Value::Bool(false)));
        let writes = vec![
            Write::Put {
                item: index,
                condition: Condition::AllEqual(still_unverified),
            },
            Write::Delete {
                key: profile_key(&old.patient_id),
                condition: Condition::None,
            },
            Write::Put {
                item: profile_item(patient).with("created_at", now_unix()),
                condition: Condition::NotExists,
            },
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(error) if error.is_condition_failure() => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Moves the account from its current address to `new_email` (proven by a mailed link) in ONE
    /// transaction: the old index entry goes only if the credentials are unchanged, the new one is
    /// created only if no account holds that address, and the profile changes only if it still
    /// has the old address.
    pub async fn change_email(
        &self,
        current: &Credentials,
        new_email: &Email,
    ) -> Result<EmailChange, RepoError> {
        let index = Item::new(email_key(new_email))
            .with("patient_id", current.patient_id.as_str())
            .with("password_hash", current.password_hash.as_str())
            .with("email", new_email.as_str())
            .with("email_verified", true);
        let same_entry = new_email.lookup_key() == current.email.lookup_key();
        let mut writes = Vec::with_capacity(3);
        if same_entry {
            // Only the letter case changes: one index item, rewritten in place.
            writes.push(Write::Put {
                item: index,
                condition: current.unchanged(),
            });
        } else {
            writes.push(Write::Delete {
                key: email_key(&current.email),
                condition: current.unchanged(),
            });
            writes.push(Write::Put {
                item: index,
                condition: Condition::NotExists,
            });
        }
        writes.push(Write::Update {
            key: profile_key(&current.patient_id),
            update: Update::default()
                .set("email", new_email.as_str())
                .set("email_verified", true)
                .index(layout::patient_by_email(
                    &new_email.lookup_key(),
                    current.patient_id.as_str(),
                )),
            condition: Condition::Equals("email".into(), Value::S(current.email.as_str().into())),
        });
        match self.store.transact(writes).await {
            Ok(()) => Ok(EmailChange::Changed),
            Err(StoreError::TransactionFailed { index: 1, .. }) if !same_entry => {
                Ok(EmailChange::Taken)
            }
            Err(error) if error.is_condition_failure() => Ok(EmailChange::Stale),
            Err(other) => Err(other.into()),
        }
    }

    /// Deletes the account's profile and email index entry in ONE transaction, only if the
    /// credentials are still `current`: afterwards nobody signs in with them and the address can
    /// register again. The rest of the patient's partition (appointments, session list) must be
    /// gone first (see `crate::account::deletion`). [`RepoError::NotFound`] if the credentials
    /// changed meanwhile.
    pub async fn delete(&self, current: &Credentials) -> Result<(), RepoError> {
        let writes = vec![
            Write::Delete {
                key: email_key(&current.email),
                condition: current.unchanged(),
            },
            Write::Delete {
                key: profile_key(&current.patient_id),
                condition: Condition::None,
            },
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(error) if error.is_condition_failure() => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// One page of the keys of everything in the patient's partition but the profile
    /// (appointments, session list entries), for deletion. One round trip.
    pub async fn partition_keys(&self, id: &PatientId, limit: u32) -> Result<Vec<Key>, RepoError> {
        let page = self
            .store
            .query(layout::patient_partition(id.as_str(), limit + 1))
            .await?;
        let profile = profile_key(id);
        Ok(page
            .items
            .into_iter()
            .map(|item| item.key)
            .filter(|key| *key != profile)
            .take(limit as usize)
            .collect())
    }

    /// Deletes the given keys of the patient's partition, up to 100 per transaction. Round trips:
    /// one per 100 keys.
    pub async fn delete_keys(&self, keys: Vec<Key>) -> Result<(), RepoError> {
        for chunk in keys.chunks(crate::store::MAX_TRANSACTION_WRITES) {
            let writes = chunk
                .iter()
                .map(|key| Write::Delete {
                    key: key.clone(),
                    condition: Condition::None,
                })
                .collect();
            self.store.transact(writes).await?;
        }
        Ok(())
    }

    /// One page of every patient, by address (operators' list, on the eventually consistent
    /// index), and the cursor of the next page.
    pub async fn list(
        &self,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Patient>, Option<String>), RepoError> {
        let cursor = cursor.map(Cursor::decode).transpose()?;
        let page = self
            .store
            .query(layout::patients_by_email(limit).after(cursor))
            .await?;
        let mut patients = Vec::with_capacity(page.items.len());
        for item in &page.items {
            let id = item
                .key
                .pk
                .strip_prefix("PATIENT#")
                .ok_or_else(|| corrupt(&item.key, "not a patient profile"))
                .and_then(|id| PatientId::parse(id).map_err(|e| corrupt(&item.key, e)))?;
            patients.push(from_profile(&id, item)?);
        }
        Ok((patients, page.next.map(|cursor| cursor.encode())))
    }
}

fn profile_item(patient: &Patient) -> Item {
    let item = Item::new(profile_key(&patient.id))
        .with("email", patient.email.as_str())
        .with("email_verified", patient.email_verified)
        .with("first_name", patient.first_name.as_str())
        .with("last_name", patient.last_name.as_str())
        .with("birth_date", patient.birth_date.to_string())
        .with("locale", patient.locale.tag())
        .indexed(index_key(patient));
    match &patient.phone {
        Some(phone) => item.with("phone", phone.as_str()),
        None => item,
    }
}

fn from_profile(id: &PatientId, item: &Item) -> Result<Patient, RepoError> {
    let record = &item.key;
    Ok(Patient {
        id: id.clone(),
        email: Email::parse(item.string("email")?).map_err(|e| corrupt(record, e))?,
        email_verified: item.boolean("email_verified")?,
        first_name: Name::parse(item.string("first_name")?, "first name")
            .map_err(|e| corrupt(record, e))?,
        last_name: Name::parse(item.string("last_name")?, "last name")
            .map_err(|e| corrupt(record, e))?,
        birth_date: BirthDate::try_from(item.string("birth_date")?.to_owned())
            .map_err(|e| corrupt(record, e))?,
        phone: match item.get("phone") {
            None => None,
            Some(_) => Some(Phone::parse(item.string("phone")?).map_err(|e| corrupt(record, e))?),
        },
        // Profiles from before languages, or in a language no longer offered, read as English.
        locale: item
            .get("locale")
            .and_then(|value| value.as_str())
            .and_then(Locale::parse)
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::CountingStore;

    fn patient(email: &str) -> Patient {
        Patient::new(
            Email::parse(email).unwrap(),
            Name::parse("Anna", "first name").unwrap(),
            Name::parse("Muster", "last name").unwrap(),
            BirthDate::parse("1985-02-28").unwrap(),
            Some(Phone::parse("+49 30 1234567").unwrap()),
        )
    }

    fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap())
    }

    #[tokio::test]
    async fn a_created_patient_reads_back_and_logs_in_by_email_in_any_case() {
        let dir = tempfile::tempdir().unwrap();
        let repo = PatientRepo::new(store(&dir));
        let anna = patient("Anna@Example.org");
        repo.create(&anna, "$argon2id$phc").await.unwrap();
        assert_eq!(repo.get(&anna.id).await.unwrap().unwrap(), anna);
        let lookup = Email::parse("anna@EXAMPLE.org").unwrap();
        let credentials = repo.credentials_by_email(&lookup).await.unwrap().unwrap();
        assert_eq!(credentials.patient_id, anna.id);
        assert_eq!(credentials.password_hash, "$argon2id$phc");
        assert!(!credentials.email_verified);
    }

    #[tokio::test]
    async fn a_duplicate_email_in_another_case_is_refused_and_nothing_is_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let repo = PatientRepo::new(store.clone());
        let first = patient("anna@example.org");
        repo.create(&first, "first-hash").await.unwrap();
        let second = patient("ANNA@example.ORG");
        assert!(matches!(
            repo.create(&second, "second-hash").await,
            Err(RepoError::AlreadyExists)
        ));
        assert!(
            repo.get(&second.id).await.unwrap().is_none(),
            "no orphan profile"
        );
        let credentials = repo
            .credentials_by_email(&second.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (credentials.patient_id, credentials.password_hash.as_str()),
            (first.id.clone(), "first-hash")
        );
    }

    #[tokio::test]
    async fn a_login_lookup_is_exactly_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let counting = Arc::new(CountingStore::new(store(&dir)));
        let repo = PatientRepo::new(counting.clone());
        let anna = patient("anna@example.org");
        repo.create(&anna, "hash").await.unwrap();
        counting.take();
        assert!(repo
            .credentials_by_email(&anna.email)
            .await
            .unwrap()
            .is_some());
        assert_eq!(counting.take(), 1);
        let unknown = Email::parse("nobody@example.org").unwrap();
        assert!(repo.credentials_by_email(&unknown).await.unwrap().is_none());
        assert_eq!(counting.take(), 1);
    }

    #[tokio::test]
    async fn the_language_is_stored_changed_in_one_write_and_never_creates_a_patient() {
        let dir = tempfile::tempdir().unwrap();
        let counting = Arc::new(CountingStore::new(store(&dir)));
        let repo = PatientRepo::new(counting.clone());
        let german = Locale::parse("de").unwrap();
        let anna = patient("anna@example.org").with_locale(german);
        repo.create(&anna, "hash").await.unwrap();
        assert_eq!(repo.get(&anna.id).await.unwrap().unwrap().locale, german);
        counting.take();
        repo.set_locale(&anna.id, Locale::ENGLISH).await.unwrap();
        assert_eq!(counting.take(), 1);
        let stored = repo.get(&anna.id).await.unwrap().unwrap();
        assert_eq!(stored.locale, Locale::ENGLISH);
        assert_eq!(stored.email, anna.email, "nothing else changed");
        let nobody = PatientId::generate();
        assert!(matches!(
            repo.set_locale(&nobody, german).await,
            Err(RepoError::NotFound)
        ));
        assert!(repo.get(&nobody).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_patient_without_phone_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let repo = PatientRepo::new(store(&dir));
        let mut anna = patient("anna@example.org");
        anna.phone = None;
        anna.email_verified = true;
        repo.create(&anna, "hash").await.unwrap();
        assert_eq!(repo.get(&anna.id).await.unwrap().unwrap(), anna);
    }
}
