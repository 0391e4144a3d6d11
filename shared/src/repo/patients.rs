//! Patients: the profile ([`layout::patient_profile`]: `PATIENT#{id}` / `PROFILE`) and the email
//! index ([`layout::email_index`]: `EMAIL#{lowercase email}` / `EMAIL`).
//!
//! The email index item holds the patient id AND the password hash, so a login is one read, and its
//! key makes email addresses unique (case-insensitively) without a secondary index: both items are
//! written in one transaction, each only if absent, so a duplicate email leaves nothing behind.
//! The profile holds no password material, so reading a profile never loads a hash.

use std::sync::Arc;

use super::{corrupt, RepoError};
use crate::domain::patient::{BirthDate, Email, Name, Patient, PatientId, Phone};
use crate::i18n::Locale;
use crate::store::{layout, Condition, Item, Key, Store, StoreError, Update, Write};

fn profile_key(id: &PatientId) -> Key {
    layout::patient_profile(id.as_str())
}

fn email_key(email: &Email) -> Key {
    layout::email_index(&email.lookup_key())
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
    pub async fn create(&self, patient: &Patient, password_hash: &str) -> Result<(), RepoError> {
        let index = Item::new(email_key(&patient.email))
            .with("patient_id", patient.id.as_str())
            .with("password_hash", password_hash)
            .with("email", patient.email.as_str());
        let writes = vec![
            Write::Put {
                item: profile_item(patient),
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
        match self.store.get(&profile_key(id)).await? {
            Some(item) => from_profile(id, &item).map(Some),
            None => Ok(None),
        }
    }

    /// Stores the patient's language (the language switch of a signed-in page; `/account`). One
    /// write, conditional on the profile existing: an unknown patient is [`RepoError::NotFound`]
    /// and nothing is created.
    pub async fn set_locale(&self, id: &PatientId, locale: Locale) -> Result<(), RepoError> {
        let update = Update::default().set("locale", locale.tag());
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

    /// The patient id and password PHC string registered for this email (any letter case), for
    /// login. One round trip.
    pub async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(PatientId, String)>, RepoError> {
        let Some(item) = self.store.get(&email_key(email)).await? else {
            return Ok(None);
        };
        let id = PatientId::parse(item.string("patient_id")?).map_err(|e| corrupt(&item.key, e))?;
        Ok(Some((id, item.string("password_hash")?.to_owned())))
    }
}

fn profile_item(patient: &Patient) -> Item {
    let item = Item::new(profile_key(&patient.id))
        .with("email", patient.email.as_str())
        .with("email_verified", patient.email_verified)
        .with("first_name", patient.first_name.as_str())
        .with("last_name", patient.last_name.as_str())
        .with("birth_date", patient.birth_date.to_string())
        .with("locale", patient.locale.tag());
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
        let (id, phc) = repo.credentials_by_email(&lookup).await.unwrap().unwrap();
        assert_eq!(id, anna.id);
        assert_eq!(phc, "$argon2id$phc");
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
        let (id, phc) = repo
            .credentials_by_email(&second.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((id, phc.as_str()), (first.id.clone(), "first-hash"));
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
