//! End-to-end tests of OpenID Connect (issue 4) through `cargo lambda watch`, with a stock relying
//! party library (`openidconnect`) that learns everything from the discovery document and verifies
//! id_tokens against the published JWKS. The tests follow the OpenID conformance suite's "Basic OP"
//! plan (test names in each test's comment), plus RP-initiated logout and key rotation.
//!
//! Every test registers its own client and patient, so the tests run in parallel on one server.

use std::collections::BTreeSet;
use std::str::FromStr;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreErrorResponseType,
    CoreIdToken, CoreIdTokenClaims, CoreJsonWebKey, CoreProviderMetadata, CoreResponseType,
    CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpClientError, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, StandardErrorResponse, SubjectIdentifier, TokenResponse,
};
use portal_tests::browser::{Browser, Decision};
use portal_tests::e2e::{code_from, finish_sign_in, http_client, E2e, TestClient, TestPatient};
use reqwest::StatusCode;
use serde_json::Value;
use shared::boot::Handler as _;
use url::Url;

mod claims;
mod discovery;
mod forgery;
mod id_tokens;
mod logout;
mod prompts;
mod token_endpoint;
mod userinfo;

/// The client the library builds from discovery: authorization endpoint set; token and userinfo
/// endpoints "maybe" set (they come from the document).
type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

type AuthRequest<'a> =
    openidconnect::AuthorizationRequest<'a, CoreAuthDisplay, CoreAuthPrompt, CoreResponseType>;

type TokenError = RequestTokenError<
    HttpClientError<reqwest::Error>,
    StandardErrorResponse<CoreErrorResponseType>,
>;

/// Every identity claim a scope can release (OIDC Core §5.4).
const IDENTITY_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "locale",
    "email",
    "email_verified",
    "phone_number",
];

/// A relying party: discovery, its client, and the test's patient.
struct Rp {
    e2e: E2e,
    client: TestClient,
    oidc: OidcClient,
    http: reqwest::Client,
    patient: TestPatient,
}

/// An authorization request as the library built it.
struct Started {
    url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: String,
}

/// A completed sign-in: the token response and the id_token's verified claims.
struct SignedIn {
    tokens: CoreTokenResponse,
    claims: CoreIdTokenClaims,
}

impl SignedIn {
    fn id_token(&self) -> &CoreIdToken {
        self.tokens.id_token().expect("an id_token")
    }

    fn id_token_text(&self) -> String {
        self.id_token().to_string()
    }
}

async fn discover(e2e: &E2e, http: &reqwest::Client) -> CoreProviderMetadata {
    let issuer = IssuerUrl::new(e2e.issuer().to_owned()).unwrap();
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .expect("discovery")
}

impl Rp {
    /// A confidential client (`client_secret_basic`) set up from discovery, and a patient.
    async fn confidential() -> Rp {
        let e2e = E2e::new().await;
        let client = e2e.confidential_client().await;
        Self::with(e2e, client).await
    }

    /// A public client (PKCE, no secret) set up from discovery, and a patient.
    async fn public() -> Rp {
        let e2e = E2e::new().await;
        let client = e2e.public_client().await;
        Self::with(e2e, client).await
    }

    async fn with(e2e: E2e, client: TestClient) -> Rp {
        let http = http_client();
        let metadata = discover(&e2e, &http).await;
        let oidc = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client.id.clone()),
            client.secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());
        let patient = e2e.patient().await;
        Rp {
            e2e,
            client,
            oidc,
            http,
            patient,
        }
    }

    /// An authorization request for `scopes` (plus `openid`) with state, nonce and PKCE S256,
    /// adjusted by `tweak`.
    fn start(&self, scopes: &[&str], tweak: impl FnOnce(AuthRequest) -> AuthRequest) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = self
            .oidc
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge);
        let (url, state, nonce) = tweak(request).url();
        Started {
            url,
            state,
            nonce,
            verifier: verifier.secret().clone(),
        }
    }

    /// The code of a successful authorization response to `started`.
    fn code(&self, started: &Started, redirect: &Url) -> String {
        code_from(
            redirect,
            &self.client.redirect_uri,
            Some(started.state.secret()),
            self.e2e.issuer(),
        )
    }

    async fn exchange(&self, code: &str, verifier: &str) -> Result<CoreTokenResponse, TokenError> {
        self.oidc
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint from discovery")
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
    }

    /// Exchanges the code of `redirect` and verifies the id_token with the library: signature
    /// against the JWKS, `iss`, `aud`, `exp`, the nonce, and `at_hash` against the access token.
    async fn finish(&self, started: &Started, redirect: &Url) -> SignedIn {
        let code = self.code(started, redirect);
        let tokens = self
            .exchange(&code, &started.verifier)
            .await
            .expect("code exchange");
        let claims = self.verify(&tokens, Some(&started.nonce));
        SignedIn { tokens, claims }
    }

    /// Verifies the id_token of `tokens` (expecting `nonce`, or no nonce claim at all).
    fn verify(&self, tokens: &CoreTokenResponse, nonce: Option<&Nonce>) -> CoreIdTokenClaims {
        let id_token = tokens.id_token().expect("an id_token with openid");
        let verifier = self.oidc.id_token_verifier();
        let claims = match nonce {
            Some(nonce) => id_token.claims(&verifier, nonce),
            None => id_token.claims(&verifier, |n: Option<&Nonce>| match n {
                None => Ok(()),
                Some(_) => Err("a nonce claim that was never sent".to_owned()),
            }),
        }
        .expect("the library accepts the id_token")
        .clone();
        assert_eq!(claims.subject().as_str(), self.patient.id);
        assert_eq!(claims.issuer().as_str(), self.e2e.issuer());
        assert!(claims.auth_time().is_some(), "auth_time");
        assert_eq!(
            claims.authorized_party().map(|p| p.as_str()),
            Some(self.client.id.as_str())
        );
        let expected_hash = claims.access_token_hash().expect("at_hash");
        let actual_hash = AccessTokenHash::from_token::<CoreJsonWebKey>(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(expected_hash, &actual_hash, "at_hash");
        claims
    }

    /// A whole sign-in in `browser` (login and consent pages as they come).
    async fn sign_in(
        &self,
        browser: &Browser,
        scopes: &[&str],
        tweak: impl FnOnce(AuthRequest) -> AuthRequest,
    ) -> SignedIn {
        let started = self.start(scopes, tweak);
        let landing = browser.open(started.url.as_str()).await.unwrap();
        let redirect = finish_sign_in(browser, landing, &self.patient, Decision::Allow).await;
        self.finish(&started, &redirect).await
    }

    /// UserInfo through the library (GET, token in the header), checking `sub`.
    async fn userinfo(&self, access_token: &AccessToken) -> CoreUserInfoClaims {
        self.oidc
            .user_info(
                access_token.clone(),
                Some(SubjectIdentifier::new(self.patient.id.clone())),
            )
            .expect("userinfo endpoint from discovery")
            .request_async(&self.http)
            .await
            .expect("userinfo")
    }

    /// A raw call to the UserInfo endpoint.
    async fn userinfo_raw(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}

fn no_tweak(request: AuthRequest) -> AuthRequest {
    request
}

fn identity_claims_of(claims: &Value) -> BTreeSet<String> {
    IDENTITY_CLAIMS
        .iter()
        .filter(|name| claims.get(**name).is_some())
        .map(|name| (*name).to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn oauth_error<T: std::fmt::Debug>(result: Result<T, TokenError>) -> CoreErrorResponseType {
    match result {
        Err(RequestTokenError::ServerResponse(error)) => error.error().clone(),
        other => panic!("expected an RFC 6749 error response, got {other:?}"),
    }
}
