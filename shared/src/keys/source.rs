//! Where the key material lives, and loading it into a [`KeySet`].

use std::path::{Path, PathBuf};

use super::file::{load_or_create, save, LOCAL_FILE_NAME};
use super::material::KeyMaterial;
use super::secret::{get_secret, put_secret};
use super::{KeyError, KeySet, SECRET_ARN_VAR};

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
    /// `PORTAL_KEYS_SECRET_ARN` when set (non-empty), else `data_dir/keys.json`.
    pub fn from_env(data_dir: &Path) -> KeySource {
        Self::from_lookup(data_dir, |name| std::env::var(name).ok())
    }

    /// [`KeySource::from_env`] with an explicit variable lookup (for tests).
    pub fn from_lookup(data_dir: &Path, lookup: impl Fn(&str) -> Option<String>) -> KeySource {
        match lookup(SECRET_ARN_VAR) {
            Some(arn) if !arn.trim().is_empty() => KeySource::SecretsManager {
                arn: arn.trim().to_owned(),
            },
            _ => KeySource::LocalFile(data_dir.join(LOCAL_FILE_NAME)),
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

    #[test]
    fn the_source_is_the_secret_when_its_arn_is_set_else_the_local_file() {
        let dir = Path::new("/data");
        assert_eq!(
            KeySource::from_lookup(dir, |_| None),
            KeySource::LocalFile(PathBuf::from("/data/keys.json"))
        );
        assert_eq!(
            KeySource::from_lookup(dir, |_| Some("  ".into())),
            KeySource::LocalFile(PathBuf::from("/data/keys.json"))
        );
        assert_eq!(
            KeySource::from_lookup(dir, |name| (name == SECRET_ARN_VAR)
                .then(|| "arn:aws:secretsmanager:eu-west-1:1:secret:k".into())),
            KeySource::SecretsManager {
                arn: "arn:aws:secretsmanager:eu-west-1:1:secret:k".into()
            }
        );
    }

    #[tokio::test]
    async fn load_keyset_reads_a_local_source() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::from_lookup(dir.path(), |_| None);
        let keys = load_keyset(&source, None).await.unwrap();
        let again = load_keyset(&source, None).await.unwrap();
        assert_eq!(keys.active_kid(), again.active_kid());
    }
}
