//! Browser sessions at the authorization server ([`layout::session`]: `SESSION#{sha256(sid)}` /
//! `SESSION`).
//!
//! The cookie holds the raw session id (32 random bytes); storage holds only its SHA-256, so a leaked
//! table or backup cannot be turned into live cookies. Attributes: `patient_id`, `auth_time` (when the
//! patient last entered their password, for OIDC `max_age` and the `auth_time` claim), `expires`;
//! the item also expires in storage at the same time.

use std::sync::Arc;
use std::time::Duration;

use super::{corrupt, RepoError};
use crate::crypto;
use crate::domain::patient::PatientId;
use crate::store::{layout, now_unix, Condition, Item, Store, StoreError};

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

    /// Starts a session that ends `ttl` from now; returns the raw session id for the cookie (it is
    /// not stored anywhere). One round trip.
    pub async fn create(
        &self,
        patient_id: &PatientId,
        auth_time: i64,
        ttl: Duration,
    ) -> Result<String, RepoError> {
        let sid = crypto::random_token(SID_BYTES);
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let expires_at = now_unix().saturating_add(ttl);
        let item = Item::new(layout::session(&sid))
            .with("patient_id", patient_id.as_str())
            .with("auth_time", auth_time)
            .with("expires", expires_at)
            .expiring_at(expires_at);
        match self.store.put(item, Condition::NotExists).await {
            Ok(_) => Ok(sid),
            // 256 random bits colliding means the random source is broken: never hand out the id.
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::AlreadyExists),
            Err(other) => Err(other.into()),
        }
    }

    /// The live session for a raw session id from a cookie, if any. One round trip (none for an id
    /// that cannot be ours).
    pub async fn get(&self, raw_sid: &str) -> Result<Option<Session>, RepoError> {
        if raw_sid.is_empty() || raw_sid.len() > MAX_SID_LEN {
            return Ok(None);
        }
        let Some(item) = self.store.get(&layout::session(raw_sid)).await? else {
            return Ok(None);
        };
        let expires_at = item.number("expires")?;
        // The store already hides expired items; checking again keeps the rule in one obvious place.
        if expires_at <= now_unix() {
            return Ok(None);
        }
        Ok(Some(Session {
            sid: layout::session_public_id(raw_sid),
            patient_id: PatientId::parse(item.string("patient_id")?)
                .map_err(|e| corrupt(&item.key, e))?,
            auth_time: item.number("auth_time")?,
            expires_at,
        }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::Key;

    fn repo(dir: &tempfile::TempDir) -> (SessionRepo, Arc<dyn Store>) {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        (SessionRepo::new(store.clone()), store)
    }

    #[tokio::test]
    async fn a_created_session_is_found_by_its_raw_id_and_stored_only_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let (sessions, store) = repo(&dir);
        let patient = PatientId::generate();
        let sid = sessions
            .create(&patient, 1_700_000_000, Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(sid.len(), 43);
        let session = sessions.get(&sid).await.unwrap().unwrap();
        assert_eq!(session.patient_id, patient);
        assert_eq!(session.auth_time, 1_700_000_000);
        assert!(session.expires_at > now_unix() + 3500);
        assert!(store
            .get(&Key::new(format!("SESSION#{sid}"), "SESSION"))
            .await
            .unwrap()
            .is_none());
        assert!(store.get(&layout::session(&sid)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_deleted_session_is_gone_and_deleting_again_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let (sessions, _) = repo(&dir);
        let sid = sessions
            .create(
                &PatientId::generate(),
                now_unix(),
                Duration::from_secs(3600),
            )
            .await
            .unwrap();
        sessions.delete(&sid).await.unwrap();
        assert!(sessions.get(&sid).await.unwrap().is_none());
        sessions.delete(&sid).await.unwrap();
    }

    #[tokio::test]
    async fn a_session_ends_by_its_public_id_which_is_not_the_cookie_value() {
        let dir = tempfile::tempdir().unwrap();
        let (sessions, _) = repo(&dir);
        let raw = sessions
            .create(
                &PatientId::generate(),
                now_unix(),
                Duration::from_secs(3600),
            )
            .await
            .unwrap();
        let public = sessions.get(&raw).await.unwrap().unwrap().sid;
        assert_ne!(public, raw);
        assert!(
            sessions.get(&public).await.unwrap().is_none(),
            "not a cookie"
        );
        sessions.delete_by_public_id(&public).await.unwrap();
        assert!(sessions.get(&raw).await.unwrap().is_none());
        sessions.delete_by_public_id(&public).await.unwrap();
    }

    #[tokio::test]
    async fn an_expired_session_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let (sessions, _) = repo(&dir);
        let sid = sessions
            .create(&PatientId::generate(), now_unix(), Duration::ZERO)
            .await
            .unwrap();
        assert!(sessions.get(&sid).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn unknown_empty_and_oversized_ids_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let (sessions, _) = repo(&dir);
        assert!(sessions.get("").await.unwrap().is_none());
        assert!(sessions.get(&"a".repeat(129)).await.unwrap().is_none());
        assert!(sessions
            .get(&crypto::random_token(32))
            .await
            .unwrap()
            .is_none());
    }
}
