//! What a relying party brings to the token endpoint: its redirect URI, a PKCE pair, client
//! authentication, and authorization codes sealed exactly as the authorization endpoint seals
//! them (so token tests and benchmarks need no sign-in first).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use shared::boot::Handler;
use shared::domain::client::Client;
use shared::keys::KeySet;
use shared::oauth::claims::IdentityClaims;
use shared::oauth::code::AuthorizationCode;
use shared::repo::{ApprovedAt, GrantId};
use shared::store::now_unix;

use crate::Event;

/// The redirect URI of kit clients.
pub const REDIRECT: &str = "https://app.example.com/callback";
/// PKCE verifier (RFC 7636 Appendix B) ...
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// ... and its S256 challenge.
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The nonce of kit codes (OIDC Core §3.1.2.1).
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The email released in the id_token of kit codes.
pub const EMAIL: &str = "ada@example.com";
/// What a typical portal app asks for: an id_token, a refresh token and the portal scopes.
pub const APP_SCOPE: &str =
    "openid email offline_access profile_read appointment_read appointment_write";

/// Every scope the portal grants: the OpenID Connect identity scopes and the portal's own.
pub const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "profile_read",
    "appointment_read",
    "appointment_write",
];

/// The endpoints the discovery document names, each with its path under the issuer.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("authorization_endpoint", "/oauth/authorize"),
    ("token_endpoint", "/oauth/token"),
    ("userinfo_endpoint", "/oauth/userinfo"),
    ("jwks_uri", "/.well-known/jwks.json"),
    ("revocation_endpoint", "/oauth/revoke"),
    ("introspection_endpoint", "/oauth/introspect"),
    ("end_session_endpoint", "/oauth/logout"),
    ("service_documentation", "/api-docs"),
];

/// `Authorization: Basic` for a client (RFC 6749 §2.3.1 form-encodes id and secret first).
pub fn basic(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

/// A call of a token endpoint route (`/oauth/token`, `/oauth/introspect`, `/oauth/revoke`) on
/// the token function `handler` as `client` authenticating with `secret` (Basic): the status and
/// the JSON body.
///
/// # Panics
/// When the body is not JSON.
pub async fn token_call<H: Handler + ?Sized>(
    handler: &H,
    path: &str,
    client: &Client,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let event = Event::post(path)
        .form(form)
        .header("authorization", &basic(client.id.as_str(), secret));
    let response = handler.handle(event.request()).await;
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body())
        .unwrap_or_else(|e| panic!("{path} answered {status} without JSON: {e}"));
    (status, body)
}

/// `/oauth/authorize?…` as a relying party sends it: response type `code`, `client_id`,
/// `redirect_uri` and `scope`, state `st-123`, nonce [`NONCE`] and PKCE S256 with [`CHALLENGE`];
/// `extra` replaces or adds parameters (an empty value removes one).
pub fn authorize_path(
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", "st-123"),
        ("nonce", NONCE),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for &(name, value) in extra {
        match params.iter_mut().find(|(k, _)| *k == name) {
            Some(existing) => existing.1 = value,
            None => params.push((name, value)),
        }
    }
    params.retain(|(_, v)| !v.is_empty());
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    format!("/oauth/authorize?{query}")
}

/// A fresh authorization code for `client_id` and `patient_id` with `scope`, redirect URI
/// [`REDIRECT`], nonce [`NONCE`], email [`EMAIL`] (verified) and the PKCE `challenge` if any,
/// authenticated 30 s ago and redeemable for the usual lifetime. Change what a test needs with
/// struct update syntax, then [`seal`] it.
pub fn code(
    client_id: &str,
    patient_id: &str,
    scope: &str,
    challenge: Option<&str>,
) -> AuthorizationCode {
    let now = now_unix();
    AuthorizationCode {
        grant_id: GrantId::generate().to_string(),
        client_id: client_id.to_owned(),
        redirect_uri: REDIRECT.to_owned(),
        code_challenge: challenge.map(str::to_owned),
        scope: scope.to_owned(),
        patient_id: patient_id.to_owned(),
        nonce: Some(NONCE.to_owned()),
        auth_time: now - 30,
        sid: None,
        amr: Default::default(),
        expires_at: now + AuthorizationCode::TTL_SECONDS,
        approved_at_ms: ApprovedAt::now().millis(),
        claims: IdentityClaims {
            email: Some(EMAIL.to_owned()),
            email_verified: Some(true),
            ..IdentityClaims::default()
        },
        id_token_alg: Default::default(),
    }
}

/// `code` sealed as the authorization endpoint seals it: the text a client redeems.
///
/// # Panics
/// When sealing fails (the keys are the kit's own, so that is a broken key set).
pub fn seal(keys: &KeySet, code: &AuthorizationCode) -> String {
    keys.sealer(AuthorizationCode::PURPOSE)
        .seal_json(code)
        .unwrap_or_else(|e| panic!("cannot seal an authorization code: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_form_encodes_before_base64() {
        assert_eq!(
            basic("a b", "c:d"),
            format!("Basic {}", STANDARD.encode("a+b:c%3Ad"))
        );
    }
}
