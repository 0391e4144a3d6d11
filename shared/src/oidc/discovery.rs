//! Provider metadata: OpenID Connect Discovery 1.0 §3 and OAuth 2.0 Authorization Server Metadata
//! (RFC 8414). Both well-known documents carry the same metadata, built from the [`Config`] once per
//! instance ([`ProviderMetadata::from_config`]) and served as cacheable public JSON.
//!
//! Every endpoint is the issuer (without a trailing slash) followed by the contract path, so a
//! client that trusts the issuer can derive nothing from elsewhere.

use serde::Serialize;

use crate::config::Config;
use crate::domain::assurance::Acr;
use crate::scope::Scope;

/// Path of the OpenID Connect discovery document.
pub const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";
/// Path of the RFC 8414 authorization server metadata (same document).
pub const AUTHORIZATION_SERVER_PATH: &str = "/.well-known/oauth-authorization-server";
/// Path of the JWKS (public signing keys).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// How long clients and caches may keep the metadata and the JWKS (seconds). Short, so a key
/// rotation is seen quickly; retired keys stay published far longer than this (see
/// [`crate::keys::RETENTION_SECS`]).
pub const CACHE_MAX_AGE_SECS: u32 = 300;

/// Claims this provider can return in id_tokens and from the UserInfo endpoint.
pub const CLAIMS_SUPPORTED: [&str; 20] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "acr",
    "amr",
    "nonce",
    "sid",
    "at_hash",
    "azp",
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "locale",
    "email",
    "email_verified",
    "phone_number",
];

/// Client authentication methods of the token and revocation endpoints (`none` is for public
/// clients, which must use PKCE).
pub const CLIENT_AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

/// Client authentication methods of the introspection endpoint: only clients with a secret may
/// introspect (RFC 7662 §2.1, §4).
pub const INTROSPECTION_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The provider metadata document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProviderMetadata {
    /// The issuer identifier, exactly as in `iss` claims.
    pub issuer: String,
    /// `{issuer}/oauth/authorize`.
    pub authorization_endpoint: String,
    /// `{issuer}/oauth/token`.
    pub token_endpoint: String,
    /// `{issuer}/oauth/userinfo`.
    pub userinfo_endpoint: String,
    /// `{issuer}/.well-known/jwks.json`.
    pub jwks_uri: String,
    /// `{issuer}/oauth/revoke` (RFC 7009).
    pub revocation_endpoint: String,
    /// `{issuer}/oauth/introspect` (RFC 7662).
    pub introspection_endpoint: String,
    /// `{issuer}/oauth/logout` (OIDC RP-Initiated Logout).
    pub end_session_endpoint: String,
    /// Every scope this server knows.
    pub scopes_supported: Vec<&'static str>,
    /// Only the authorization code flow.
    pub response_types_supported: [&'static str; 1],
    /// Responses go back in the redirect's query.
    pub response_modes_supported: [&'static str; 1],
    /// Code exchange and refresh.
    pub grant_types_supported: [&'static str; 2],
    /// PKCE with SHA-256 only (`plain` is refused).
    pub code_challenge_methods_supported: [&'static str; 1],
    /// `client_secret_basic`, `client_secret_post`, and `none` (public clients, with PKCE).
    pub token_endpoint_auth_methods_supported: [&'static str; 3],
    /// `client_secret_basic`, `client_secret_post`, and `none` (public clients, with PKCE).
    pub revocation_endpoint_auth_methods_supported: [&'static str; 3],
    /// `client_secret_basic` and `client_secret_post`: public clients cannot introspect.
    pub introspection_endpoint_auth_methods_supported: [&'static str; 2],
    /// id_tokens are RS256 JWS, or ES256 for clients registered with
    /// `id_token_signed_response_alg=ES256`.
    pub id_token_signing_alg_values_supported: [&'static str; 2],
    /// `sub` is the same patient id for every client.
    pub subject_types_supported: [&'static str; 1],
    /// Claims of id_tokens and UserInfo responses.
    pub claims_supported: [&'static str; 20],
    /// The `claims` request parameter is not supported.
    pub claims_parameter_supported: bool,
    /// Request objects are not supported.
    pub request_parameter_supported: bool,
    /// `request_uri` is not supported.
    pub request_uri_parameter_supported: bool,
    /// Languages of the login, consent and other pages, for `ui_locales` (OIDC Discovery §3).
    pub ui_locales_supported: Vec<&'static str>,
    /// Levels of assurance `acr_values` may ask for and `acr` claims carry.
    pub acr_values_supported: Vec<&'static str>,
    /// `prompt` values the authorization endpoint honours.
    pub prompt_values_supported: [&'static str; 3],
    /// Authorization responses carry `iss` (RFC 9207).
    pub authorization_response_iss_parameter_supported: bool,
    /// `{issuer}/api-docs`: human-readable API documentation.
    pub service_documentation: String,
    /// Front-channel logout is not supported.
    pub frontchannel_logout_supported: bool,
}

impl ProviderMetadata {
    /// The metadata for the configured issuer.
    pub fn from_config(config: &Config) -> ProviderMetadata {
        let issuer = config.issuer_str().to_owned();
        let at = |path: &str| format!("{issuer}{path}");
        ProviderMetadata {
            authorization_endpoint: at("/oauth/authorize"),
            token_endpoint: at("/oauth/token"),
            userinfo_endpoint: at("/oauth/userinfo"),
            jwks_uri: at(JWKS_PATH),
            revocation_endpoint: at("/oauth/revoke"),
            introspection_endpoint: at("/oauth/introspect"),
            end_session_endpoint: at("/oauth/logout"),
            service_documentation: at("/api-docs"),
            scopes_supported: Scope::ALL.iter().map(|s| s.as_str()).collect(),
            response_types_supported: ["code"],
            response_modes_supported: ["query"],
            grant_types_supported: ["authorization_code", "refresh_token"],
            code_challenge_methods_supported: ["S256"],
            token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
            introspection_endpoint_auth_methods_supported: INTROSPECTION_AUTH_METHODS,
            id_token_signing_alg_values_supported: ["RS256", "ES256"],
            subject_types_supported: ["public"],
            claims_supported: CLAIMS_SUPPORTED,
            claims_parameter_supported: false,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            ui_locales_supported: crate::i18n::SUPPORTED.to_vec(),
            acr_values_supported: Acr::ALL.iter().map(|acr| acr.urn()).collect(),
            prompt_values_supported: ["none", "login", "consent"],
            authorization_response_iss_parameter_supported: true,
            frontchannel_logout_supported: false,
            issuer,
        }
    }

    /// The document as JSON (what both well-known paths serve).
    pub fn to_json(&self) -> serde_json::Value {
        // A struct of strings, booleans and arrays always serialises; the fallback is unreachable
        // but keeps this total.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> Config {
        let issuer = issuer.to_owned();
        Config::from_lookup(move |name| (name == "PORTAL_ISSUER").then(|| issuer.clone())).unwrap()
    }

    #[test]
    fn every_endpoint_is_under_the_issuer_without_a_double_slash() {
        let metadata = ProviderMetadata::from_config(&config("https://id.example/"));
        assert_eq!(metadata.issuer, "https://id.example");
        assert_eq!(
            metadata.authorization_endpoint,
            "https://id.example/oauth/authorize"
        );
        assert_eq!(
            metadata.jwks_uri,
            "https://id.example/.well-known/jwks.json"
        );
        assert_eq!(
            metadata.end_session_endpoint,
            "https://id.example/oauth/logout"
        );
        assert_eq!(
            metadata.service_documentation,
            "https://id.example/api-docs"
        );
    }

    #[test]
    fn the_json_lists_every_scope_and_the_rfc_9207_flag() {
        let json = ProviderMetadata::from_config(&config("http://127.0.0.1:9000")).to_json();
        assert_eq!(json["scopes_supported"].as_array().unwrap().len(), 8);
        assert_eq!(json["authorization_response_iss_parameter_supported"], true);
        assert_eq!(
            json["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(json["claims_parameter_supported"], false);
        assert_eq!(
            json["ui_locales_supported"],
            serde_json::json!(["en", "de"])
        );
        assert!(json["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("locale")));
    }
}
