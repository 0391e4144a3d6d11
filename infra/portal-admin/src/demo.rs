//! `portal-admin demo`: seeds, idempotently, the demo patient and demo client that `make run` prints,
//! so a developer can sign in and exchange a code within a minute of cloning.
//!
//! The demo client's secret is fixed and printed on purpose: it only ever exists in a local store.
//! Refuses to run against a DynamoDB table that is not on a loopback emulator (`make run
//! STORE=dynamodb`), so a demo secret can never reach a deployed table.

use shared::config::{Config, StoreConfig};
use shared::crypto;
use shared::domain::client::{Client, ClientId, ClientKind, RedirectUri};
use shared::domain::password::hash_password;
use shared::domain::patient::{BirthDate, Email, Name, Patient, PatientId, Phone};
use shared::oauth::error::append_query;
use shared::repo::{ClientRepo, PatientRepo, RepoError};
use shared::scope::Scopes;
use shared::store::SharedStore;

/// The demo client's id.
pub const CLIENT_ID: &str = "demo-client";
/// The demo client's secret (local stores only).
pub const CLIENT_SECRET: &str = "demo-secret-for-local-runs-only";
/// Where the demo client receives codes (a loopback redirect, RFC 8252).
pub const REDIRECT_URI: &str = "http://127.0.0.1:8080/callback";
/// The demo patient's sign-in email.
pub const PATIENT_EMAIL: &str = "demo.patient@mypatientportal.example";
/// The demo patient's password (local stores only).
pub const PATIENT_PASSWORD: &str = "demo-password-2026";
/// The demo patient's fixed id, so repeated seeding finds the same patient.
pub const PATIENT_ID: &str = "DemoPatient00000000000000001";

/// Seeds the demo data and prints how to use it.
pub async fn seed(config: &Config, store: SharedStore, json: bool) -> Result<(), String> {
    if !is_local(config) {
        return Err(
            "demo data is only seeded into a local store: SQLite, or DynamoDB on a loopback \
             PORTAL_AWS_ENDPOINT"
                .into(),
        );
    }
    let redirect = RedirectUri::parse(REDIRECT_URI).map_err(|e| e.to_string())?;
    let client = Client {
        id: ClientId::parse(CLIENT_ID).map_err(|e| e.to_string())?,
        name: "Demo Health App".to_owned(),
        kind: ClientKind::Confidential {
            secret_hash: Client::secret_hash_of(CLIENT_SECRET),
        },
        redirect_uris: vec![
            redirect,
            RedirectUri::parse("http://localhost:8080/callback").map_err(|e| e.to_string())?,
        ],
        post_logout_redirect_uris: vec![
            RedirectUri::parse("http://127.0.0.1:8080/").map_err(|e| e.to_string())?
        ],
        allowed_scopes: Scopes::all(),
        id_token_alg: Default::default(),
        created_at: shared::store::now_unix(),
        require_acr: None,
    };
    ignore_existing(ClientRepo::new(store.clone()).create(&client).await)?;

    let patient = Patient {
        id: PatientId::parse(PATIENT_ID).map_err(|e| e.to_string())?,
        email: Email::parse(PATIENT_EMAIL).map_err(|e| e.to_string())?,
        email_verified: true,
        first_name: Name::parse("Dana", "first_name").map_err(|e| e.to_string())?,
        last_name: Name::parse("Demo", "last_name").map_err(|e| e.to_string())?,
        birth_date: BirthDate::parse("1985-04-12").map_err(|e| e.to_string())?,
        phone: Some(Phone::parse("+49 30 1234567").map_err(|e| e.to_string())?),
        locale: shared::i18n::Locale::ENGLISH,
    };
    let hash = tokio::task::spawn_blocking(|| hash_password(PATIENT_PASSWORD))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    ignore_existing(PatientRepo::new(store).create(&patient, &hash).await)?;

    let verifier = crypto::random_token(32);
    let challenge = crypto::sha256_b64url(verifier.as_bytes());
    let authorize = append_query(
        &format!("{}/oauth/authorize", config.issuer_str()),
        &[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            (
                "scope",
                "openid profile email phone offline_access profile_read appointment_read appointment_write",
            ),
            ("state", "demo"),
            ("nonce", "demo-nonce"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    if json {
        println!(
            "{}",
            serde_json::json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": REDIRECT_URI,
                "patient_email": PATIENT_EMAIL,
                "patient_password": PATIENT_PASSWORD,
                "authorization_url": authorize,
                "code_verifier": verifier,
            })
        );
    } else {
        println!(
            "\nDemo data (local store only):\n  client_id      {CLIENT_ID}\n  client_secret  {CLIENT_SECRET}\n  redirect_uri   {REDIRECT_URI}\n  patient        {PATIENT_EMAIL} / {PATIENT_PASSWORD}\n\nOpen this URL in a browser, sign in and allow:\n  {authorize}\n\nThe browser then lands on {REDIRECT_URI}?code=... (nothing listens there; copy the code) and you exchange it:\n  curl -s -u {CLIENT_ID}:{CLIENT_SECRET} {issuer}/oauth/token \\\n    -d grant_type=authorization_code -d redirect_uri={REDIRECT_URI} \\\n    -d code_verifier={verifier} -d code=PASTE_CODE_HERE\n",
            issuer = config.issuer_str()
        );
        println!("{}", mail_note(config));
    }
    Ok(())
}

/// Where the demo's account mails (verification and reset links) can be read.
fn mail_note(config: &Config) -> String {
    let place = match &config.mail {
        shared::config::MailConfig::Outbox { dir } => {
            format!("in {} (one .eml file per message)", dir.display())
        }
        shared::config::MailConfig::Ses { .. } => {
            "through SES (on moto: <moto>/moto-api/data.json)".into()
        }
    };
    let register = if config.self_registration {
        "New patients can register themselves: \"New here? Create an account\" on the sign-in page.\n"
    } else {
        "Self-registration is off (PORTAL_SELF_REGISTRATION=off): portal-admin creates accounts.\n"
    };
    format!(
        "{register}Confirmation and password-reset mails land {place}:\nopen the link, press the button, and the sign-in continues to the app."
    )
}

/// A SQLite store, or DynamoDB reached through an emulator on this machine.
fn is_local(config: &Config) -> bool {
    match config.store {
        StoreConfig::Sqlite { .. } => true,
        StoreConfig::Dynamo { .. } => config
            .aws_endpoint
            .as_deref()
            .and_then(|endpoint| url::Url::parse(endpoint).ok())
            .and_then(|url| url.host_str().map(str::to_owned))
            .is_some_and(|host| {
                host == "localhost"
                    || host
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }),
    }
}

fn ignore_existing(result: Result<(), RepoError>) -> Result<(), String> {
    match result {
        Ok(()) | Err(RepoError::AlreadyExists) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    #[test]
    fn demo_data_goes_only_into_local_stores() {
        assert!(is_local(&config(&[])));
        let dynamo = |endpoint: &str| {
            is_local(&config(&[
                ("PORTAL_STORE", "dynamodb:portal-local"),
                ("PORTAL_AWS_ENDPOINT", endpoint),
            ]))
        };
        assert!(dynamo("http://127.0.0.1:5000"));
        assert!(dynamo("http://localhost:5000"));
        assert!(dynamo("http://[::1]:5000"));
        assert!(!dynamo("https://dynamodb.eu-central-1.amazonaws.com"));
        assert!(!is_local(&config(&[(
            "PORTAL_STORE",
            "dynamodb:portal-prod"
        )])));
    }
}
