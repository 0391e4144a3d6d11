//! Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3).
//!
//! Supported methods (as published in discovery):
//! - `client_secret_basic`: `Authorization: Basic base64(urlencode(client_id) ":" urlencode(secret))`
//!   (RFC 6749 §2.3.1: each part is form-urlencoded before base64, so both are decoded here);
//! - `client_secret_post`: `client_id` and `client_secret` in the form body;
//! - `none`: only `client_id` in the body, for public clients (which must use PKCE).
//!
//! [`ClientCredentials::extract`] reads what the request presents WITHOUT touching the store: the
//! token endpoint verifies it inside the same transaction that creates or rotates the grant
//! ([`ClientCheck`]), so authenticating costs no extra round trip. Revocation and introspection,
//! which have no such transaction, verify with one read ([`authenticate`]), and so does a token
//! request refused before its transaction (client authentication comes first, whatever else is
//! wrong with the request).
//!
//! Secrets never appear in errors or logs: [`ClientCheck`] keeps only the secret's hash and its
//! `Debug` redacts even that.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;

use super::params::param;
use super::OAuthError;
use crate::crypto;
use crate::domain::client::{Client, ClientId, ClientKind};
use crate::http::request::Params;
use crate::repo::{ClientCheck, ClientRepo};

/// How the client presented itself (the `token_endpoint_auth_method` names of RFC 7591 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` form fields.
    ClientSecretPost,
    /// `client_id` only: a public client.
    None,
}

impl AuthMethod {
    /// The method's registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

/// What a request presents to identify and authenticate its client, not yet checked against the
/// client's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The claimed client.
    pub client_id: ClientId,
    /// What its record must satisfy: the presented secret's hash, or being a public client.
    pub check: ClientCheck,
    /// How the credentials were presented.
    pub method: AuthMethod,
}

impl ClientCredentials {
    /// Reads the client's credentials from the `Authorization` header value (if the request has
    /// exactly one; the caller refuses several) and the form parameters.
    ///
    /// - Basic credentials and a `client_secret` field together: `invalid_request` (RFC 6749 §2.3:
    ///   one method per request).
    /// - Basic credentials and a `client_id` field naming another client: `invalid_request`.
    /// - No client id anywhere, an unparsable Basic header, another scheme, or a client id that
    ///   cannot be one of ours: `invalid_client` (401).
    /// - Basic with an empty secret counts as no secret (some libraries send `client_id:` for
    ///   public clients); the store check then requires a public client.
    pub fn extract(authorization: Option<&str>, params: &Params) -> Result<Self, OAuthError> {
        let body_id = param(params, "client_id")?;
        let body_secret = param(params, "client_secret")?;
        if let Some(header) = authorization {
            let (id, secret) = parse_basic(header)?;
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: HTTP Basic or client_secret in the body, not both",
                ));
            }
            if body_id.is_some_and(|body| body != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the client authenticated with HTTP Basic",
                ));
            }
            let client_id = parse_client_id(&id)?;
            let check = if secret.is_empty() {
                ClientCheck::Public
            } else {
                ClientCheck::secret(&secret)
            };
            return Ok(Self {
                client_id,
                check,
                method: AuthMethod::ClientSecretBasic,
            });
        }
        let Some(id) = body_id else {
            return Err(OAuthError::invalid_client(
                "client authentication is required: send client_id (and client_secret for confidential clients)",
            ));
        };
        let client_id = parse_client_id(id)?;
        Ok(match body_secret {
            Some(secret) => Self {
                client_id,
                check: ClientCheck::secret(secret),
                method: AuthMethod::ClientSecretPost,
            },
            None => Self {
                client_id,
                check: ClientCheck::Public,
                method: AuthMethod::None,
            },
        })
    }

    /// Whether the caller presented no secret (so it claims to be a public client).
    pub fn is_public(&self) -> bool {
        self.check == ClientCheck::Public
    }

    /// Whether `client`'s record satisfies these credentials: its secret hash equals the presented
    /// one (compared in constant time), or it is public and no secret was presented.
    pub fn matches(&self, client: &Client) -> bool {
        if client.id != self.client_id {
            return false;
        }
        match (&self.check, &client.kind) {
            (ClientCheck::Secret(presented), ClientKind::Confidential { secret_hash }) => {
                crypto::constant_time_eq(presented.as_bytes(), secret_hash.as_bytes())
            }
            (ClientCheck::Public, ClientKind::Public) => true,
            _ => false,
        }
    }
}

/// Authenticates a client with one store read (revocation and introspection). Unknown client,
/// wrong secret, a confidential client presenting no secret or a public one presenting a secret:
/// `invalid_client`.
pub async fn authenticate(
    clients: &ClientRepo,
    credentials: &ClientCredentials,
) -> Result<Client, OAuthError> {
    let client = clients.get(&credentials.client_id).await?;
    match client {
        Some(client) if credentials.matches(&client) => Ok(client),
        _ => Err(failed()),
    }
}

/// The `invalid_client` answer for credentials the client's record does not accept. One message
/// for every cause, so it does not reveal whether the client exists.
pub fn failed() -> OAuthError {
    OAuthError::invalid_client("client authentication failed")
}

fn parse_client_id(text: &str) -> Result<ClientId, OAuthError> {
    // An id that cannot be one of ours names no client: same answer as an unknown one.
    ClientId::parse(text).map_err(|_| failed())
}

/// `Basic <base64(urlencode(id) ":" urlencode(secret))>` → (id, secret).
fn parse_basic(header: &str) -> Result<(String, String), OAuthError> {
    let malformed = || OAuthError::invalid_client("the HTTP Basic credentials are malformed");
    let header = header.trim();
    let (scheme, encoded) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(OAuthError::invalid_client(
            "unsupported client authentication scheme: use HTTP Basic, client_secret_post or none",
        ));
    }
    let encoded = encoded.trim();
    let bytes = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let id = form_urldecode(id).ok_or_else(malformed)?;
    let secret = form_urldecode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, secret))
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte; a
/// malformed escape or non-UTF-8 result is `None`.
fn form_urldecode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::OAuthErrorCode;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Params::parse(body.as_bytes())
    }

    fn basic(id: &str, secret: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
        )
    }

    fn code(result: Result<ClientCredentials, OAuthError>) -> OAuthErrorCode {
        result.unwrap_err().code
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        let header = basic("client-1", "s3cr:et +%/x");
        let creds = ClientCredentials::extract(Some(&header), &params(&[])).unwrap();
        assert_eq!(creds.client_id.as_str(), "client-1");
        assert_eq!(creds.method, AuthMethod::ClientSecretBasic);
        assert_eq!(creds.check, ClientCheck::secret("s3cr:et +%/x"));
        let lower = header.replacen("Basic", "basic", 1);
        assert!(ClientCredentials::extract(Some(&lower), &params(&[])).is_ok());
    }

    #[test]
    fn post_and_none_are_read_from_the_body() {
        let post = ClientCredentials::extract(
            None,
            &params(&[("client_id", "c1"), ("client_secret", "abc")]),
        )
        .unwrap();
        assert_eq!(post.method, AuthMethod::ClientSecretPost);
        assert_eq!(post.check, ClientCheck::secret("abc"));
        let none = ClientCredentials::extract(None, &params(&[("client_id", "c1")])).unwrap();
        assert_eq!(none.method, AuthMethod::None);
        assert!(none.is_public());
    }

    #[test]
    fn two_methods_or_two_ids_are_invalid_requests() {
        let header = basic("c1", "abc");
        assert_eq!(
            code(ClientCredentials::extract(
                Some(&header),
                &params(&[("client_secret", "abc")])
            )),
            OAuthErrorCode::InvalidRequest
        );
        assert_eq!(
            code(ClientCredentials::extract(
                Some(&header),
                &params(&[("client_id", "c2")])
            )),
            OAuthErrorCode::InvalidRequest
        );
        assert!(ClientCredentials::extract(Some(&header), &params(&[("client_id", "c1")])).is_ok());
        assert_eq!(
            code(ClientCredentials::extract(
                None,
                &params(&[("client_id", "c1"), ("client_id", "c1")])
            )),
            OAuthErrorCode::InvalidRequest
        );
    }

    #[test]
    fn missing_or_malformed_credentials_are_invalid_client() {
        for header in [
            "Basic",
            "Basic !!!",
            "Basic Y2xpZW50",
            "Bearer abc",
            "Basic OnNlY3JldA==",
        ] {
            assert_eq!(
                code(ClientCredentials::extract(Some(header), &params(&[]))),
                OAuthErrorCode::InvalidClient,
                "{header}"
            );
        }
        assert_eq!(
            code(ClientCredentials::extract(
                None,
                &params(&[("client_secret", "x")])
            )),
            OAuthErrorCode::InvalidClient
        );
        assert_eq!(
            code(ClientCredentials::extract(
                None,
                &params(&[("client_id", "bad id#")])
            )),
            OAuthErrorCode::InvalidClient
        );
        let bad_escape = format!("Basic {}", STANDARD.encode("c1:%zz"));
        assert_eq!(
            code(ClientCredentials::extract(Some(&bad_escape), &params(&[]))),
            OAuthErrorCode::InvalidClient
        );
    }

    #[test]
    fn an_empty_basic_secret_identifies_a_public_client() {
        let header = basic("spa", "");
        let creds = ClientCredentials::extract(Some(&header), &params(&[])).unwrap();
        assert!(creds.is_public());
    }

    #[test]
    fn credentials_match_only_the_right_kind_and_secret() {
        let uris =
            || vec![crate::domain::client::RedirectUri::parse("https://app.example/cb").unwrap()];
        let (confidential, secret) =
            Client::new_confidential("App", uris(), crate::scope::Scopes::all()).unwrap();
        let public = Client::new_public("Spa", uris(), crate::scope::Scopes::all()).unwrap();
        let with = |id: &ClientId, check: ClientCheck| ClientCredentials {
            client_id: id.clone(),
            check,
            method: AuthMethod::ClientSecretPost,
        };
        assert!(with(&confidential.id, ClientCheck::secret(&secret)).matches(&confidential));
        assert!(!with(&confidential.id, ClientCheck::secret("nope")).matches(&confidential));
        assert!(!with(&confidential.id, ClientCheck::Public).matches(&confidential));
        assert!(with(&public.id, ClientCheck::Public).matches(&public));
        assert!(!with(&public.id, ClientCheck::secret("x")).matches(&public));
        assert!(!with(&public.id, ClientCheck::Public).matches(&confidential));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let creds =
            ClientCredentials::extract(Some(&basic("c1", "hunter2")), &params(&[])).unwrap();
        assert!(!format!("{creds:?}").contains("hunter2"));
        assert!(!format!("{creds:?}").contains(&Client::secret_hash_of("hunter2")));
    }
}
