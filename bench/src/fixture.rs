//! A portal on a fresh local data folder: SQLite store (behind a round-trip counter), key material
//! (also written to `keys.json`, so a `bootstrap` started on the same folder loads the same keys),
//! and the local configuration. Seeding helpers make what the benchmarks need: a confidential
//! client, a patient, the catalog, access tokens, authorization codes and availability ids.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use shared::bearer::AccessClaims;
use shared::booking::{AvailabilityToken, BookingRepo, Catalog};
use shared::boot::Context;
use shared::config::Config;
use shared::crypto::random_id;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::{BirthDate, Email, Name, Patient};
use shared::jwt::Audience;
use shared::keys::{self, KeyMaterial, KeySet};
use shared::oauth::claims::IdentityClaims;
use shared::oauth::code::AuthorizationCode;
use shared::repo::{ClientRepo, GrantId, PatientRepo};
use shared::scope::Scopes;
use shared::store::sqlite::SqliteStore;
use shared::store::{now_unix, CountingStore, Store};
use tempfile::TempDir;

use crate::BenchError;

/// The issuer every benchmark configures (the local default).
pub const ISSUER: &str = "http://127.0.0.1:9000";
/// The redirect URI of the benchmark client.
pub const REDIRECT: &str = "https://app.example.com/callback";
/// PKCE verifier (RFC 7636 Appendix B) ...
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// ... and its S256 challenge.
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// What a typical portal app asks for: an id_token, a refresh token and the portal scopes.
pub const APP_SCOPE: &str =
    "openid email offline_access profile_read appointment_read appointment_write";
/// Every portal scope: what the booking and ASAP routes need between them.
pub const PORTAL_SCOPE: &str = "openid profile_read appointment_read appointment_write";
/// The demo catalog (`infra/catalog/demo.yaml`), read at run time.
pub const DEMO_CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/catalog/demo.yaml");
/// The demo walkthrough's ids: insurance 136, category 53 ("General medicine"), type 198
/// ("Consultation", 20 minutes, capacity 1, 24 h cancellation notice).
pub const INSURANCE: i64 = 136;
/// See [`INSURANCE`].
pub const CATEGORY: i64 = 53;
/// See [`INSURANCE`].
pub const TYPE: i64 = 198;
/// API path prefix of the booking API.
pub const API: &str = "/api/portal/v1";

/// A portal on its own data folder.
pub struct Portal {
    /// What the functions are built with (its store counts round trips).
    pub context: Context,
    /// The round-trip counter in front of the SQLite store.
    pub counter: Arc<CountingStore>,
    /// The key material (also in `data_dir/keys.json`).
    pub material: KeyMaterial,
    dir: TempDir,
}

impl Portal {
    /// A new portal in a fresh temporary folder.
    pub fn new() -> Result<Self, BenchError> {
        let dir = tempfile::Builder::new()
            .prefix("portal-bench-")
            .tempdir()
            .map_err(BenchError::from_display("creating a temporary folder"))?;
        let sqlite = SqliteStore::open(dir.path().join("portal.db"))
            .map_err(BenchError::from_display("opening the SQLite store"))?;
        let counter = Arc::new(CountingStore::new(Arc::new(sqlite)));
        let store: Arc<dyn Store> = counter.clone();
        let material =
            KeyMaterial::generate().map_err(BenchError::from_display("generating keys"))?;
        keys::save(&dir.path().join(keys::LOCAL_FILE_NAME), &material)
            .map_err(BenchError::from_display("writing keys.json"))?;
        let keyset =
            KeySet::from_material(&material).map_err(BenchError::from_display("parsing keys"))?;
        let config = Config::from_lookup(|name| match name {
            "PORTAL_DATA_DIR" => Some(dir.path().display().to_string()),
            "PORTAL_ISSUER" => Some(ISSUER.to_owned()),
            // As deployed: a freed slot's ASAP notifications run from the table's stream in
            // another invocation, not inside the request (the local SQLite default is inline).
            "PORTAL_ASAP_DISPATCH" => Some("stream".to_owned()),
            _ => None,
        })
        .map_err(BenchError::from_display("configuration"))?;
        Ok(Self {
            context: shared::boot::context(config, store, keyset),
            counter,
            material,
            dir,
        })
    }

    /// The data folder (`PORTAL_DATA_DIR` of a `bootstrap` sharing this portal).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite file (`PORTAL_STORE=sqlite:<this>`).
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("portal.db")
    }

    /// The key set.
    pub fn keys(&self) -> &KeySet {
        &self.context.keys
    }

    /// Registers a confidential client (redirect URI [`REDIRECT`], every scope) and returns it with
    /// its secret.
    pub async fn client(&self) -> Result<(Client, String), BenchError> {
        let uri = RedirectUri::parse(REDIRECT).map_err(BenchError::from_display("redirect URI"))?;
        let (client, secret) = Client::new_confidential("Bench app", vec![uri], Scopes::all())
            .map_err(BenchError::from_display("client"))?;
        ClientRepo::new(self.context.store.clone())
            .create(&client)
            .await
            .map_err(BenchError::from_display("storing the client"))?;
        Ok((client, secret))
    }

    /// Registers a patient (the password hash is a placeholder: no benchmark logs in).
    pub async fn patient(&self) -> Result<Patient, BenchError> {
        let email = format!("bench.{}@example.org", random_id(10).to_ascii_lowercase());
        let mut patient = Patient::new(
            Email::parse(&email).map_err(BenchError::from_display("email"))?,
            Name::parse("Ada", "first name").map_err(BenchError::from_display("name"))?,
            Name::parse("Lovelace", "last name").map_err(BenchError::from_display("name"))?,
            BirthDate::parse("1985-02-28").map_err(BenchError::from_display("birth date"))?,
            None,
        );
        patient.email_verified = true;
        PatientRepo::new(self.context.store.clone())
            .create(&patient, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
            .await
            .map_err(BenchError::from_display("storing the patient"))?;
        Ok(patient)
    }

    /// Loads the demo catalog; with `capacity`, type [`TYPE`] takes that many bookings per slot
    /// (so a benchmark can book thousands of times without running out of slots).
    pub async fn load_demo_catalog(&self, capacity: Option<i64>) -> Result<Catalog, BenchError> {
        let text = std::fs::read_to_string(DEMO_CATALOG)
            .map_err(BenchError::from_display("reading infra/catalog/demo.yaml"))?;
        let mut catalog =
            Catalog::parse(&text).map_err(BenchError::from_display("parsing the demo catalog"))?;
        if let Some(capacity) = capacity {
            // The stored form is the document, so change it there and validate again.
            let mut file = catalog.file.clone();
            let entry = file
                .types
                .iter_mut()
                .find(|t| t.id == TYPE)
                .ok_or_else(|| BenchError::new(format!("the demo catalog has no type {TYPE}")))?;
            entry.schedule.capacity = capacity;
            catalog = Catalog::from_file(file)
                .map_err(BenchError::from_display("validating the changed catalog"))?;
        }
        BookingRepo::new(self.context.store.clone())
            .save_catalog(&catalog, now_unix())
            .await
            .map_err(BenchError::from_display("saving the catalog"))?;
        Ok(catalog)
    }

    /// An RFC 9068 access token for `patient_id` with `scope`, valid for 5 minutes.
    pub fn access_token(&self, patient_id: &str, scope: &str) -> Result<String, BenchError> {
        let config = &self.context.config;
        let now = now_unix();
        let claims = AccessClaims {
            iss: config.issuer_str().to_owned(),
            sub: patient_id.to_owned(),
            aud: Audience::one(config.api_audience.clone()),
            client_id: "bench-client".to_owned(),
            scope: scope.to_owned(),
            exp: now + 300,
            iat: now,
            jti: random_id(16),
            gid: "bench-grant".to_owned(),
            auth_time: now - 60,
        };
        self.keys()
            .sign_jwt(shared::jwt::TYP_ACCESS_TOKEN, &claims)
            .map_err(BenchError::from_display("signing an access token"))
    }

    /// A fresh authorization code for `client` and `patient` with PKCE ([`CHALLENGE`]), sealed
    /// exactly as the authorization endpoint seals it.
    pub fn code(
        &self,
        client: &Client,
        patient: &Patient,
        scope: &str,
    ) -> Result<String, BenchError> {
        let code = AuthorizationCode {
            grant_id: GrantId::generate().to_string(),
            client_id: client.id.to_string(),
            redirect_uri: REDIRECT.to_owned(),
            code_challenge: Some(CHALLENGE.to_owned()),
            scope: scope.to_owned(),
            patient_id: patient.id.to_string(),
            nonce: Some("n-0S6_WzA2Mj".to_owned()),
            auth_time: now_unix() - 30,
            expires_at: now_unix() + AuthorizationCode::TTL_SECONDS,
            claims: IdentityClaims {
                email: Some(patient.email.as_str().to_owned()),
                email_verified: Some(true),
                ..IdentityClaims::default()
            },
        };
        self.keys()
            .sealer()
            .seal_json(AuthorizationCode::PURPOSE, &code)
            .map_err(BenchError::from_display("sealing a code"))
    }

    /// Availability ids of type [`TYPE`] for insurance [`INSURANCE`], one per bookable slot that
    /// starts between `from_days` and `to_days` days from now, in start order: exactly what a search
    /// returns, without the search.
    pub fn availability_ids(
        &self,
        catalog: &Catalog,
        from_days: i64,
        to_days: i64,
    ) -> Result<Vec<String>, BenchError> {
        let kind = catalog
            .types
            .get(&TYPE)
            .ok_or_else(|| BenchError::new(format!("the catalog has no type {TYPE}")))?;
        let now = now_unix();
        kind.schedule
            .slots(now + from_days * 86_400, now + to_days * 86_400, now)
            .into_iter()
            .map(|slot| {
                AvailabilityToken {
                    type_id: TYPE,
                    category_id: CATEGORY,
                    insurance_id: INSURANCE,
                    starts_at: slot.start,
                    ends_at: slot.end,
                    exp: (now + shared::booking::availability::ID_TTL_SECONDS).min(slot.start),
                }
                .seal(self.keys().sealer())
                .map_err(BenchError::from_display("sealing an availability id"))
            })
            .collect()
    }
}

/// `Authorization: Basic` for a client (RFC 6749 §2.3.1 form-encodes id and secret first).
pub fn basic(client: &Client, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client.id.as_str()), enc(secret)))
    )
}

/// A local date `days` from today (UTC), as the API's `from`/`to` parameters take it.
pub fn days_ahead(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_capacity_override_reaches_the_stored_catalog() {
        let portal = Portal::new().unwrap();
        portal.load_demo_catalog(Some(1000)).await.unwrap();
        let stored = BookingRepo::new(portal.context.store.clone())
            .catalog()
            .await
            .unwrap();
        assert_eq!(stored.types[&TYPE].schedule.capacity, 1000);
        let other = stored.types.keys().find(|id| **id != TYPE).unwrap();
        assert_eq!(stored.types[other].schedule.capacity, 1);
    }

    #[tokio::test]
    async fn codes_tokens_and_availability_ids_open_with_the_portals_keys() {
        let portal = Portal::new().unwrap();
        let (client, _) = portal.client().await.unwrap();
        let patient = portal.patient().await.unwrap();
        let code = portal.code(&client, &patient, APP_SCOPE).unwrap();
        let opened: AuthorizationCode = portal
            .keys()
            .sealer()
            .open_json(AuthorizationCode::PURPOSE, &code)
            .unwrap();
        assert_eq!(opened.client_id, client.id.to_string());
        assert_eq!(opened.code_challenge.as_deref(), Some(CHALLENGE));

        let token = portal
            .access_token(patient.id.as_str(), PORTAL_SCOPE)
            .unwrap();
        let config = &portal.context.config;
        let claims: AccessClaims = shared::jwt::verify(
            portal.keys(),
            &token,
            shared::jwt::TYP_ACCESS_TOKEN,
            config.issuer_str(),
            &config.api_audience,
        )
        .unwrap();
        assert_eq!(claims.sub, patient.id.as_str());

        let catalog = portal.load_demo_catalog(None).await.unwrap();
        let ids = portal.availability_ids(&catalog, 2, 16).unwrap();
        assert!(ids.len() > 100, "{}", ids.len());
        let first = AvailabilityToken::open(portal.keys().sealer(), &ids[0], now_unix()).unwrap();
        assert_eq!((first.type_id, first.insurance_id), (TYPE, INSURANCE));
        // The folder holds what a `bootstrap` started on it loads.
        let stored = keys::load_or_create(&portal.data_dir().join(keys::LOCAL_FILE_NAME)).unwrap();
        assert_eq!(stored, portal.material);
    }
}
