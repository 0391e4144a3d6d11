//! What benchmarks and tests seed a [`TestContext`] with: a confidential client, a patient, the
//! demo catalog, access tokens, authorization codes and availability ids, each made the way the
//! portal itself makes it.

use shared::booking::availability::ID_TTL_SECONDS;
use shared::booking::{AvailabilityToken, Catalog};
use shared::crypto::random_id;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::patient::Patient;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::now_unix;

use crate::catalog::{self, CATEGORY, INSURANCE, TYPE};
use crate::context::TestContext;
use crate::{oauth, patients, tokens};

impl TestContext {
    /// Registers a confidential client (redirect URI [`oauth::REDIRECT`], every scope); the client
    /// and its secret.
    ///
    /// # Panics
    /// When the store refuses the client.
    pub async fn client(&self) -> (Client, String) {
        self.client_named("Kit app", oauth::REDIRECT).await
    }

    /// Registers a confidential client called `name` with the one redirect URI `redirect` and
    /// every scope; the client and its secret.
    ///
    /// # Panics
    /// When the name or URI is not valid, or the store refuses the client.
    pub async fn client_named(&self, name: &str, redirect: &str) -> (Client, String) {
        let uri = RedirectUri::parse(redirect)
            .unwrap_or_else(|e| panic!("not a valid redirect URI: {e}"));
        let (client, secret) = Client::new_confidential(name, vec![uri], Scopes::all())
            .unwrap_or_else(|e| panic!("not a valid client: {e}"));
        ClientRepo::new(self.store())
            .create(&client)
            .await
            .unwrap_or_else(|e| panic!("cannot store the client: {e}"));
        (client, secret)
    }

    /// Registers a patient with a unique, verified email and no password (see
    /// [`patients::NO_PASSWORD`]).
    pub async fn patient(&self) -> Patient {
        let email = format!("kit.{}@example.org", random_id(10).to_ascii_lowercase());
        let mut patient = patients::patient(&email, None);
        patient.email_verified = true;
        patients::register(&self.store(), &patient, None).await;
        patient
    }

    /// Loads the demo catalog; with `capacity`, type [`TYPE`] takes that many bookings per slot.
    pub async fn load_demo_catalog(&self, capacity: Option<i64>) -> Catalog {
        let demo = catalog::parse(&catalog::demo_text());
        let catalog = match capacity {
            Some(capacity) => catalog::with_capacity(&demo, TYPE, capacity),
            None => demo,
        };
        catalog::save(&self.store(), &catalog).await;
        catalog
    }

    /// An access token for `patient_id` with `scope` (see [`tokens::access_token`]).
    pub fn access_token(&self, patient_id: &str, scope: &str) -> String {
        tokens::access_token(&self.context, patient_id, scope)
    }

    /// A fresh authorization code for `client` and `patient` with PKCE ([`oauth::CHALLENGE`]),
    /// releasing the patient's email, sealed exactly as the authorization endpoint seals it.
    pub fn code(&self, client: &Client, patient: &Patient, scope: &str) -> String {
        let mut code = oauth::code(
            client.id.as_str(),
            patient.id.as_str(),
            scope,
            Some(oauth::CHALLENGE),
        );
        code.claims.email = Some(patient.email.as_str().to_owned());
        oauth::seal(&self.keys(), &code)
    }

    /// Availability ids of type [`TYPE`] for insurance [`INSURANCE`], one per bookable slot that
    /// starts between `from_days` and `to_days` days from now, in start order: exactly what a
    /// search returns, without the search.
    ///
    /// # Panics
    /// When the catalog has no type [`TYPE`].
    pub fn availability_ids(&self, catalog: &Catalog, from_days: i64, to_days: i64) -> Vec<String> {
        let kind = catalog
            .types
            .get(&TYPE)
            .unwrap_or_else(|| panic!("the catalog has no type {TYPE}"));
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
                    exp: (now + ID_TTL_SECONDS).min(slot.start),
                }
                .seal(&self.keys())
                .unwrap_or_else(|e| panic!("cannot seal an availability id: {e}"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use shared::bearer::AccessClaims;
    use shared::booking::BookingRepo;
    use shared::oauth::code::AuthorizationCode;

    use super::*;

    #[tokio::test]
    async fn a_capacity_override_reaches_the_stored_catalog() {
        let ctx = TestContext::new();
        ctx.load_demo_catalog(Some(1000)).await;
        let stored = BookingRepo::new(ctx.store()).catalog().await.unwrap();
        assert_eq!(stored.types[&TYPE].schedule.capacity, 1000);
        let other = stored.types.keys().find(|id| **id != TYPE).unwrap();
        assert_eq!(stored.types[other].schedule.capacity, 1);
    }

    #[tokio::test]
    async fn codes_tokens_and_availability_ids_open_with_the_contexts_keys() {
        let ctx = TestContext::new();
        let (client, _) = ctx.client().await;
        let patient = ctx.patient().await;
        let code = ctx.code(&client, &patient, oauth::APP_SCOPE);
        let opened: AuthorizationCode = ctx
            .keys()
            .sealer(AuthorizationCode::PURPOSE)
            .open_json(&code)
            .unwrap();
        assert_eq!(opened.client_id, client.id.to_string());
        assert_eq!(opened.code_challenge.as_deref(), Some(oauth::CHALLENGE));
        assert_eq!(opened.claims.email.as_deref(), Some(patient.email.as_str()));

        let token = ctx.access_token(patient.id.as_str(), crate::api::PORTAL_SCOPE);
        let config = &ctx.context.config;
        let claims: AccessClaims = shared::jwt::verify(
            &ctx.keys(),
            &token,
            shared::jwt::TYP_ACCESS_TOKEN,
            config.issuer_str(),
            &config.api_audience,
        )
        .unwrap();
        assert_eq!(claims.sub, patient.id.as_str());

        let catalog = ctx.load_demo_catalog(None).await;
        let ids = ctx.availability_ids(&catalog, 2, 16);
        assert!(ids.len() > 100, "{}", ids.len());
        let first = AvailabilityToken::open(&ctx.keys(), &ids[0], now_unix()).unwrap();
        assert_eq!((first.type_id, first.insurance_id), (TYPE, INSURANCE));
    }
}
