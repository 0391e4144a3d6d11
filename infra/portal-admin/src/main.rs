//! `portal-admin`: administration of a MyPatientPortal store.
//!
//! It reads the same configuration as the functions (`PORTAL_STORE`, ...), so with nothing set and run
//! from the repository root it works on the very store `make run` serves.

mod audit;
mod catalog;
mod demo;
mod keys;
mod patients;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use shared::config::{Config, StoreConfig};
use shared::store::dynamo::DynamoStore;

#[derive(Parser)]
#[command(
    name = "portal-admin",
    version,
    about = "Administer a MyPatientPortal store"
)]
struct Cli {
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare the configured store: create the SQLite file and schema, or the DynamoDB table
    /// (key schema, index, TTL and stream as template.yaml declares them) if it does not exist.
    Init,
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage patient accounts.
    #[command(subcommand)]
    Patient(PatientCommand),
    /// Manage the signing and sealing keys (every key document: the operator's and each
    /// function's).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage the institution's catalog (insurances, categories, types, schedules).
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Seed the demo patient and demo client of `make run` (local stores only: SQLite, or
    /// DynamoDB on a loopback emulator; idempotent) and print their credentials and a
    /// ready-to-open authorization URL.
    Demo,
    /// Register (or re-register) the public PKCE client of the API documentation, so the
    /// "Authorize" button of /api-docs signs patients in. Its redirect URI is
    /// PORTAL_ISSUER + /api-docs/oauth2-redirect; run it again after changing the issuer.
    DocsClient,
    /// Show what apps did with a patient's data: the audit log of patient-data access (when,
    /// which app, which route and appointment, outcome), newest first.
    Audit(AuditArgs),
}

#[derive(Args)]
struct AuditArgs {
    /// The patient id (the `sub` of their tokens).
    #[arg(long, value_name = "ID")]
    patient: String,
    /// How many days back (1 to 3650).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    days: u32,
    /// Show at most this many records (the newest).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Validate a catalog file (YAML or JSON) and make it the current catalog, replacing the
    /// previous one. Every problem is reported, naming its entry; nothing is written then.
    Load {
        /// The catalog file, e.g. infra/catalog/demo.yaml.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Register an OAuth client. A confidential client's secret is printed once and stored hashed.
    Create(ClientCreate),
}

#[derive(Args)]
struct ClientCreate {
    /// Display name shown to patients on the consent page.
    #[arg(long)]
    name: String,
    /// Allowed redirect URI (exact match; https, or http on 127.0.0.1, [::1], localhost). Repeatable.
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    redirect_uris: Vec<String>,
    /// Allowed post-logout redirect URI (same rules). Repeatable.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// Scope the client may request (repeatable, or space-separated); default: every scope.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Public client (browser or native app): no secret, PKCE required.
    #[arg(long)]
    public: bool,
    /// How its id_tokens are signed (`id_token_signed_response_alg`): RS256 (the OIDC default)
    /// or ES256 (~20x cheaper to sign). Access tokens are RS256 either way.
    #[arg(long = "id-token-alg", value_name = "ALG", default_value = "RS256", value_parser = parse_id_token_alg)]
    id_token_alg: shared::keys::SigningAlg,
    /// Level of assurance every authorization of this client needs, whatever it sends in
    /// `acr_values`: `urn:mypatientportal:loa:2` demands a second factor.
    #[arg(long = "require-acr", value_name = "ACR", value_parser = parse_acr)]
    require_acr: Option<shared::domain::Acr>,
}

fn parse_id_token_alg(name: &str) -> Result<shared::keys::SigningAlg, String> {
    shared::keys::SigningAlg::parse(name).ok_or_else(|| format!("`{name}`: use RS256 or ES256"))
}

/// `--require-acr`: one of the levels discovery lists.
fn parse_acr(text: &str) -> Result<shared::domain::Acr, String> {
    shared::domain::Acr::parse(text).ok_or_else(|| {
        format!(
            "unknown level of assurance `{text}`: use {} or {}",
            shared::domain::Acr::Loa1,
            shared::domain::Acr::Loa2
        )
    })
}

#[derive(Subcommand)]
enum PatientCommand {
    /// Create a patient account; the password is read from standard input.
    Create(PatientCreate),
    /// List patient accounts by email address (a page at a time; never a password hash).
    List(PatientList),
    /// Show one patient: profile, whether the address is verified, connected apps.
    Show(PatientShow),
}

#[derive(Args)]
struct PatientList {
    /// Patients per page (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// Where the previous page ended (its `next_cursor`).
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct PatientShow {
    /// The patient id (the `sub` of their tokens).
    #[arg(long, value_name = "ID")]
    id: Option<String>,
    /// The sign-in email address (any letter case).
    #[arg(long)]
    email: Option<String>,
}

#[derive(Args)]
struct PatientCreate {
    /// Sign-in email address (unique, case-insensitive).
    #[arg(long)]
    email: String,
    /// Given name.
    #[arg(long)]
    first_name: String,
    /// Family name.
    #[arg(long)]
    last_name: String,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    birth_date: String,
    /// Phone number in international form, e.g. "+49 30 1234567".
    #[arg(long)]
    phone: Option<String>,
    /// The patient's language: the language of their emails and of the `locale` claim (en, de).
    #[arg(long, value_name = "LANGUAGE", default_value = "en", value_parser = parse_locale)]
    locale: shared::i18n::Locale,
    /// Read the password (8 to 1024 characters) from standard input, up to a final newline.
    #[arg(long, required = true)]
    password_stdin: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("portal-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    match cli.command {
        Command::Init => init(&config, cli.json).await,
        Command::Client(ClientCommand::Create(args)) => {
            client_create(&config, args, cli.json).await
        }
        Command::Patient(PatientCommand::Create(args)) => {
            patient_create(&config, args, cli.json).await
        }
        Command::Patient(PatientCommand::List(args)) => {
            let store = shared::boot::connect_store(&config)
                .await
                .map_err(|e| e.to_string())?;
            patients::list(store, args.limit, args.cursor.as_deref(), cli.json).await
        }
        Command::Patient(PatientCommand::Show(args)) => {
            let store = shared::boot::connect_store(&config)
                .await
                .map_err(|e| e.to_string())?;
            let lookup = match (args.id, args.email) {
                (Some(id), _) => patients::Lookup::Id(id),
                (None, Some(email)) => patients::Lookup::Email(email),
                (None, None) => return Err("give --id or --email".into()),
            };
            patients::show(store, lookup, cli.json).await
        }
        Command::Catalog(CatalogCommand::Load { file }) => {
            catalog::load(&config, &file, cli.json).await
        }
        Command::Keys(command) => keys::run(&config, command, cli.json).await,
        Command::Demo => {
            let store = shared::boot::connect_store(&config)
                .await
                .map_err(|e| e.to_string())?;
            demo::seed(&config, store, cli.json).await
        }
        Command::DocsClient => docs_client(&config, cli.json).await,
        Command::Audit(args) => {
            audit::show(
                &config,
                &args.patient,
                args.days,
                args.limit as usize,
                cli.json,
            )
            .await
        }
    }
}

/// Registers the documentation's client for this issuer, replacing an earlier registration (a
/// public client has no secret to lose; its redirect URI follows the issuer).
async fn docs_client(config: &Config, json: bool) -> Result<(), String> {
    use shared::openapi::docs_client;

    let client = docs_client::client(config.issuer_str(), shared::store::now_unix())
        .map_err(|e| e.to_string())?;
    let store = shared::boot::connect_store(config)
        .await
        .map_err(|e| e.to_string())?;
    shared::repo::ClientRepo::new(store)
        .replace(&client)
        .await
        .map_err(|e| format!("cannot save the documentation client: {e}"))?;
    let redirect = docs_client::redirect_uri(config.issuer_str());
    if json {
        println!(
            "{}",
            serde_json::json!({ "client_id": docs_client::CLIENT_ID, "redirect_uri": redirect })
        );
    } else {
        println!(
            "documentation client registered: {} (public, PKCE), redirect {redirect}",
            docs_client::CLIENT_ID
        );
    }
    Ok(())
}

async fn init(config: &Config, json: bool) -> Result<(), String> {
    let description = match &config.store {
        StoreConfig::Sqlite { path } => {
            shared::boot::connect_store(config)
                .await
                .map_err(|e| e.to_string())?;
            format!("sqlite:{}", path.display())
        }
        StoreConfig::Dynamo { table } => {
            let client = shared::store::dynamo::client(config.aws_endpoint.as_deref()).await;
            DynamoStore::create_table(&client, table)
                .await
                .map_err(|e| e.to_string())?;
            format!("dynamodb:{table}")
        }
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "store": description, "ready": true })
        );
    } else {
        println!("store ready: {description}");
    }
    Ok(())
}

/// Validates everything before touching the store, so a typo never leaves a half-made client.
/// Key documents written before ES256 id_tokens existed get their ES256 family only when the
/// operator's document is saved again: a deployed `token` would otherwise be unable to sign for
/// this client (until `keys sync`). Saving now (what `keys sync` does) closes that gap; functions
/// pick the new documents up within the keys' reload age. No keys yet is fine: keys created
/// later hold the ES256 family from the start.
async fn ensure_id_token_keys(config: &Config) -> Result<(), String> {
    let store = shared::keys::KeyStore::from_config(config)
        .await
        .map_err(|e| e.to_string())?;
    match store.sync(shared::store::now_unix()).await {
        Ok(_) | Err(shared::keys::KeyError::Missing(_)) => Ok(()),
        Err(e) => Err(format!(
            "cannot give the key documents their ES256 id_token keys ({e}); \
             run `portal-admin keys sync` and try again"
        )),
    }
}

async fn client_create(config: &Config, args: ClientCreate, json: bool) -> Result<(), String> {
    use shared::domain::client::{Client, RedirectUri};
    use shared::scope::Scopes;

    let parse_uris = |list: &[String]| -> Result<Vec<RedirectUri>, String> {
        list.iter()
            .map(|u| RedirectUri::parse(u).map_err(|e| e.to_string()))
            .collect()
    };
    let redirect_uris = parse_uris(&args.redirect_uris)?;
    let post_logout = parse_uris(&args.post_logout_redirect_uris)?;
    let scopes = if args.scopes.is_empty() {
        Scopes::all()
    } else {
        Scopes::parse(&args.scopes.join(" ")).map_err(|e| e.to_string())?
    };
    let (client, secret) = if args.public {
        (
            Client::new_public(&args.name, redirect_uris, scopes).map_err(|e| e.to_string())?,
            None,
        )
    } else {
        let (client, secret) = Client::new_confidential(&args.name, redirect_uris, scopes)
            .map_err(|e| e.to_string())?;
        (client, Some(secret))
    };
    let client = client
        .with_post_logout_redirect_uris(post_logout)
        .map_err(|e| e.to_string())?
        .with_id_token_alg(args.id_token_alg)
        .with_required_acr(args.require_acr);

    if client.id_token_alg == shared::keys::SigningAlg::ES256 {
        ensure_id_token_keys(config).await?;
    }
    let store = shared::boot::connect_store(config)
        .await
        .map_err(|e| e.to_string())?;
    shared::repo::ClientRepo::new(store)
        .create(&client)
        .await
        .map_err(|e| format!("cannot save the client: {e}"))?;

    if json {
        println!(
            "{}",
            serde_json::json!({ "client_id": client.id.as_str(), "client_secret": secret,
                                "require_acr": client.require_acr })
        );
    } else {
        println!("client created: {}", client.name);
        println!("  client_id:     {}", client.id);
        match &secret {
            Some(secret) => {
                println!("  client_secret: {secret}");
                println!("  (the secret is shown only now; it is stored hashed)");
            }
            None => println!("  public client: no secret, PKCE (S256) required"),
        }
        println!("  scopes:        {}", client.allowed_scopes);
        println!("  id_token alg:  {}", client.id_token_alg.name());
        if let Some(acr) = client.require_acr {
            println!("  requires:      {acr} (every sign-in with a second factor)");
        }
        for uri in &client.redirect_uris {
            println!("  redirect_uri:  {uri}");
        }
    }
    Ok(())
}

/// Validates and hashes before touching the store; a duplicate email is refused by the store itself.
async fn patient_create(config: &Config, args: PatientCreate, json: bool) -> Result<(), String> {
    use shared::domain::password;
    use shared::domain::patient::{BirthDate, Email, Name, Patient, Phone};
    use shared::repo::{PatientRepo, RepoError};

    let email = Email::parse(&args.email).map_err(|e| e.to_string())?;
    let first_name = Name::parse(&args.first_name, "first name").map_err(|e| e.to_string())?;
    let last_name = Name::parse(&args.last_name, "last name").map_err(|e| e.to_string())?;
    let birth_date = BirthDate::parse(&args.birth_date).map_err(|e| e.to_string())?;
    let phone = args
        .phone
        .as_deref()
        .map(Phone::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    if !args.password_stdin {
        return Err("the password must be given on standard input with --password-stdin".into());
    }
    let password = read_password_from_stdin()?;
    password::check_policy(&password).map_err(|e| e.to_string())?;
    let hash = password::hash_password(&password).map_err(|e| e.to_string())?;
    let mut patient =
        Patient::new(email, first_name, last_name, birth_date, phone).with_locale(args.locale);
    // The operator knows the patient: there is no mailbox to prove, and the account must not
    // expire the way an unverified self-registration does.
    patient.email_verified = true;

    let store = shared::boot::connect_store(config)
        .await
        .map_err(|e| e.to_string())?;
    match PatientRepo::new(store).create(&patient, &hash).await {
        Ok(()) => {}
        Err(RepoError::AlreadyExists) => {
            return Err(format!(
                "a patient with the email {} already exists",
                patient.email
            ))
        }
        Err(e) => return Err(format!("cannot save the patient: {e}")),
    }

    if json {
        println!("{}", serde_json::json!({ "id": patient.id.as_str() }));
    } else {
        println!(
            "patient created: {} {}",
            patient.first_name, patient.last_name
        );
        println!("  id:       {}", patient.id);
        println!("  email:    {}", patient.email);
        println!("  language: {}", patient.locale);
    }
    Ok(())
}

/// A `--locale` value: one of the supported languages (a regional tag such as `de-AT` is German).
fn parse_locale(text: &str) -> Result<shared::i18n::Locale, String> {
    shared::i18n::Locale::parse(text).ok_or_else(|| {
        format!(
            "unsupported language `{text}`: use one of {}",
            shared::i18n::SUPPORTED.join(", ")
        )
    })
}

/// The whole of standard input minus one final line break, so `echo pw |` and `printf pw |` agree
/// while spaces inside or around the password are kept.
fn read_password_from_stdin() -> Result<String, String> {
    use std::io::Read as _;

    let mut input = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = input
        .strip_suffix("\r\n")
        .or_else(|| input.strip_suffix('\n'))
        .unwrap_or(&input);
    Ok(password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_create_takes_a_supported_language_and_defaults_to_english() {
        let base = [
            "portal-admin",
            "patient",
            "create",
            "--email",
            "a@example.org",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--birth-date",
            "1990-01-01",
            "--password-stdin",
        ];
        let locale = |extra: &[&str]| match Cli::try_parse_from(base.iter().chain(extra)) {
            Ok(Cli {
                command: Command::Patient(PatientCommand::Create(args)),
                ..
            }) => Ok(args.locale.tag()),
            Ok(_) => Err("another command".to_owned()),
            Err(error) => Err(error.to_string()),
        };
        assert_eq!(locale(&[]), Ok("en"));
        assert_eq!(locale(&["--locale", "de"]), Ok("de"));
        assert_eq!(locale(&["--locale", "de-AT"]), Ok("de"));
        let refused = locale(&["--locale", "fr"]).unwrap_err();
        assert!(
            refused.contains("--locale") && refused.contains("en, de"),
            "{refused}"
        );
    }
}
