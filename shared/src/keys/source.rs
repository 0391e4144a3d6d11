//! Where a function's key document lives, and loading it into a [`KeySet`].

use std::path::PathBuf;

use super::document::KeyDocument;
use super::file::{ensure_local, keys_dir, read_document};
use super::keyset::KeySet;
use super::role::Role;
use super::secret::SecretStore;
use super::KeyError;
use crate::config::{AsapDispatch, Config};

/// Where a function instance reads its keys (at init and on reload).
#[derive(Clone, Debug)]
pub enum KeySource {
    /// Local documents `<dir>/<role>.json` (`$PORTAL_DATA_DIR/keys`), one per role the process
    /// plays.
    LocalFiles {
        /// The key folder.
        dir: PathBuf,
        /// The roles whose documents it reads.
        roles: Vec<Role>,
    },
    /// The function's own Secrets Manager secret (`PORTAL_KEYS_SECRET_ARN`).
    Secret {
        /// The secret's ARN or name.
        arn: String,
        /// The role its document must be for.
        role: Role,
        /// The client, built once.
        store: SecretStore,
    },
}

impl KeySource {
    /// The source of the function `role` under `config`: its secret when `PORTAL_KEYS_SECRET_ARN`
    /// is set, else the local documents (created on first use). `booking` with inline ASAP
    /// dispatch sends the ASAP emails itself, so locally it also reads the `asap` document; a
    /// deployed booking function reads only its own secret and must use stream dispatch.
    pub async fn for_function(config: &Config, role: Role) -> Result<KeySource, KeyError> {
        let inline_notifier = role == Role::Booking && config.asap_dispatch == AsapDispatch::Inline;
        match &config.keys_secret_arn {
            Some(arn) => {
                if inline_notifier {
                    return Err(KeyError::Invalid(
                        "the booking function reads only its own key secret, which holds no \
                         unsubscribe-link key: set PORTAL_ASAP_DISPATCH=stream (the asap \
                         function then sends the ASAP emails)"
                            .into(),
                    ));
                }
                let store = SecretStore::connect(config.aws_endpoint.as_deref(), arn).await?;
                Ok(KeySource::Secret {
                    arn: arn.clone(),
                    role,
                    store,
                })
            }
            None => {
                let mut roles = vec![role];
                if inline_notifier {
                    roles.push(Role::Asap);
                }
                let dir = keys_dir(&config.data_dir);
                let create = dir.clone();
                let now = chrono::Utc::now().timestamp();
                crate::blocking::run(
                    move || ensure_local(&create, now),
                    |e| KeyError::Invalid(format!("creating local keys failed: {e}")),
                )
                .await?;
                Ok(KeySource::LocalFiles { dir, roles })
            }
        }
    }

    /// Reads the document(s) and parses them (once per cold start, and on reloads).
    pub async fn load(&self) -> Result<KeySet, KeyError> {
        let documents = match self {
            KeySource::LocalFiles { dir, roles } => {
                let (dir, roles) = (dir.clone(), roles.clone());
                crate::blocking::run(
                    move || {
                        roles
                            .iter()
                            .map(|&role| {
                                read_document(&dir, role)?.ok_or_else(|| {
                                    KeyError::Missing(format!("`{}`", dir.display()))
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                    },
                    |e| KeyError::Invalid(format!("loading task failed: {e}")),
                )
                .await?
            }
            KeySource::Secret { arn, role, store } => {
                let text = store.get(arn).await?.ok_or_else(|| {
                    KeyError::Missing(format!("secret `{arn}` (it has no value)"))
                })?;
                let document = KeyDocument::from_json(&text)
                    .map_err(|e| KeyError::Invalid(format!("{e} (in secret `{arn}`)")))?;
                if document.role != *role {
                    return Err(KeyError::Invalid(format!(
                        "secret `{arn}` holds the {} function's keys, not the {role} function's: \
                         each function reads its own secret",
                        document.role
                    )));
                }
                vec![document]
            }
        };
        KeySet::from_documents(&documents)
    }

    /// Where it reads from, for logs and messages.
    pub fn describe(&self) -> String {
        match self {
            KeySource::LocalFiles { dir, roles } => {
                let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
                format!("{}/{{{}}}.json", dir.display(), names.join(","))
            }
            KeySource::Secret { arn, .. } => format!("secretsmanager:{arn}"),
        }
    }
}
