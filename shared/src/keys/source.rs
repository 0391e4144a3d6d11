//! Where the key material lives, and loading it into a [`KeySet`].

use std::path::PathBuf;

use super::file::{load_or_create, save, LOCAL_FILE_NAME};
use super::material::KeyMaterial;
use super::secret::{get_secret, put_secret};
use super::{KeyError, KeySet};
use crate::config::Config;

/// Where the key material lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A local JSON file, created on first use.
    LocalFile(PathBuf),
    /// An AWS Secrets Manager secret (ARN or name) whose string is the JSON document.
    SecretsManager {
        /// The secret's ARN.
        arn: String,
    },
}

impl KeySource {
    /// The secret [`Config::keys_secret_arn`] names (`PORTAL_KEYS_SECRET_ARN`), else the local file
    /// in [`Config::data_dir`].
    pub fn from_config(config: &Config) -> KeySource {
        match &config.keys_secret_arn {
            Some(arn) => KeySource::SecretsManager { arn: arn.clone() },
            None => KeySource::LocalFile(config.data_dir.join(LOCAL_FILE_NAME)),
        }
    }

    /// Reads the material: a local file is created (with fresh keys) if missing; a secret must exist
    /// and hold the document.
    pub async fn load_material(&self, aws_endpoint: Option<&str>) -> Result<KeyMaterial, KeyError> {
        match self {
            KeySource::LocalFile(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || load_or_create(&path))
                    .await
                    .map_err(|e| KeyError::Invalid(format!("loading task failed: {e}")))?
            }
            KeySource::SecretsManager { arn } => get_secret(arn, aws_endpoint).await,
        }
    }

    /// Writes the material back (used by `portal-admin keys rotate`).
    pub async fn save_material(
        &self,
        aws_endpoint: Option<&str>,
        material: &KeyMaterial,
    ) -> Result<(), KeyError> {
        match self {
            KeySource::LocalFile(path) => {
                let path = path.clone();
                let material = material.clone();
                tokio::task::spawn_blocking(move || save(&path, &material))
                    .await
                    .map_err(|e| KeyError::Invalid(format!("saving task failed: {e}")))?
            }
            KeySource::SecretsManager { arn } => put_secret(arn, aws_endpoint, material).await,
        }
    }
}

/// Loads the material from `source` and parses it into a [`KeySet`] (once per cold start).
pub async fn load_keyset(
    source: &KeySource,
    aws_endpoint: Option<&str>,
) -> Result<KeySet, KeyError> {
    let material = source.load_material(aws_endpoint).await?;
    KeySet::from_material(&material)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    #[test]
    fn the_source_is_the_secret_when_its_arn_is_set_else_the_local_file() {
        assert_eq!(
            KeySource::from_config(&config(&[("PORTAL_DATA_DIR", "/data")])),
            KeySource::LocalFile(PathBuf::from("/data/keys.json"))
        );
        assert_eq!(
            KeySource::from_config(&config(&[
                ("PORTAL_DATA_DIR", "/data"),
                ("PORTAL_KEYS_SECRET_ARN", "  ")
            ])),
            KeySource::LocalFile(PathBuf::from("/data/keys.json"))
        );
        assert_eq!(
            KeySource::from_config(&config(&[(
                "PORTAL_KEYS_SECRET_ARN",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k"
            )])),
            KeySource::SecretsManager {
                arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k".into()
            }
        );
    }

    #[tokio::test]
    async fn load_keyset_reads_a_local_source() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::LocalFile(dir.path().join(LOCAL_FILE_NAME));
        let keys = load_keyset(&source, None).await.unwrap();
        let again = load_keyset(&source, None).await.unwrap();
        assert_eq!(keys.active_kid(), again.active_kid());
    }
}
