//! OAuth clients ([`layout::client`]: `CLIENT#{id}` / `CLIENT`).
//!
//! Attributes: `name`, `kind` (`"confidential"` | `"public"`), `secret_hash` (confidential only),
//! `redirect_uris`, `post_logout_redirect_uris`, `allowed_scopes` (lists), `created_at` (unix seconds),
//! `id_token_signed_response_alg` (only when not RS256: records written before ES256 id_tokens
//! existed have none and mean RS256).
//! `require_acr` (the level every authorization needs; absent: none).
//! `kind` and `secret_hash` are plain attributes on purpose: the token endpoint authenticates a client
//! inside its storage transaction with `Equals("secret_hash", ..)` or `Equals("kind", "public")`
//! (see [`super::grants::ClientCheck`]), so a public client, having no `secret_hash`, can never pass
//! a secret check.

use std::sync::Arc;

use super::reads::Read;
use super::{corrupt, RepoError};
use crate::domain::assurance::Acr;
use crate::domain::client::{Client, ClientId, ClientKind, RedirectUri};
use crate::keys::SigningAlg;
use crate::scope::{Scope, Scopes};
use crate::store::{layout, Condition, Item, Key, Store, StoreError};

pub(crate) const KIND_PUBLIC: &str = "public";
pub(crate) const KIND_CONFIDENTIAL: &str = "confidential";
pub(crate) const ATTR_KIND: &str = "kind";
pub(crate) const ATTR_SECRET_HASH: &str = "secret_hash";
const ATTR_ID_TOKEN_ALG: &str = "id_token_signed_response_alg";
const ATTR_REQUIRE_ACR: &str = "require_acr";

/// The storage key of a client record.
pub(crate) fn client_key(id: &ClientId) -> Key {
    layout::client(id.as_str())
}

/// Registered clients.
#[derive(Clone)]
pub struct ClientRepo {
    store: Arc<dyn Store>,
}

impl ClientRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Registers a client. [`RepoError::AlreadyExists`] if the id is taken. One round trip.
    pub async fn create(&self, client: &Client) -> Result<(), RepoError> {
        match self.store.put(to_item(client), Condition::NotExists).await {
            Ok(_) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err(RepoError::AlreadyExists),
            Err(other) => Err(other.into()),
        }
    }

    /// Registers a client, replacing any client with the same id (admin use: a well-known public
    /// client such as the API documentation's, whose redirect URI follows the issuer). One round trip.
    pub async fn replace(&self, client: &Client) -> Result<(), RepoError> {
        self.store.put(to_item(client), Condition::None).await?;
        Ok(())
    }

    /// The client with this id, if registered. One round trip.
    pub async fn get(&self, id: &ClientId) -> Result<Option<Client>, RepoError> {
        Self::read(id).get(&*self.store).await
    }

    /// A read of the client with this id, to batch with other reads ([`super::reads`]).
    pub fn read(id: &ClientId) -> Read<Client> {
        let id = id.clone();
        Read::new(client_key(&id), move |item| from_item(&id, &item).map(Some))
    }
}

fn uri_names(uris: &[RedirectUri]) -> Vec<String> {
    uris.iter().map(|u| u.as_str().to_owned()).collect()
}

fn to_item(client: &Client) -> Item {
    let mut item = Item::new(client_key(&client.id))
        .with("name", client.name.as_str())
        .with("redirect_uris", uri_names(&client.redirect_uris))
        .with(
            "post_logout_redirect_uris",
            uri_names(&client.post_logout_redirect_uris),
        )
        .with("allowed_scopes", client.allowed_scopes.names())
        .with("created_at", client.created_at);
    if let Some(acr) = client.require_acr {
        item = item.with(ATTR_REQUIRE_ACR, acr.urn());
    }
    item = match &client.kind {
        ClientKind::Confidential { secret_hash } => item
            .with(ATTR_KIND, KIND_CONFIDENTIAL)
            .with(ATTR_SECRET_HASH, secret_hash.as_str()),
        ClientKind::Public => item.with(ATTR_KIND, KIND_PUBLIC),
    };
    if !client.id_token_alg.is_rs256() {
        item = item.with(ATTR_ID_TOKEN_ALG, client.id_token_alg.name());
    }
    item
}

fn from_item(id: &ClientId, item: &Item) -> Result<Client, RepoError> {
    let record = &item.key;
    let kind = match item.string(ATTR_KIND)? {
        KIND_PUBLIC => ClientKind::Public,
        KIND_CONFIDENTIAL => ClientKind::Confidential {
            secret_hash: item.string(ATTR_SECRET_HASH)?.to_owned(),
        },
        other => {
            return Err(corrupt(
                record,
                format_args!("unknown client kind `{other}`"),
            ))
        }
    };
    let uris = |name: &str| -> Result<Vec<RedirectUri>, RepoError> {
        item.list(name)?
            .iter()
            .map(|u| RedirectUri::parse(u).map_err(|e| corrupt(record, e)))
            .collect()
    };
    let allowed_scopes = item
        .list("allowed_scopes")?
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Scopes, _>>()
        .map_err(|e| corrupt(record, e))?;
    let id_token_alg = match item.get(ATTR_ID_TOKEN_ALG) {
        None => SigningAlg::RS256,
        Some(_) => {
            let name = item.string(ATTR_ID_TOKEN_ALG)?;
            SigningAlg::parse(name).ok_or_else(|| {
                corrupt(record, format_args!("unknown id_token algorithm `{name}`"))
            })?
        }
    };
    Ok(Client {
        id: id.clone(),
        name: item.string("name")?.to_owned(),
        kind,
        redirect_uris: uris("redirect_uris")?,
        post_logout_redirect_uris: uris("post_logout_redirect_uris")?,
        allowed_scopes,
        id_token_alg,
        created_at: item.number("created_at")?,
        require_acr: match item.get(ATTR_REQUIRE_ACR) {
            None => None,
            Some(_) => {
                let urn = item.string(ATTR_REQUIRE_ACR)?;
                Some(Acr::parse(urn).ok_or_else(|| {
                    corrupt(record, format_args!("unknown level of assurance `{urn}`"))
                })?)
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap())
    }

    fn uris(list: &[&str]) -> Vec<RedirectUri> {
        list.iter()
            .map(|u| RedirectUri::parse(u).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_confidential_client_round_trips_and_its_secret_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let repo = ClientRepo::new(store(&dir));
        let (client, secret) = Client::new_confidential(
            "Demo app",
            uris(&["https://app.example.com/cb", "http://127.0.0.1:8765/cb"]),
            Scopes::parse("openid profile_read").unwrap(),
        )
        .unwrap();
        let client = client
            .with_post_logout_redirect_uris(uris(&["https://app.example.com/bye"]))
            .unwrap();
        repo.create(&client).await.unwrap();
        let loaded = repo.get(&client.id).await.unwrap().unwrap();
        assert_eq!(loaded, client);
        assert!(loaded.verify_secret(&secret));
    }

    #[tokio::test]
    async fn a_public_client_round_trips_without_a_secret_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let repo = ClientRepo::new(store.clone());
        let client =
            Client::new_public("Spa", uris(&["https://spa.example.com/"]), Scopes::all()).unwrap();
        repo.create(&client).await.unwrap();
        assert_eq!(repo.get(&client.id).await.unwrap().unwrap(), client);
        let item = store.get(&client_key(&client.id)).await.unwrap().unwrap();
        assert_eq!(item.string(ATTR_KIND).unwrap(), KIND_PUBLIC);
        assert!(item.get(ATTR_SECRET_HASH).is_none());
    }

    #[tokio::test]
    async fn an_es256_id_token_client_round_trips_and_rs256_is_the_unwritten_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let repo = ClientRepo::new(store.clone());
        let rs256 =
            Client::new_public("Spa", uris(&["https://spa.example.com/"]), Scopes::all()).unwrap();
        let es256 = Client::new_public("Rp", uris(&["https://rp.example.com/"]), Scopes::all())
            .unwrap()
            .with_id_token_alg(SigningAlg::ES256);
        repo.create(&rs256).await.unwrap();
        repo.create(&es256).await.unwrap();
        assert_eq!(repo.get(&es256.id).await.unwrap().unwrap(), es256);
        assert_eq!(
            repo.get(&rs256.id).await.unwrap().unwrap().id_token_alg,
            SigningAlg::RS256
        );
        let item = store.get(&client_key(&rs256.id)).await.unwrap().unwrap();
        assert!(item.get(ATTR_ID_TOKEN_ALG).is_none());
        let mut item = store.get(&client_key(&es256.id)).await.unwrap().unwrap();
        assert_eq!(item.string(ATTR_ID_TOKEN_ALG).unwrap(), "ES256");
        item = item.with(ATTR_ID_TOKEN_ALG, "HS256");
        store.put(item, Condition::None).await.unwrap();
        assert!(matches!(
            repo.get(&es256.id).await,
            Err(RepoError::Corrupt(..))
        ));
    }

    #[tokio::test]
    async fn creating_the_same_id_twice_is_already_exists() {
        let dir = tempfile::tempdir().unwrap();
        let repo = ClientRepo::new(store(&dir));
        let client =
            Client::new_public("Spa", uris(&["https://spa.example.com/"]), Scopes::all()).unwrap();
        repo.create(&client).await.unwrap();
        assert!(matches!(
            repo.create(&client).await,
            Err(RepoError::AlreadyExists)
        ));
    }

    #[tokio::test]
    async fn an_unknown_client_is_none_and_a_malformed_record_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir);
        let repo = ClientRepo::new(store.clone());
        let id = ClientId::parse("nobody").unwrap();
        assert!(repo.get(&id).await.unwrap().is_none());
        store
            .put(
                Item::new(client_key(&id)).with(ATTR_KIND, "admin"),
                Condition::None,
            )
            .await
            .unwrap();
        assert!(matches!(repo.get(&id).await, Err(RepoError::Corrupt(_))));
    }
}
