//! Form bodies (`application/x-www-form-urlencoded`) of the OAuth endpoints and the JWKS document,
//! as schemas. The functions parse forms with [`crate::http::request::form`]; these types only
//! describe them. Every field may appear at most once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `grant_type` values of the token endpoint.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantTypeName {
    /// Exchange an authorization code (RFC 6749 §4.1.3).
    AuthorizationCode,
    /// Refresh (RFC 6749 §6); the refresh token rotates.
    RefreshToken,
}

/// `POST /oauth/token`.
#[derive(Serialize, ToSchema)]
pub struct TokenForm {
    /// The grant.
    pub grant_type: GrantTypeName,
    /// `authorization_code`: the code.
    pub code: Option<String>,
    /// `authorization_code`: the redirect URI of the authorization request.
    pub redirect_uri: Option<String>,
    /// `authorization_code`: the PKCE verifier (43–128 characters).
    pub code_verifier: Option<String>,
    /// `refresh_token`: the refresh token.
    pub refresh_token: Option<String>,
    /// `refresh_token`: a narrower set of the granted scopes.
    pub scope: Option<String>,
    /// The client (`client_secret_post` and public clients).
    pub client_id: Option<String>,
    /// The secret (`client_secret_post`).
    pub client_secret: Option<String>,
}

/// `token_type_hint` values (RFC 7009 §2.1).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenTypeHintName {
    /// An access token.
    AccessToken,
    /// A refresh token.
    RefreshToken,
}

/// `POST /oauth/revoke` and `POST /oauth/introspect`.
#[derive(Serialize, ToSchema)]
pub struct PresentedTokenForm {
    /// The token.
    pub token: String,
    /// What kind of token it is (a hint only).
    pub token_type_hint: Option<TokenTypeHintName>,
    /// The client (`client_secret_post` and public clients).
    pub client_id: Option<String>,
    /// The secret (`client_secret_post`).
    pub client_secret: Option<String>,
}

/// `POST /oauth/userinfo`: the access token may come in the form instead of the header
/// (RFC 6750 §2.2), never both.
#[derive(Serialize, ToSchema)]
pub struct UserinfoForm {
    /// The access token.
    pub access_token: Option<String>,
}

/// `POST /oauth/authorize`: the parameters of `GET /oauth/authorize` as a form.
#[derive(Serialize, ToSchema)]
pub struct AuthorizeForm {
    /// Always `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// One of the client's registered redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Opaque value returned with the response.
    pub state: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// Only `S256`.
    pub code_challenge_method: Option<String>,
    /// OIDC nonce.
    pub nonce: Option<String>,
    /// `none`, `login` or `consent`.
    pub prompt: Option<String>,
    /// Longest time since sign-in (seconds).
    pub max_age: Option<u64>,
    /// Level of assurance asked for (`urn:mypatientportal:loa:2` needs a second factor).
    pub acr_values: Option<String>,
    /// Email to pre-fill.
    pub login_hint: Option<String>,
    /// Preferred languages of the pages, space-separated BCP 47 tags.
    pub ui_locales: Option<String>,
    /// The language switch of an error page (`en`, `de`): outranks `ui_locales`.
    pub lang: Option<String>,
}

/// `POST /oauth/login`.
#[derive(Serialize, ToSchema)]
pub struct LoginForm {
    /// The sign-in email.
    pub email: String,
    /// The password.
    pub password: String,
    /// The CSRF token of the page (matches the CSRF cookie).
    pub csrf_token: String,
    /// The sealed authorization request of the page.
    pub request: String,
    /// `account` (instead of `request`) on the account page's sign-in, which returns to
    /// `/account`: a fixed value, never a URL.
    #[serde(rename = "return")]
    pub return_to: Option<String>,
    /// The language switch (`en`, `de`): instead of signing in, the page is shown again in this
    /// language, which the rest of the sign-in keeps and a cookie remembers.
    pub lang: Option<String>,
}

/// The patient's answer on the consent page.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    /// Grant the listed scopes.
    Allow,
    /// Refuse (`access_denied` goes back to the app).
    Deny,
}

/// `POST /oauth/consent`.
#[derive(Serialize, ToSchema)]
pub struct ConsentForm {
    /// Allow or deny.
    pub decision: ConsentDecision,
    /// The CSRF token of the page.
    pub csrf_token: String,
    /// The sealed authorization request of the page.
    pub request: String,
    /// The language switch (`en`, `de`): instead of deciding, the page is shown again in this
    /// language, which a cookie and the signed-in patient's account remember.
    pub lang: Option<String>,
}

/// `POST /oauth/logout`: the parameters of `GET /oauth/logout` as a form.
#[derive(Serialize, ToSchema)]
pub struct LogoutForm {
    /// An id_token this server issued to the client.
    pub id_token_hint: Option<String>,
    /// A post-logout URI registered by the client.
    pub post_logout_redirect_uri: Option<String>,
    /// The client, when no `id_token_hint` names it.
    pub client_id: Option<String>,
    /// Returned to `post_logout_redirect_uri`.
    pub state: Option<String>,
    /// Preferred languages of the signed-out page, space-separated BCP 47 tags.
    pub ui_locales: Option<String>,
    /// The language switch of the signed-out page (`en`, `de`).
    pub lang: Option<String>,
}

/// One public signing key (RFC 7517): an RSA key (`RS256`: access tokens and id_tokens) or an EC
/// P-256 key (`ES256`: the id_tokens of clients registered with
/// `id_token_signed_response_alg=ES256`).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwk {
    /// `RSA` or `EC`.
    pub kty: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `RS256` (RSA keys) or `ES256` (EC keys).
    pub alg: String,
    /// Key id, as in the `kid` header of the tokens it signed.
    pub kid: String,
    /// RSA: modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA: exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC: `P-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC: X coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC: Y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

/// The public keys that verify access tokens (RSA only) and id_tokens (RSA, or EC for clients
/// registered for ES256) (RFC 7517 §5): in each family the active key, the next one (published at
/// least 2 h 20 min before it signs, so cached copies know it in time) and, after a rotation, the
/// previous one until every token it signed has expired.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// One public video join-link key (RFC 7517, RFC 7518 §6.2: an EC P-256 key).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoJwk {
    /// `EC`.
    pub kty: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `ES256`.
    pub alg: String,
    /// `P-256`.
    pub crv: String,
    /// Key id, as in the `kid` header of the join tokens it signed.
    pub kid: String,
    /// X coordinate, base64url.
    pub x: String,
    /// Y coordinate, base64url.
    pub y: String,
}

/// The public keys that verify video join-link tokens (`typ: video+jwt`), for the video service.
/// A set of their own: no key in it verifies an access token or an id_token, and no key of the
/// token JWKS verifies a join link.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoJwks {
    /// The keys (active, next and recently retired).
    pub keys: Vec<VideoJwk>,
}
