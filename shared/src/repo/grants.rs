//! Refresh-token families ([`layout::grant`]: `GRANT#{grant_id}` / `GRANT`) and revoked access
//! tokens ([`layout::revoked_access_token`]: `REVOKED#{jti}` / `JTI`).
//!
//! A grant is born when an authorization code is exchanged and carries everything the store must
//! enforce about its refresh tokens: `generation` (the one refresh token still valid), `revoked`, and
//! its absolute `expires` (also the item's storage expiry). The tokens themselves are sealed and carry
//! the generation they were issued at, so:
//! - exchanging a code = one transaction: check the client's credentials on its record, put the grant
//!   only if absent (a second exchange of the same code finds it present: [`GrantError::AlreadyRedeemed`]);
//! - refreshing = one transaction: check the client, add 1 to `generation` only if it still equals the
//!   token's and the grant is not revoked (an older token presented again: [`GrantError::Reused`],
//!   after which the caller revokes the whole family, RFC 9700 §4.14.2).
//!
//! Grant attributes: `client_id`, `patient_id`, `scopes` (list), `generation`, `revoked`, `auth_time`,
//! `created_at`, `expires`, and `rotated_at` once refreshed. Grants are indexed on `gsi1` by patient
//! and client ([`layout::grant_by_patient`]) for the account page's connected apps.
//!
//! Both transactions also check the patient's consent to the client
//! ([`crate::repo::ConsentRepo::withdraw`]): once the patient removed the app's access, a code
//! issued before that, or a refresh token of a grant created before it, no longer works — even one
//! the (eventually consistent) index did not list yet when the grants were revoked.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::clients::{client_key, ATTR_KIND, ATTR_SECRET_HASH, KIND_PUBLIC};
use super::{corrupt, RepoError};
use crate::crypto;
use crate::domain::client::{Client, ClientId};
use crate::domain::patient::PatientId;
use crate::scope::{Scope, Scopes};
use crate::store::{
    layout, now_unix, now_unix_ms, Condition, Item, Key, Query, Store, StoreError, Update, Value,
    Write,
};

/// Identifier of a grant (refresh-token family): random base62, carried inside sealed codes and tokens.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GrantId(String);

/// A grant id that is not 1 to 64 characters of `A-Z a-z 0-9 _ -`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid grant id")]
pub struct InvalidGrantId;

impl GrantId {
    /// Length of generated ids (base62, about 143 bits).
    pub const GENERATED_LEN: usize = 24;

    /// A new random id.
    pub fn generate() -> GrantId {
        GrantId(crypto::random_id(Self::GENERATED_LEN))
    }

    /// Validates an id from a token or storage.
    pub fn parse(text: &str) -> Result<GrantId, InvalidGrantId> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(GrantId(text.to_owned()))
        } else {
            Err(InvalidGrantId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for GrantId {
    type Error = InvalidGrantId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        GrantId::parse(&value)
    }
}

impl From<GrantId> for String {
    fn from(id: GrantId) -> Self {
        id.0
    }
}

/// A refresh-token family as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Its id (from the authorization code).
    pub id: GrantId,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The patient who consented.
    pub patient_id: PatientId,
    /// What was granted.
    pub scopes: Scopes,
    /// Generation of the one valid refresh token; 0 at exchange, +1 per refresh.
    pub generation: i64,
    /// Whether the family is revoked (reuse detected, logout, RFC 7009 revocation).
    pub revoked: bool,
    /// When the patient authenticated, unix seconds.
    pub auth_time: i64,
    /// When the code was exchanged, unix seconds.
    pub created_at: i64,
    /// When the family ends regardless of refreshes, unix seconds.
    pub expires_at: i64,
    /// When it was last refreshed, unix seconds ("last used" on the account page).
    pub rotated_at: Option<i64>,
    /// When the patient approved what this grant holds (the code was issued): a consent
    /// withdrawn at or after it stops the exchange. Not stored.
    pub authorized_at: ApprovedAt,
}

impl Grant {
    /// A fresh family (generation 0, not revoked) created now, approved now to the second (a
    /// code exchange sets the code's approval with [`Grant::authorized_at`]).
    pub fn new(
        id: GrantId,
        client_id: ClientId,
        patient_id: PatientId,
        scopes: Scopes,
        auth_time: i64,
        expires_at: i64,
    ) -> Grant {
        let now = now_unix();
        Grant {
            id,
            client_id,
            patient_id,
            scopes,
            generation: 0,
            revoked: false,
            auth_time,
            created_at: now,
            expires_at,
            rotated_at: None,
            authorized_at: ApprovedAt::Secs(now),
        }
    }

    /// The same grant, approved by the patient at `authorized_at` (when its code was issued).
    pub fn authorized_at(mut self, authorized_at: ApprovedAt) -> Grant {
        self.authorized_at = authorized_at;
        self
    }
}

/// When the patient approved what a code, grant or refresh token holds, as precisely as it
/// was recorded: a consent withdrawn at or after that instant refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovedAt {
    /// Unix milliseconds: compared with the withdrawal's millisecond (`revoked_at_ms`), so an app
    /// removed and approved again within one second works, and a token approved before the
    /// removal does not.
    Millis(i64),
    /// Unix seconds, for codes and refresh tokens sealed before approvals carried milliseconds:
    /// compared with the withdrawal's second (`revoked_at`) as before.
    Secs(i64),
}

impl ApprovedAt {
    /// Now, to the millisecond.
    pub fn now() -> ApprovedAt {
        ApprovedAt::Millis(now_unix_ms())
    }

    /// The approval in milliseconds as a sealed token carries it, or, for a token sealed
    /// without, `secs`.
    pub fn sealed(millis: Option<i64>, secs: i64) -> ApprovedAt {
        millis.map_or(ApprovedAt::Secs(secs), ApprovedAt::Millis)
    }

    /// The milliseconds, for sealing into a token (`None` for an approval known to the second).
    pub fn millis(self) -> Option<i64> {
        match self {
            ApprovedAt::Millis(millis) => Some(millis),
            ApprovedAt::Secs(_) => None,
        }
    }
}

/// The check that the patient has not withdrawn their consent to the client since `since`
/// (the withdrawal's instant below it; no consent record, or none withdrawn, passes). A
/// withdrawal recorded before milliseconds were (no `revoked_at_ms`) passes a millisecond
/// approval: such approvals are all younger than it.
fn consent_not_withdrawn_since(
    patient_id: &PatientId,
    client_id: &ClientId,
    since: ApprovedAt,
) -> Write {
    let condition = match since {
        ApprovedAt::Millis(millis) => Condition::Below("revoked_at_ms".into(), millis),
        ApprovedAt::Secs(secs) => Condition::Below("revoked_at".into(), secs),
    };
    Write::Check {
        key: layout::consent(patient_id.as_str(), client_id.as_str()),
        condition,
    }
}

/// How the token endpoint's transaction authenticates the client on its stored record.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCheck {
    /// A confidential client: the record's `secret_hash` must equal this hash of the presented secret
    /// (see [`ClientCheck::secret`]).
    Secret(String),
    /// A public client (no secret presented): the record's `kind` must be `public`.
    Public,
}

impl ClientCheck {
    /// The check for a presented client secret.
    pub fn secret(presented: &str) -> ClientCheck {
        ClientCheck::Secret(Client::secret_hash_of(presented))
    }

    fn condition(&self) -> Condition {
        match self {
            ClientCheck::Secret(hash) => {
                Condition::Equals(ATTR_SECRET_HASH.to_owned(), Value::S(hash.clone()))
            }
            ClientCheck::Public => {
                Condition::Equals(ATTR_KIND.to_owned(), Value::S(KIND_PUBLIC.to_owned()))
            }
        }
    }
}

impl fmt::Debug for ClientCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientCheck::Secret(_) => f.write_str("Secret(<redacted>)"),
            ClientCheck::Public => f.write_str("Public"),
        }
    }
}

/// Why a grant write was refused.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The client is unknown, its secret is wrong, or it is not of the presented kind
    /// (OAuth `invalid_client`).
    #[error("client authentication failed")]
    InvalidClient,
    /// The authorization code was exchanged before: the caller should revoke the grant.
    #[error("authorization code already redeemed")]
    AlreadyRedeemed,
    /// A refresh token older than the current one, or of a revoked family, was presented: the caller
    /// should revoke the grant.
    #[error("refresh token reused or revoked")]
    Reused,
    /// No live grant (expired, never created, or not this client's).
    #[error("grant not found")]
    NotFound,
    /// The patient removed the client's access after the code was issued or the grant created.
    #[error("the patient withdrew consent")]
    ConsentWithdrawn,
    /// Storage failed or returned malformed data.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<StoreError> for GrantError {
    fn from(error: StoreError) -> Self {
        GrantError::Repo(error.into())
    }
}

fn grant_key(id: &GrantId) -> Key {
    layout::grant(id.as_str())
}

/// Refresh-token families.
#[derive(Clone)]
pub struct GrantRepo {
    store: Arc<dyn Store>,
}

impl GrantRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Code exchange: in ONE transaction, checks the client (`client_check` on `CLIENT#{client_id}`),
    /// puts the grant if absent, and checks the patient's consent was not withdrawn since the code
    /// was issued ([`Grant::authorized_at`]). Failing write 0 is [`GrantError::InvalidClient`]
    /// (nothing is written); failing write 1 is [`GrantError::AlreadyRedeemed`]; failing write 2
    /// is [`GrantError::ConsentWithdrawn`].
    pub async fn create_with_client_check(
        &self,
        grant: &Grant,
        client_check: ClientCheck,
    ) -> Result<(), GrantError> {
        let writes = vec![
            Write::Check {
                key: client_key(&grant.client_id),
                condition: client_check.condition(),
            },
            Write::Put {
                item: to_item(grant),
                condition: Condition::NotExists,
            },
            consent_not_withdrawn_since(&grant.patient_id, &grant.client_id, grant.authorized_at),
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionFailed { index: 0, .. }) => Err(GrantError::InvalidClient),
            Err(StoreError::TransactionFailed { index: 1, .. }) => Err(GrantError::AlreadyRedeemed),
            Err(StoreError::TransactionFailed { .. }) => Err(GrantError::ConsentWithdrawn),
            Err(other) => Err(other.into()),
        }
    }

    /// Refresh: in ONE transaction, checks the client and moves the grant from `expected_generation`
    /// to the next, only if it is still at that generation, not revoked, and belongs to `client_id`,
    /// and only if `patient_id` has not withdrawn their consent to the client since they approved
    /// it (the refresh token's [`ApprovedAt`], from its code).
    /// Failing write 0 is [`GrantError::InvalidClient`]; failing write 1 is [`GrantError::NotFound`]
    /// when there is no live grant of this client, else [`GrantError::Reused`] (a stale generation
    /// or a revoked family); failing write 2 is [`GrantError::ConsentWithdrawn`]. On success the
    /// new refresh token's generation is `expected_generation + 1`.
    pub async fn rotate_with_client_check(
        &self,
        grant_id: &GrantId,
        client_id: &ClientId,
        expected_generation: i64,
        client_check: ClientCheck,
        consent: (&PatientId, ApprovedAt),
    ) -> Result<(), GrantError> {
        let guard = Condition::AllEqual(vec![
            ("generation".to_owned(), Value::N(expected_generation)),
            ("revoked".to_owned(), Value::Bool(false)),
            (
                "client_id".to_owned(),
                Value::S(client_id.as_str().to_owned()),
            ),
        ]);
        let writes = vec![
            Write::Check {
                key: client_key(client_id),
                condition: client_check.condition(),
            },
            Write::Update {
                key: grant_key(grant_id),
                update: Update::default()
                    .add("generation", 1)
                    .set("rotated_at", now_unix()),
                condition: guard,
            },
            consent_not_withdrawn_since(consent.0, client_id, consent.1),
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionFailed { index: 0, .. }) => Err(GrantError::InvalidClient),
            Err(StoreError::TransactionFailed { index: 2, .. }) => {
                Err(GrantError::ConsentWithdrawn)
            }
            Err(StoreError::TransactionFailed { current, .. }) => match current {
                Some(item)
                    if item.get("client_id") == Some(&Value::S(client_id.as_str().to_owned())) =>
                {
                    Err(GrantError::Reused)
                }
                _ => Err(GrantError::NotFound),
            },
            Err(other) => Err(other.into()),
        }
    }

    /// Revokes the family: no refresh token of it works again, and introspection reports its access
    /// tokens inactive. [`RepoError::NotFound`] if there is no live grant. One round trip.
    pub async fn revoke(&self, grant_id: &GrantId) -> Result<(), RepoError> {
        let update = Update::default()
            .set("revoked", true)
            .set("revoked_at", now_unix());
        match self
            .store
            .update(&grant_key(grant_id), update, Condition::Exists)
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// The patient's live grants (revoked ones too), all or one client's, from the `gsi1` index
    /// (eventually consistent: a grant a moment old may be missing). One round trip per 100.
    pub async fn of_patient(
        &self,
        patient_id: &PatientId,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, RepoError> {
        let query = |cursor| -> Query {
            layout::grants_of(patient_id.as_str(), client_id.map(ClientId::as_str), 100)
                .after(cursor)
        };
        let mut grants = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.store.query(query(cursor)).await?;
            for item in &page.items {
                let id = item
                    .key
                    .pk
                    .strip_prefix("GRANT#")
                    .and_then(|id| GrantId::parse(id).ok())
                    .ok_or_else(|| corrupt(&item.key, "not a grant"))?;
                grants.push(from_item(&id, item)?);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(grants),
            }
        }
    }

    /// Revokes every live grant of the patient (of one client, with `client_id`) that the index
    /// lists; returns how many. A grant the index does not list yet cannot be refreshed either
    /// once the consent is withdrawn (see the module documentation). One round trip per grant
    /// plus the listing.
    pub async fn revoke_all(
        &self,
        patient_id: &PatientId,
        client_id: Option<&ClientId>,
    ) -> Result<usize, RepoError> {
        let mut revoked = 0;
        for grant in self.of_patient(patient_id, client_id).await? {
            if grant.revoked {
                continue;
            }
            match self.revoke(&grant.id).await {
                Ok(()) => revoked += 1,
                Err(RepoError::NotFound) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(revoked)
    }

    /// Deletes every grant of the patient the index lists (account deletion). One round trip per
    /// grant plus the listing.
    pub async fn delete_all(&self, patient_id: &PatientId) -> Result<usize, RepoError> {
        let grants = self.of_patient(patient_id, None).await?;
        for grant in &grants {
            self.store
                .delete(&grant_key(&grant.id), Condition::None)
                .await?;
        }
        Ok(grants.len())
    }

    /// The live grant, if any (introspection). One round trip.
    pub async fn get(&self, grant_id: &GrantId) -> Result<Option<Grant>, RepoError> {
        match self.store.get(&grant_key(grant_id)).await? {
            Some(item) => from_item(grant_id, &item).map(Some),
            None => Ok(None),
        }
    }
}

fn to_item(grant: &Grant) -> Item {
    Item::new(grant_key(&grant.id))
        .with("client_id", grant.client_id.as_str())
        .with("patient_id", grant.patient_id.as_str())
        .with("scopes", grant.scopes.names())
        .with("generation", grant.generation)
        .with("revoked", grant.revoked)
        .with("auth_time", grant.auth_time)
        .with("created_at", grant.created_at)
        .with("expires", grant.expires_at)
        .expiring_at(grant.expires_at)
        .indexed(layout::grant_by_patient(
            grant.patient_id.as_str(),
            grant.client_id.as_str(),
            grant.id.as_str(),
        ))
}

fn from_item(id: &GrantId, item: &Item) -> Result<Grant, RepoError> {
    let record = &item.key;
    Ok(Grant {
        id: id.clone(),
        client_id: ClientId::parse(item.string("client_id")?).map_err(|e| corrupt(record, e))?,
        patient_id: PatientId::parse(item.string("patient_id")?).map_err(|e| corrupt(record, e))?,
        scopes: item
            .list("scopes")?
            .iter()
            .map(|s| Scope::parse(s))
            .collect::<Result<Scopes, _>>()
            .map_err(|e| corrupt(record, e))?,
        generation: item.number("generation")?,
        revoked: item.boolean("revoked")?,
        auth_time: item.number("auth_time")?,
        created_at: item.number("created_at")?,
        expires_at: item.number("expires")?,
        rotated_at: item.get("rotated_at").and_then(Value::as_i64),
        authorized_at: ApprovedAt::Secs(item.number("created_at")?),
    })
}

/// Access tokens revoked before their expiry (RFC 7009), by `jti`.
#[derive(Clone)]
pub struct RevokedTokenRepo {
    store: Arc<dyn Store>,
}

fn revoked_key(jti: &str) -> Key {
    layout::revoked_access_token(jti)
}

impl RevokedTokenRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Records that the access token `jti` (as issued by this server) is revoked until its expiry
    /// `exp` (unix seconds); the record disappears with the token. An already expired token needs
    /// no record, so nothing is written. At most one round trip.
    pub async fn revoke_jti(&self, jti: &str, exp: i64) -> Result<(), RepoError> {
        if exp <= now_unix() {
            return Ok(());
        }
        let item = Item::new(revoked_key(jti))
            .with("revoked_at", now_unix())
            .expiring_at(exp);
        self.store.put(item, Condition::None).await?;
        Ok(())
    }

    /// Whether the access token `jti` was revoked. One round trip.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, RepoError> {
        Ok(self.store.get(&revoked_key(jti)).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::RedirectUri;
    use crate::repo::ClientRepo;
    use crate::store::sqlite::SqliteStore;
    use crate::store::CountingStore;

    struct Fixture {
        _dir: tempfile::TempDir,
        counting: Arc<CountingStore>,
        grants: GrantRepo,
        confidential: Client,
        secret: String,
        public: Client,
    }

    async fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        let counting = Arc::new(CountingStore::new(inner));
        let clients = ClientRepo::new(counting.clone());
        let uris = || vec![RedirectUri::parse("https://app.example.com/cb").unwrap()];
        let (confidential, secret) =
            Client::new_confidential("Demo", uris(), Scopes::all()).unwrap();
        let public = Client::new_public("Spa", uris(), Scopes::all()).unwrap();
        clients.create(&confidential).await.unwrap();
        clients.create(&public).await.unwrap();
        counting.take();
        Fixture {
            _dir: dir,
            grants: GrantRepo::new(counting.clone()),
            counting,
            confidential,
            secret,
            public,
        }
    }

    fn grant_for(client: &Client) -> Grant {
        Grant::new(
            GrantId::generate(),
            client.id.clone(),
            PatientId::generate(),
            Scopes::parse("openid profile_read offline_access").unwrap(),
            now_unix() - 5,
            now_unix() + 3600,
        )
    }

    #[tokio::test]
    async fn a_code_exchange_creates_the_grant_in_one_round_trip() {
        let f = fixture().await;
        let grant = grant_for(&f.confidential);
        f.grants
            .create_with_client_check(&grant, ClientCheck::secret(&f.secret))
            .await
            .unwrap();
        assert_eq!(f.counting.take(), 1);
        assert_eq!(f.grants.get(&grant.id).await.unwrap().unwrap(), grant);
    }

    #[tokio::test]
    async fn exchanging_the_same_code_twice_is_already_redeemed() {
        let f = fixture().await;
        let grant = grant_for(&f.confidential);
        f.grants
            .create_with_client_check(&grant, ClientCheck::secret(&f.secret))
            .await
            .unwrap();
        let again = f
            .grants
            .create_with_client_check(&grant, ClientCheck::secret(&f.secret))
            .await;
        assert!(
            matches!(again, Err(GrantError::AlreadyRedeemed)),
            "{again:?}"
        );
    }

    #[tokio::test]
    async fn a_wrong_secret_or_kind_is_invalid_client_and_writes_no_grant() {
        let f = fixture().await;
        let cases = [
            (f.confidential.clone(), ClientCheck::secret("wrong")),
            (f.confidential.clone(), ClientCheck::Public),
            (f.public.clone(), ClientCheck::secret(&f.secret)),
            (f.public.clone(), ClientCheck::secret("")),
        ];
        for (client, check) in cases {
            let grant = grant_for(&client);
            let result = f.grants.create_with_client_check(&grant, check).await;
            assert!(
                matches!(result, Err(GrantError::InvalidClient)),
                "{result:?}"
            );
            assert!(f.grants.get(&grant.id).await.unwrap().is_none());
        }
        let mut unknown = grant_for(&f.public);
        unknown.client_id = ClientId::parse("no-such-client").unwrap();
        let result = f
            .grants
            .create_with_client_check(&unknown, ClientCheck::Public)
            .await;
        assert!(matches!(result, Err(GrantError::InvalidClient)));
    }

    #[tokio::test]
    async fn a_public_client_passes_the_public_check() {
        let f = fixture().await;
        let grant = grant_for(&f.public);
        f.grants
            .create_with_client_check(&grant, ClientCheck::Public)
            .await
            .unwrap();
        f.grants
            .rotate_with_client_check(
                &grant.id,
                &f.public.id,
                0,
                ClientCheck::Public,
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn rotation_advances_the_generation_once_and_a_stale_token_is_reused() {
        let f = fixture().await;
        let grant = grant_for(&f.confidential);
        let id = &f.confidential.id;
        f.grants
            .create_with_client_check(&grant, ClientCheck::secret(&f.secret))
            .await
            .unwrap();
        f.counting.take();
        f.grants
            .rotate_with_client_check(
                &grant.id,
                id,
                0,
                ClientCheck::secret(&f.secret),
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await
            .unwrap();
        assert_eq!(f.counting.take(), 1, "one round trip per refresh");
        f.grants
            .rotate_with_client_check(
                &grant.id,
                id,
                1,
                ClientCheck::secret(&f.secret),
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await
            .unwrap();
        let stale = f
            .grants
            .rotate_with_client_check(
                &grant.id,
                id,
                0,
                ClientCheck::secret(&f.secret),
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await;
        assert!(matches!(stale, Err(GrantError::Reused)), "{stale:?}");
        assert_eq!(
            f.grants.get(&grant.id).await.unwrap().unwrap().generation,
            2
        );
    }

    #[tokio::test]
    async fn a_revoked_family_refuses_even_its_current_token() {
        let f = fixture().await;
        let grant = grant_for(&f.confidential);
        let id = &f.confidential.id;
        f.grants
            .create_with_client_check(&grant, ClientCheck::secret(&f.secret))
            .await
            .unwrap();
        f.grants.revoke(&grant.id).await.unwrap();
        let result = f
            .grants
            .rotate_with_client_check(
                &grant.id,
                id,
                0,
                ClientCheck::secret(&f.secret),
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await;
        assert!(matches!(result, Err(GrantError::Reused)), "{result:?}");
        assert!(f.grants.get(&grant.id).await.unwrap().unwrap().revoked);
    }

    #[tokio::test]
    async fn rotation_checks_the_client_first_and_the_grants_owner() {
        let f = fixture().await;
        let grant = grant_for(&f.confidential);
        let id = &f.confidential.id;
        f.grants
            .create_with_client_check(&grant, ClientCheck::secret(&f.secret))
            .await
            .unwrap();
        let wrong_secret = f
            .grants
            .rotate_with_client_check(
                &grant.id,
                id,
                0,
                ClientCheck::secret("nope"),
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await;
        assert!(matches!(wrong_secret, Err(GrantError::InvalidClient)));
        let other_client = f
            .grants
            .rotate_with_client_check(
                &grant.id,
                &f.public.id,
                0,
                ClientCheck::Public,
                (&grant.patient_id, ApprovedAt::Secs(0)),
            )
            .await;
        assert!(
            matches!(other_client, Err(GrantError::NotFound)),
            "{other_client:?}"
        );
        assert_eq!(
            f.grants.get(&grant.id).await.unwrap().unwrap().generation,
            0,
            "failed attempts change nothing"
        );
    }

    #[tokio::test]
    async fn an_unknown_or_expired_grant_is_not_found() {
        let f = fixture().await;
        let id = &f.confidential.id;
        let missing = f
            .grants
            .rotate_with_client_check(
                &GrantId::generate(),
                id,
                0,
                ClientCheck::secret(&f.secret),
                (&PatientId::generate(), ApprovedAt::Secs(0)),
            )
            .await;
        assert!(matches!(missing, Err(GrantError::NotFound)), "{missing:?}");
        assert!(matches!(
            f.grants.revoke(&GrantId::generate()).await,
            Err(RepoError::NotFound)
        ));

        let mut expired = grant_for(&f.confidential);
        expired.expires_at = now_unix() - 1;
        f.grants
            .create_with_client_check(&expired, ClientCheck::secret(&f.secret))
            .await
            .unwrap();
        assert!(f.grants.get(&expired.id).await.unwrap().is_none());
        let result = f
            .grants
            .rotate_with_client_check(
                &expired.id,
                id,
                0,
                ClientCheck::secret(&f.secret),
                (&expired.patient_id, ApprovedAt::Secs(0)),
            )
            .await;
        assert!(matches!(result, Err(GrantError::NotFound)), "{result:?}");
    }

    #[tokio::test]
    async fn a_revoked_jti_is_revoked_until_its_expiry() {
        let f = fixture().await;
        let revoked = RevokedTokenRepo::new(f.counting.clone());
        revoked.revoke_jti("jti-1", now_unix() + 300).await.unwrap();
        assert!(revoked.is_revoked("jti-1").await.unwrap());
        assert!(!revoked.is_revoked("jti-2").await.unwrap());
        f.counting.take();
        revoked.revoke_jti("jti-3", now_unix() - 1).await.unwrap();
        assert_eq!(f.counting.take(), 0, "an expired token needs no record");
        assert!(!revoked.is_revoked("jti-3").await.unwrap());
    }

    #[test]
    fn grant_ids_are_generated_and_parsed_strictly() {
        let id = GrantId::generate();
        assert_eq!(GrantId::parse(id.as_str()), Ok(id));
        assert_eq!(GrantId::parse(""), Err(InvalidGrantId));
        assert_eq!(GrantId::parse("a#b"), Err(InvalidGrantId));
        assert!(!format!("{:?}", ClientCheck::secret("s3cret")).contains("s3cret"));
    }
}
