//! What a soak needs in the store before it starts (the demo catalog, an app, patients), and how
//! it reads the store and the mail afterwards.

use std::path::Path;

use shared::config::{Config, MailConfig, StoreConfig};
use shared::crypto::random_id;
use shared::domain::client::{Client, RedirectUri};
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::dynamo::DynamoStore;
use shared::store::sqlite::SqliteStore;
use shared::store::{Item, SharedStore};
use testkit::patients;

use super::SoakError;
use crate::oauth::{Account, App};

/// The scopes the soak's app asks for: sign-in, profile and the booking API.
const SCOPE: &str = "openid profile_read appointment_read appointment_write";

/// Registers a fresh confidential app for the soak (the demo catalog loaded first if the store
/// has none).
pub async fn app(store: &SharedStore, base_url: &str) -> Result<App, SoakError> {
    testkit::catalog::ensure_demo(store).await;
    let host = format!(
        "https://soak-{}.example",
        random_id(10).to_ascii_lowercase()
    );
    let redirect_uri = format!("{host}/callback");
    let registered = RedirectUri::parse(&redirect_uri)
        .map_err(|e| SoakError::Setup(format!("redirect URI: {e}")))?;
    let (client, secret) = Client::new_confidential("Soak app", vec![registered], Scopes::all())
        .map_err(|e| SoakError::Setup(format!("client: {e}")))?;
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .map_err(|e| SoakError::Setup(format!("registering the app at {base_url}: {e}")))?;
    Ok(App {
        client_id: client.id.to_string(),
        client_secret: Some(secret),
        redirect_uri,
        scope: SCOPE.into(),
    })
}

/// Registers a patient with a unique address and a random password.
pub async fn account(store: &SharedStore) -> Result<Account, SoakError> {
    let unique = random_id(12).to_ascii_lowercase();
    let email = format!("soak.{unique}@example.org");
    let password = format!("soak-pw-{unique}");
    let mut patient = patients::patient(&email, None);
    patient.email_verified = true;
    patients::register(store, &patient, Some(&password)).await;
    Ok(Account { email, password })
}

/// Every live item of the store `config` names.
pub async fn snapshot(config: &Config) -> Result<Vec<Item>, SoakError> {
    let read = |e: shared::store::StoreError| SoakError::Setup(format!("reading the store: {e}"));
    match &config.store {
        StoreConfig::Sqlite { path } => SqliteStore::open(path.clone())
            .map_err(read)?
            .snapshot()
            .await
            .map_err(read),
        StoreConfig::Dynamo { table } => {
            DynamoStore::connect(table, config.aws_endpoint.as_deref())
                .await
                .map_err(read)?
                .snapshot()
                .await
                .map_err(read)
        }
    }
}

/// The `Message-ID`s (without angle brackets) of every message the portal sent: the outbox
/// folder's, or SES's on moto (`PORTAL_AWS_ENDPOINT`, as `make run STORE=dynamodb` serves it).
/// `None` for a real SES, whose sent mail cannot be read back.
pub async fn sent_message_ids(config: &Config) -> Result<Option<Vec<String>>, SoakError> {
    match (&config.mail, &config.aws_endpoint) {
        (MailConfig::Outbox { dir }, _) => outbox_message_ids(dir).map(Some),
        (MailConfig::Ses { .. }, Some(endpoint)) => moto_message_ids(endpoint).await.map(Some),
        (MailConfig::Ses { .. }, None) => Ok(None),
    }
}

/// The `Message-ID`s of the raw messages moto's SES accepted.
async fn moto_message_ids(endpoint: &str) -> Result<Vec<String>, SoakError> {
    let failed = |e: reqwest::Error| SoakError::Setup(format!("reading moto's SES messages: {e}"));
    let data: serde_json::Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .map_err(failed)?
        .json()
        .await
        .map_err(failed)?;
    Ok(data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|message| message["raw_data"].as_str().and_then(message_id))
        .collect())
}

/// The `Message-ID`s (without angle brackets) of every message in the local outbox folder (one
/// `.eml` file per message sent; none when the folder does not exist).
fn outbox_message_ids(dir: &Path) -> Result<Vec<String>, SoakError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SoakError::Setup(format!("{}: {e}", dir.display()))),
    };
    let mut ids = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| SoakError::Setup(format!("{}: {e}", dir.display())))?
            .path();
        if path.extension().is_none_or(|ext| ext != "eml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| SoakError::Setup(format!("{}: {e}", path.display())))?;
        if let Some(id) = message_id(&text) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The `Message-ID` header of a message, without its angle brackets.
fn message_id(message: &str) -> Option<String> {
    message
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("message-id").then(|| {
                value
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_id_is_read_from_the_headers_only() {
        let message =
            "From: a@b\r\nMessage-ID: <asap.e1.a1@portal.example>\r\n\r\nMessage-ID: <body>";
        assert_eq!(
            message_id(message).as_deref(),
            Some("asap.e1.a1@portal.example")
        );
        assert_eq!(message_id("Subject: x\r\n\r\nMessage-ID: <y>"), None);
    }

    #[test]
    fn a_missing_outbox_folder_is_no_mail() {
        let dir = tempfile::tempdir().unwrap();
        assert!(outbox_message_ids(&dir.path().join("outbox"))
            .unwrap()
            .is_empty());
        std::fs::write(dir.path().join("1-m.eml"), "Message-ID: <m1@x>\n\nhello").unwrap();
        std::fs::write(dir.path().join(".1-m.tmp"), "Message-ID: <no>\n\n").unwrap();
        assert_eq!(outbox_message_ids(dir.path()).unwrap(), ["m1@x"]);
    }
}
