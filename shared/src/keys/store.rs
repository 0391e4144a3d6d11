//! The operator's side (`portal-admin keys init | rotate | sync`): where all key documents live,
//! and the three operations on them. Every operation writes the operator's document first, then
//! each function's document made from it, so a failure half-way is repaired by `keys sync`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::admin::{AdminKeys, Rotation};
use super::file;
use super::role::Role;
use super::secret::SecretStore;
use super::KeyError;
use crate::config::{Config, KEYS_SECRETS_VAR};

/// Every key document: locally the files of `$PORTAL_DATA_DIR/keys`, deployed the secrets named by
/// `PORTAL_KEYS_SECRETS` (the stack's `KeySecrets` output).
#[derive(Clone, Debug)]
pub enum KeyStore {
    /// The local key folder.
    Local(PathBuf),
    /// One secret for the operator's document and one per function.
    Secrets {
        /// The operator's document.
        admin: String,
        /// Each function's document.
        roles: BTreeMap<Role, String>,
        /// The client.
        store: SecretStore,
    },
}

impl KeyStore {
    /// The documents `config` names: the secrets of `PORTAL_KEYS_SECRETS`, else the local folder.
    pub async fn from_config(config: &Config) -> Result<KeyStore, KeyError> {
        let Some(secrets) = &config.keys_secrets else {
            if config.keys_secret_arn.is_some() {
                return Err(KeyError::Invalid(format!(
                    "portal-admin needs every key secret, not one function's: set \
                     {KEYS_SECRETS_VAR} to the stack's KeySecrets output"
                )));
            }
            return Ok(KeyStore::Local(file::keys_dir(&config.data_dir)));
        };
        let mut roles = BTreeMap::new();
        let mut admin = None;
        for (name, arn) in secrets {
            match Role::parse(name) {
                Some(role) => {
                    roles.insert(role, arn.clone());
                }
                None => admin = Some(arn.clone()),
            }
        }
        let admin = admin.ok_or_else(|| {
            KeyError::Invalid(format!("{KEYS_SECRETS_VAR} names no admin secret"))
        })?;
        let store = SecretStore::connect(config.aws_endpoint.as_deref(), &admin).await?;
        Ok(KeyStore::Secrets {
            admin,
            roles,
            store,
        })
    }

    /// Where the documents are, for messages.
    pub fn describe(&self) -> String {
        match self {
            KeyStore::Local(dir) => format!("file:{}", dir.display()),
            KeyStore::Secrets { admin, .. } => {
                format!("secretsmanager:{admin} (and one per function)")
            }
        }
    }

    /// The operator's document, if keys were created.
    pub async fn load_admin(&self) -> Result<Option<AdminKeys>, KeyError> {
        match self {
            KeyStore::Local(dir) => {
                let dir = dir.clone();
                blocking(move || file::read_admin(&dir)).await
            }
            KeyStore::Secrets { admin, store, .. } => match store.get(admin).await? {
                // A fresh stack's secret has no value, or a value that is not ours.
                // An upgrade happens in memory: `keys sync` and `keys rotate` save it.
                Some(text) if looks_like_a_key_document(&text) => {
                    AdminKeys::from_json(&text, chrono::Utc::now().timestamp())
                        .map(|(keys, _)| Some(keys))
                        .map_err(|e| KeyError::Invalid(format!("{e} (in secret `{admin}`)")))
                }
                _ => Ok(None),
            },
        }
    }

    /// Writes the operator's document, then every function's document made from it at `now`.
    pub async fn save(&self, keys: &AdminKeys, now: i64) -> Result<(), KeyError> {
        keys.check()?;
        let documents = Role::ALL
            .iter()
            .map(|&role| keys.document(role, now))
            .collect::<Result<Vec<_>, _>>()?;
        match self {
            KeyStore::Local(dir) => {
                let (dir, keys) = (dir.clone(), keys.clone());
                blocking(move || {
                    file::write_admin(&dir, &keys)?;
                    documents
                        .iter()
                        .try_for_each(|document| file::write_document(&dir, document))
                })
                .await
            }
            KeyStore::Secrets {
                admin,
                roles,
                store,
            } => {
                store.put(admin, keys.to_json()?).await?;
                for document in documents {
                    let arn = roles.get(&document.role).ok_or_else(|| {
                        KeyError::Invalid(format!(
                            "{KEYS_SECRETS_VAR} names no secret for the {} function",
                            document.role
                        ))
                    })?;
                    store.put(arn, document.to_json()?).await?;
                }
                Ok(())
            }
        }
    }

    /// `keys init`: creates fresh keys; refuses when keys exist.
    pub async fn init(&self, now: i64) -> Result<AdminKeys, KeyError> {
        if self.load_admin().await?.is_some() {
            return Err(KeyError::Exists(self.describe()));
        }
        let keys = AdminKeys::generate(now)?;
        self.save(&keys, now).await?;
        Ok(keys)
    }

    /// `keys rotate`: publish-then-activate ([`AdminKeys::rotate`]), then every document.
    pub async fn rotate(&self, now: i64, force: bool) -> Result<(AdminKeys, Rotation), KeyError> {
        let mut keys = self
            .load_admin()
            .await?
            .ok_or_else(|| KeyError::Missing(self.describe()))?;
        let rotation = keys.rotate(now, force)?;
        self.save(&keys, now).await?;
        Ok((keys, rotation))
    }

    /// `keys sync`: drops what has expired and rewrites every function's document from the
    /// operator's (after a rotation that failed half-way, or to prune). Returns the dropped ids.
    pub async fn sync(&self, now: i64) -> Result<Vec<String>, KeyError> {
        let mut keys = self
            .load_admin()
            .await?
            .ok_or_else(|| KeyError::Missing(self.describe()))?;
        let removed = keys.prune(now);
        self.save(&keys, now).await?;
        Ok(removed)
    }
}

/// Whether a secret's text is one of our documents (a JSON object with `format`), as opposed to
/// the empty or random value of a secret nobody initialised.
fn looks_like_a_key_document(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v.get("format").is_some())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| KeyError::Invalid(format!("key file task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::timing::PUBLICATION_DELAY_SECS;
    use crate::keys::KeyDocument;

    #[tokio::test]
    async fn init_rotate_and_sync_keep_every_document_in_step_with_the_operators() {
        let data = tempfile::tempdir().unwrap();
        let dir = file::keys_dir(data.path());
        let store = KeyStore::Local(dir.clone());
        let t0 = 1_000_000;
        let keys = store.init(t0).await.unwrap();
        assert!(matches!(store.init(t0).await, Err(KeyError::Exists(_))));
        for role in Role::ALL {
            let stored = file::read_document(&dir, role).unwrap().unwrap();
            assert_eq!(stored, keys.document(role, t0).unwrap(), "{role}");
        }

        let err = store.rotate(t0 + 60, false).await.unwrap_err();
        assert!(matches!(err, KeyError::TooSoon { .. }), "{err}");
        assert!(err.to_string().contains("--force"), "{err}");
        let unchanged: KeyDocument = file::read_document(&dir, Role::Token).unwrap().unwrap();
        assert_eq!(unchanged, keys.document(Role::Token, t0).unwrap());

        let t1 = t0 + PUBLICATION_DELAY_SECS;
        let (rotated, rotation) = store.rotate(t1, false).await.unwrap();
        assert_eq!(file::read_admin(&dir).unwrap().unwrap(), rotated);
        let token = file::read_document(&dir, Role::Token).unwrap().unwrap();
        assert_eq!(token.token_signing.unwrap().kid, rotation.activated_kid);

        let removed = store.sync(t1 + 365 * 24 * 3600).await.unwrap();
        assert!(removed.contains(&rotation.retired_kid), "{removed:?}");
    }
}
