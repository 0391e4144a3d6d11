//! Browser sessions at the authorization server ([`layout::session`]: `SESSION#{sha256(sid)}` /
//! `SESSION`).
//!
//! The cookie holds the raw session id (32 random bytes); storage holds only its SHA-256, so a leaked
//! table or backup cannot be turned into live cookies. Attributes: `patient_id`, `auth_time` (when the
//! patient last entered their password, for OIDC `max_age` and the `auth_time` claim), `amr` (the
//! RFC 8176 methods of that sign-in: `pwd`, or `pwd otp mfa` after a second factor; a session
//! without it is a password sign-in), `expires`; the item also expires in storage at the same time.
//!
//! Each session also has an entry in its patient's session list ([`layout::session_entry`]:
//! `PATIENT#{patient_id}` / `SESSION#{sha256(sid)}`), written in the same transaction, so ending
//! every session of a patient (a password reset, "sign out everywhere", deleting the account) is
//! one strongly consistent query of that partition and the deletes. The same transaction checks
//! that the credentials the patient signed in with are still current
//! ([`Credentials::still_current`]): a sign-in racing a password reset either lands before it
//! (and is ended by it) or fails. A logout deletes only the session: its list entry expires with
//! it, and ending a session that is already gone does nothing.

use std::sync::Arc;
use std::time::Duration;

use super::patients::Credentials;
use super::reads::Read;
use super::{corrupt, RepoError};
use crate::crypto;
use crate::domain::assurance::Amr;
use crate::domain::patient::PatientId;
use crate::store::{layout, now_unix, Condition, Item, Key, Store, StoreError, Update, Write};

/// How long a sign-in lasts at the authorization server (the patient is asked for their password
/// again after this, whatever the apps do).
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// Bytes of randomness in a session id.
const SID_BYTES: usize = 32;

/// Longest session id worth looking up: ours are 43 characters; anything much longer is not ours and
/// is refused without hashing or a storage read.
const MAX_SID_LEN: usize = 128;

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session's public id (the id_token's `sid`; not the cookie's secret value).
    pub sid: String,
    /// Who is signed in.
    pub patient_id: PatientId,
    /// When they authenticated, unix seconds.
    pub auth_time: i64,
    /// How they authenticated (RFC 8176 methods; the `acr` follows from them).
    pub amr: Amr,
    /// When the session ends, unix seconds.
    pub expires_at: i64,
}

/// Browser sessions.
#[derive(Clone)]
pub struct SessionRepo {
    store: Arc<dyn Store>,
}

impl SessionRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Starts a session of the patient `credentials` name that ends `ttl` from now; returns the raw
    /// session id for the cookie (it is not stored anywhere). ONE transaction: the session, its
    /// entry in the patient's session list, and the check that `credentials` are still current
    /// ([`RepoError::NotFound`] when a password change or reset got there first).
    pub async fn create(
        &self,
        credentials: &Credentials,
        auth_time: i64,
        ttl: Duration,
    ) -> Result<String, RepoError> {
        self.create_with(credentials, auth_time, &Amr::password(), ttl)
            .await
    }

    /// [`SessionRepo::create`] for a sign-in made with the methods `amr` (a second factor).
    pub async fn create_with(
        &self,
        credentials: &Credentials,
        auth_time: i64,
        amr: &Amr,
        ttl: Duration,
    ) -> Result<String, RepoError> {
        self.create_with_writes(credentials, auth_time, amr, ttl, Vec::new())
            .await
    }

    /// [`SessionRepo::create_with`] in one transaction with `extra` writes (a passkey's counter):
    /// a failed condition of any of them is [`RepoError::NotFound`] too, and no session starts.
    pub async fn create_with_writes(
        &self,
        credentials: &Credentials,
        auth_time: i64,
        amr: &Amr,
        ttl: Duration,
        extra: Vec<Write>,
    ) -> Result<String, RepoError> {
        let sid = crypto::random_token(SID_BYTES);
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let expires_at = now_unix().saturating_add(ttl);
        let patient_id = &credentials.patient_id;
        let item = Item::new(layout::session(&sid))
            .with("patient_id", patient_id.as_str())
            .with("auth_time", auth_time)
            .with(
                "amr",
                amr.values()
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            )
            .with("expires", expires_at)
            .expiring_at(expires_at);
        let entry = Item::new(layout::session_entry(
            patient_id.as_str(),
            &layout::session_public_id(&sid),
        ))
        .with("expires", expires_at)
        .expiring_at(expires_at);
        let mut writes = vec![
            Write::Put {
                item,
                condition: Condition::NotExists,
            },
            Write::Put {
                item: entry,
                condition: Condition::None,
            },
            credentials.still_current(),
        ];
        writes.extend(extra);
        match self.store.transact(writes).await {
            Ok(()) => Ok(sid),
            // 256 random bits colliding means the random source is broken: never hand out the id.
            Err(StoreError::TransactionFailed { index: 0, .. }) => Err(RepoError::AlreadyExists),
            Err(StoreError::TransactionFailed { .. }) => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Ends every session of the patient, but the one whose raw id is `keep` (the browser that
    /// asked, when it stays signed in). Returns how many were ended. Round trips: one query per 100
    /// sessions, one transaction per 50.
    pub async fn end_all(
        &self,
        patient_id: &PatientId,
        keep: Option<&str>,
    ) -> Result<usize, RepoError> {
        let kept = keep.map(layout::session_public_id);
        let mut ended = 0;
        loop {
            let page = self
                .store
                .query(layout::session_entries(patient_id.as_str(), 100))
                .await?;
            let mut writes: Vec<Write> = Vec::new();
            for entry in &page.items {
                match layout::session_public_id_of_entry(&entry.key) {
                    Some(hash) if kept.as_deref() != Some(hash) => {
                        writes.push(delete(layout::session_by_public_id(hash)));
                        writes.push(delete(entry.key.clone()));
                        ended += 1;
                    }
                    _ => {}
                }
            }
            for chunk in writes.chunks(crate::store::MAX_TRANSACTION_WRITES) {
                self.store.transact(chunk.to_vec()).await?;
            }
            // What was read is deleted, so the next query starts from the top again; a page that
            // held nothing to end (only the kept session) or was the last one ends the sweep.
            if page.next.is_none() || writes.is_empty() {
                return Ok(ended);
            }
        }
    }

    /// The live session for a raw session id from a cookie, if any. One round trip (none for an id
    /// that cannot be ours).
    pub async fn get(&self, raw_sid: &str) -> Result<Option<Session>, RepoError> {
        match Self::read(raw_sid) {
            Some(read) => read.get(&*self.store).await,
            None => Ok(None),
        }
    }

    /// A read of the live session for a raw session id, to batch with other reads
    /// ([`super::reads`]); `None` for an id that cannot be ours (nothing to read).
    pub fn read(raw_sid: &str) -> Option<Read<Session>> {
        if raw_sid.is_empty() || raw_sid.len() > MAX_SID_LEN {
            return None;
        }
        let sid = layout::session_public_id(raw_sid);
        Some(Read::new(layout::session(raw_sid), move |item| {
            session_from(sid, &item)
        }))
    }

    /// Records that the session with raw id `raw_sid` has now been authenticated with `amr` (a
    /// second factor on top of its password). [`RepoError::NotFound`] when it has ended. One round
    /// trip.
    pub async fn upgrade(&self, raw_sid: &str, amr: &Amr) -> Result<(), RepoError> {
        if raw_sid.is_empty() || raw_sid.len() > MAX_SID_LEN {
            return Err(RepoError::NotFound);
        }
        let values: Vec<String> = amr.values().into_iter().map(String::from).collect();
        match self
            .store
            .update(
                &layout::session(raw_sid),
                Update::default().set("amr", values),
                Condition::Exists,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Ends the session with public id `sid` (logout by an id_token's `sid`, without the cookie).
    /// Ending an unknown or expired session is not an error. One round trip (none for an id that
    /// cannot be ours).
    pub async fn delete_by_public_id(&self, sid: &str) -> Result<(), RepoError> {
        if sid.is_empty() || sid.len() > MAX_SID_LEN {
            return Ok(());
        }
        self.store
            .delete(&layout::session_by_public_id(sid), Condition::None)
            .await?;
        Ok(())
    }

    /// Ends a session (logout). Deleting an unknown or expired session is not an error. One round
    /// trip (none for an id that cannot be ours).
    pub async fn delete(&self, raw_sid: &str) -> Result<(), RepoError> {
        if raw_sid.is_empty() || raw_sid.len() > MAX_SID_LEN {
            return Ok(());
        }
        self.store
            .delete(&layout::session(raw_sid), Condition::None)
            .await?;
        Ok(())
    }
}

fn delete(key: Key) -> Write {
    Write::Delete {
        key,
        condition: Condition::None,
    }
}

/// The session an item holds, unless it has ended.
fn session_from(sid: String, item: &Item) -> Result<Option<Session>, RepoError> {
    let expires_at = item.number("expires")?;
    // The store already hides expired items; checking again keeps the rule in one obvious place.
    if expires_at <= now_unix() {
        return Ok(None);
    }
    Ok(Some(Session {
        sid,
        patient_id: PatientId::parse(item.string("patient_id")?)
            .map_err(|e| corrupt(&item.key, e))?,
        auth_time: item.number("auth_time")?,
        amr: match item.get("amr") {
            Some(_) => Amr::from_values(item.list("amr")?.iter().map(String::as_str)),
            None => Amr::password(),
        },
        expires_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::patient::{BirthDate, Email, Name, Patient};
    use crate::repo::PatientRepo;
    use crate::store::sqlite::SqliteStore;

    struct Fixture {
        _dir: tempfile::TempDir,
        store: Arc<dyn Store>,
        sessions: SessionRepo,
        patients: PatientRepo,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        Fixture {
            _dir: dir,
            sessions: SessionRepo::new(store.clone()),
            patients: PatientRepo::new(store.clone()),
            store,
        }
    }

    async fn signed_up(f: &Fixture, email: &str) -> Credentials {
        let mut patient = Patient::new(
            Email::parse(email).unwrap(),
            Name::parse("Anna", "first name").unwrap(),
            Name::parse("Muster", "last name").unwrap(),
            BirthDate::parse("1985-02-28").unwrap(),
            None,
        );
        patient.email_verified = true;
        f.patients.create(&patient, "hash-1").await.unwrap();
        f.patients
            .credentials_by_email(&patient.email)
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn a_created_session_is_found_by_its_raw_id_and_stored_only_hashed() {
        let f = fixture();
        let credentials = signed_up(&f, "anna@example.org").await;
        let sid = f
            .sessions
            .create(&credentials, 1_700_000_000, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(sid.len(), 43);
        let session = f.sessions.get(&sid).await.unwrap().unwrap();
        assert_eq!(session.patient_id, credentials.patient_id);
        assert_eq!(session.auth_time, 1_700_000_000);
        assert!(session.expires_at > now_unix() + 3500);
        assert!(f
            .store
            .get(&Key::new(format!("SESSION#{sid}"), "SESSION"))
            .await
            .unwrap()
            .is_none());
        assert!(f.store.get(&layout::session(&sid)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_deleted_session_is_gone_and_deleting_again_is_fine() {
        let f = fixture();
        let credentials = signed_up(&f, "anna@example.org").await;
        let sid = f
            .sessions
            .create(&credentials, now_unix(), Duration::from_secs(3600))
            .await
            .unwrap();
        f.sessions.delete(&sid).await.unwrap();
        assert!(f.sessions.get(&sid).await.unwrap().is_none());
        f.sessions.delete(&sid).await.unwrap();
    }

    #[tokio::test]
    async fn a_session_ends_by_its_public_id_which_is_not_the_cookie_value() {
        let f = fixture();
        let credentials = signed_up(&f, "anna@example.org").await;
        let raw = f
            .sessions
            .create(&credentials, now_unix(), Duration::from_secs(3600))
            .await
            .unwrap();
        let public = f.sessions.get(&raw).await.unwrap().unwrap().sid;
        assert_ne!(public, raw);
        assert!(
            f.sessions.get(&public).await.unwrap().is_none(),
            "not a cookie"
        );
        f.sessions.delete_by_public_id(&public).await.unwrap();
        assert!(f.sessions.get(&raw).await.unwrap().is_none());
        f.sessions.delete_by_public_id(&public).await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_session_is_not_found() {
        let f = fixture();
        let credentials = signed_up(&f, "anna@example.org").await;
        let sid = f
            .sessions
            .create(&credentials, now_unix(), Duration::ZERO)
            .await
            .unwrap();
        assert!(f.sessions.get(&sid).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn unknown_empty_and_oversized_ids_are_not_found() {
        let f = fixture();
        assert!(f.sessions.get("").await.unwrap().is_none());
        assert!(f.sessions.get(&"a".repeat(129)).await.unwrap().is_none());
        assert!(f
            .sessions
            .get(&crypto::random_token(32))
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn ending_every_session_spares_only_the_kept_one_and_other_patients() {
        let f = fixture();
        let anna = signed_up(&f, "anna@example.org").await;
        let bert = signed_up(&f, "bert@example.org").await;
        let ttl = Duration::from_secs(3600);
        let mut annas = Vec::new();
        for _ in 0..3 {
            annas.push(f.sessions.create(&anna, now_unix(), ttl).await.unwrap());
        }
        let berts = f.sessions.create(&bert, now_unix(), ttl).await.unwrap();
        let ended = f
            .sessions
            .end_all(&anna.patient_id, Some(&annas[0]))
            .await
            .unwrap();
        assert_eq!(ended, 2);
        assert!(f.sessions.get(&annas[0]).await.unwrap().is_some());
        for sid in &annas[1..] {
            assert!(f.sessions.get(sid).await.unwrap().is_none());
        }
        assert!(f.sessions.get(&berts).await.unwrap().is_some());
        assert_eq!(f.sessions.end_all(&anna.patient_id, None).await.unwrap(), 1);
        assert!(f.sessions.get(&annas[0]).await.unwrap().is_none());
        assert_eq!(f.sessions.end_all(&anna.patient_id, None).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_sign_in_with_credentials_a_reset_replaced_starts_no_session() {
        let f = fixture();
        let before = signed_up(&f, "anna@example.org").await;
        f.patients
            .replace_password(&before, "hash-2", true)
            .await
            .unwrap();
        let refused = f
            .sessions
            .create(&before, now_unix(), Duration::from_secs(3600))
            .await;
        assert!(matches!(refused, Err(RepoError::NotFound)), "{refused:?}");
        let page = f
            .store
            .query(layout::session_entries(before.patient_id.as_str(), 10))
            .await
            .unwrap();
        assert!(page.items.is_empty(), "nothing half-written");
    }
}
