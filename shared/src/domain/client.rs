//! OAuth clients: the apps patients sign in to.
//!
//! A confidential client authenticates with a secret of 32 random bytes that is shown once and stored
//! only as its SHA-256. A fast hash is right here (argon2 is for passwords): the secret has 256 bits of
//! entropy, so there is nothing to brute-force, and the token endpoint can check it inside the storage
//! transaction as a plain equality of hashes. A public client (single-page or native app) has no
//! secret and must use PKCE.

use super::assurance::Acr;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::crypto;
use crate::keys::SigningAlg;
use crate::scope::Scopes;
use crate::store::now_unix;

/// Why client data was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// A client id must be 1 to 64 characters of `A-Z a-z 0-9 _ -`.
    #[error("invalid client id: use 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")]
    InvalidClientId,
    /// A redirect URI breaks one of the rules of [`RedirectUri::parse`].
    #[error("invalid redirect URI `{uri}`: {reason}")]
    InvalidRedirectUri {
        /// The URI as given (shortened when very long).
        uri: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A client name must be 1 to 100 characters without control characters.
    #[error("invalid client name: use 1 to 100 characters without control characters")]
    InvalidName,
    /// A client needs at least one redirect URI (and at most [`Client::MAX_REDIRECT_URIS`]).
    #[error("a client needs 1 to {} redirect URIs", Client::MAX_REDIRECT_URIS)]
    RedirectUriCount,
    /// A client must be allowed at least one scope.
    #[error("a client must be allowed at least one scope")]
    NoScopes,
}

/// A client's public identifier (`client_id`): 1 to 64 characters of `A-Z a-z 0-9 _ -`, so it is safe
/// in URLs, storage keys and logs as it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    /// Longest accepted id.
    pub const MAX_LEN: usize = 64;

    /// Length of generated ids (base62, about 143 bits: unguessable, though ids are not secrets).
    pub const GENERATED_LEN: usize = 24;

    /// Validates an id received from a request or read from storage.
    pub fn parse(text: &str) -> Result<ClientId, ClientError> {
        let ok = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(ClientId(text.to_owned()))
        } else {
            Err(ClientError::InvalidClientId)
        }
    }

    /// A new random id.
    pub fn generate() -> ClientId {
        ClientId(crypto::random_id(Self::GENERATED_LEN))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClientId {
    type Error = ClientError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ClientId::parse(&value)
    }
}

impl From<ClientId> for String {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

/// A registered redirect URI. Kept exactly as registered: requests must present the identical string
/// (RFC 9700 §4.1.3 exact matching), so `https://app.example/cb` and `https://app.example/cb/` differ.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Longest accepted URI.
    pub const MAX_LEN: usize = 2000;

    /// Validates a URI for registration:
    /// - ASCII, no whitespace or control characters, at most [`RedirectUri::MAX_LEN`] bytes;
    /// - absolute, with no fragment (RFC 6749 §3.1.2) and no user information;
    /// - `https`, or `http` only on a loopback host `127.0.0.1`, `[::1]` or `localhost`, for native
    ///   apps that receive the code on a local port (RFC 8252 §7.3 and §8.3). Other schemes are refused.
    pub fn parse(text: &str) -> Result<RedirectUri, ClientError> {
        let refuse = |reason: &'static str| ClientError::InvalidRedirectUri {
            uri: text.chars().take(200).collect(),
            reason,
        };
        if text.is_empty() || text.len() > Self::MAX_LEN {
            return Err(refuse("it must be 1 to 2000 characters long"));
        }
        if !text.is_ascii() || text.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(refuse(
                "it must be ASCII without spaces or control characters (percent-encode the rest)",
            ));
        }
        if text.contains('#') {
            return Err(refuse("it must not contain a fragment ('#')"));
        }
        let url = Url::parse(text).map_err(|_| refuse("it is not an absolute URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it must not contain user information ('user@')"));
        }
        match url.scheme() {
            "https" if url.host().is_some() => Ok(RedirectUri(text.to_owned())),
            "http" if is_loopback(url.host()) => Ok(RedirectUri(text.to_owned())),
            "http" => Err(refuse(
                "http is only allowed for the loopback hosts 127.0.0.1, [::1] and localhost",
            )),
            _ => Err(refuse(
                "the scheme must be https (or http on a loopback host)",
            )),
        }
    }

    /// The URI exactly as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(host: Option<Host<&str>>) -> bool {
    match host {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a client authenticates at the token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientKind {
    /// Holds a secret; only its SHA-256 (base64url) is kept.
    Confidential {
        /// `sha256_b64url(secret)`, see [`Client::secret_hash_of`].
        secret_hash: String,
    },
    /// No secret (browser or native app); PKCE is mandatory.
    Public,
}

impl fmt::Debug for ClientKind {
    // The hash is not the secret, but it is what the token endpoint compares: keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKind::Confidential { .. } => {
                f.write_str("Confidential { secret_hash: <redacted> }")
            }
            ClientKind::Public => f.write_str("Public"),
        }
    }
}

/// A registered OAuth client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// Its `client_id`.
    pub id: ClientId,
    /// Display name, shown to patients on the consent page.
    pub name: String,
    /// Confidential (secret) or public.
    pub kind: ClientKind,
    /// Where authorization responses may be sent (exact match).
    pub redirect_uris: Vec<RedirectUri>,
    /// Where RP-initiated logout may return to (exact match).
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The most the client may ask for.
    pub allowed_scopes: Scopes,
    /// How its id_tokens are signed (`id_token_signed_response_alg`, OIDC Dynamic Client
    /// Registration §2): RS256 unless it registered ES256. Access tokens are RS256 whatever this
    /// says (API Gateway's JWT authorizer verifies RSA only).
    pub id_token_alg: SigningAlg,
    /// Registration time, unix seconds.
    pub created_at: i64,
    /// The level of assurance every authorization of this client needs, whatever its
    /// `acr_values` say (`portal-admin client create --require-acr`).
    pub require_acr: Option<Acr>,
}

impl Client {
    /// Most redirect URIs (of each kind) one client may register.
    pub const MAX_REDIRECT_URIS: usize = 20;

    /// Longest client name, in characters.
    pub const MAX_NAME_CHARS: usize = 100;

    /// Bytes of randomness in a client secret.
    pub const SECRET_BYTES: usize = 32;

    /// A new confidential client with a fresh id and secret. Returns the client and the secret, which
    /// exists nowhere else afterwards: show it once. Pass [`Scopes::all`] for the default scope set.
    pub fn new_confidential(
        name: &str,
        redirect_uris: Vec<RedirectUri>,
        allowed_scopes: Scopes,
    ) -> Result<(Client, String), ClientError> {
        let secret = crypto::random_token(Self::SECRET_BYTES);
        let kind = ClientKind::Confidential {
            secret_hash: Self::secret_hash_of(&secret),
        };
        let client = Self::build(name, kind, redirect_uris, allowed_scopes)?;
        Ok((client, secret))
    }

    /// A new public client with a fresh id. Pass [`Scopes::all`] for the default scope set.
    pub fn new_public(
        name: &str,
        redirect_uris: Vec<RedirectUri>,
        allowed_scopes: Scopes,
    ) -> Result<Client, ClientError> {
        Self::build(name, ClientKind::Public, redirect_uris, allowed_scopes)
    }

    /// Builder: every authorization of this client needs sign-ins of at least `acr`.
    pub fn with_required_acr(mut self, acr: Option<Acr>) -> Client {
        self.require_acr = acr;
        self
    }

    /// Builder: the post-logout redirect URIs (at most [`Client::MAX_REDIRECT_URIS`]).
    pub fn with_post_logout_redirect_uris(
        mut self,
        uris: Vec<RedirectUri>,
    ) -> Result<Client, ClientError> {
        if uris.len() > Self::MAX_REDIRECT_URIS {
            return Err(ClientError::RedirectUriCount);
        }
        self.post_logout_redirect_uris = dedup(uris);
        Ok(self)
    }

    /// Builder: the algorithm of its id_tokens.
    pub fn with_id_token_alg(mut self, alg: SigningAlg) -> Client {
        self.id_token_alg = alg;
        self
    }

    fn build(
        name: &str,
        kind: ClientKind,
        redirect_uris: Vec<RedirectUri>,
        allowed_scopes: Scopes,
    ) -> Result<Client, ClientError> {
        let name = Self::validate_name(name)?;
        if redirect_uris.is_empty() || redirect_uris.len() > Self::MAX_REDIRECT_URIS {
            return Err(ClientError::RedirectUriCount);
        }
        if allowed_scopes.is_empty() {
            return Err(ClientError::NoScopes);
        }
        Ok(Client {
            id: ClientId::generate(),
            name,
            kind,
            redirect_uris: dedup(redirect_uris),
            post_logout_redirect_uris: Vec::new(),
            allowed_scopes,
            id_token_alg: SigningAlg::RS256,
            created_at: now_unix(),
            require_acr: None,
        })
    }

    /// Checks a display name: trimmed, 1 to [`Client::MAX_NAME_CHARS`] characters, no control
    /// characters (it is shown in HTML and logs). Returns the trimmed name.
    pub fn validate_name(name: &str) -> Result<String, ClientError> {
        let name = name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ClientError::InvalidName);
        }
        Ok(name.to_owned())
    }

    /// Whether this client has no secret.
    pub fn is_public(&self) -> bool {
        matches!(self.kind, ClientKind::Public)
    }

    /// Whether `presented` is this client's secret. Compares SHA-256 digests in constant time; always
    /// false for a public client.
    pub fn verify_secret(&self, presented: &str) -> bool {
        match &self.kind {
            ClientKind::Confidential { secret_hash } => crypto::constant_time_eq(
                Self::secret_hash_of(presented).as_bytes(),
                secret_hash.as_bytes(),
            ),
            ClientKind::Public => false,
        }
    }

    /// The stored form of a secret: SHA-256, base64url. The token endpoint computes this from the
    /// presented secret and lets the storage transaction compare it with the client record.
    pub fn secret_hash_of(presented: &str) -> String {
        crypto::sha256_b64url(presented.as_bytes())
    }

    /// Whether `uri` is exactly one of the registered redirect URIs.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.as_str() == uri)
    }

    /// Whether `uri` is exactly one of the registered post-logout redirect URIs.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|r| r.as_str() == uri)
    }
}

fn dedup(uris: Vec<RedirectUri>) -> Vec<RedirectUri> {
    let mut out: Vec<RedirectUri> = Vec::with_capacity(uris.len());
    for uri in uris {
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> RedirectUri {
        RedirectUri::parse(text).unwrap()
    }

    fn reason(text: &str) -> &'static str {
        match RedirectUri::parse(text) {
            Err(ClientError::InvalidRedirectUri { reason, .. }) => reason,
            other => panic!("{text} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn client_ids_accept_url_safe_text_only() {
        assert!(ClientId::parse("demo-client_01").is_ok());
        assert!(ClientId::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "a#b", "é", &"a".repeat(65)] {
            assert_eq!(
                ClientId::parse(bad),
                Err(ClientError::InvalidClientId),
                "{bad}"
            );
        }
        let generated = ClientId::generate();
        assert_eq!(generated.as_str().len(), ClientId::GENERATED_LEN);
        assert!(ClientId::parse(generated.as_str()).is_ok());
        assert_ne!(generated, ClientId::generate());
    }

    #[test]
    fn https_redirect_uris_are_accepted_with_path_query_and_port() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com:8443/cb?tenant=1",
            "https://[2001:db8::1]/cb",
        ] {
            assert_eq!(uri(ok).as_str(), ok);
        }
    }

    #[test]
    fn http_redirect_uris_are_accepted_on_loopback_hosts_only() {
        for ok in [
            "http://127.0.0.1:8765/callback",
            "http://[::1]:8765/callback",
            "http://localhost:3000/cb",
        ] {
            assert_eq!(uri(ok).as_str(), ok);
        }
        for bad in [
            "http://app.example.com/cb",
            "http://localhost.example.com/cb",
            "http://127.0.0.2/cb",
            "http://10.0.0.1/cb",
        ] {
            assert!(reason(bad).starts_with("http is only allowed"), "{bad}");
        }
    }

    #[test]
    fn fragments_userinfo_other_schemes_and_relative_uris_are_refused() {
        assert!(reason("https://app.example.com/cb#x").contains("fragment"));
        assert!(reason("https://app.example.com/cb#").contains("fragment"));
        assert!(reason("https://user:pw@app.example.com/cb").contains("user information"));
        assert!(reason("https://user@app.example.com/cb").contains("user information"));
        assert!(reason("javascript:alert(1)").contains("scheme"));
        assert!(reason("com.example.app:/cb").contains("scheme"));
        assert!(reason("/callback").contains("absolute"));
        assert!(reason(" https://app.example.com/cb").contains("spaces"));
        assert!(reason("https://app.example.com/\ncb").contains("control"));
        assert!(reason("https://bücher.example/cb").contains("ASCII"));
        assert!(reason(&format!("https://a.example/{}", "x".repeat(2000))).contains("2000"));
    }

    #[test]
    fn redirect_uris_match_exactly_so_a_trailing_slash_or_case_differs() {
        let client = Client::new_public(
            "Spa",
            vec![uri("https://app.example.com/cb")],
            Scopes::all(),
        )
        .unwrap();
        assert!(client.has_redirect_uri("https://app.example.com/cb"));
        assert!(!client.has_redirect_uri("https://app.example.com/cb/"));
        assert!(!client.has_redirect_uri("https://APP.example.com/cb"));
        assert!(!client.has_redirect_uri("https://app.example.com/cb?x=1"));
        assert!(!client.has_redirect_uri("https://app.example.com:443/cb"));
    }

    #[test]
    fn a_confidential_secret_verifies_and_only_its_hash_is_kept() {
        let (client, secret) = Client::new_confidential(
            "Demo",
            vec![uri("https://app.example.com/cb")],
            Scopes::all(),
        )
        .unwrap();
        assert_eq!(secret.len(), 43, "32 bytes base64url");
        let ClientKind::Confidential { secret_hash } = &client.kind else {
            panic!("confidential expected");
        };
        assert_ne!(secret_hash, &secret);
        assert_eq!(secret_hash, &Client::secret_hash_of(&secret));
        assert!(client.verify_secret(&secret));
        assert!(!client.verify_secret(""));
        assert!(!client.verify_secret(&secret[..42]));
        assert!(!client.verify_secret(&format!("{secret}x")));
        assert!(!format!("{client:?}").contains(secret_hash.as_str()));
    }

    #[test]
    fn a_public_client_never_verifies_a_secret() {
        let client = Client::new_public(
            "Spa",
            vec![uri("https://app.example.com/cb")],
            Scopes::all(),
        )
        .unwrap();
        assert!(client.is_public());
        assert!(!client.verify_secret(""));
        assert!(!client.verify_secret("anything"));
    }

    #[test]
    fn names_uri_counts_and_scopes_are_validated() {
        let uris = || vec![uri("https://app.example.com/cb")];
        assert_eq!(
            Client::new_public("  ", uris(), Scopes::all()),
            Err(ClientError::InvalidName)
        );
        assert_eq!(
            Client::new_public(&"n".repeat(101), uris(), Scopes::all()),
            Err(ClientError::InvalidName)
        );
        assert_eq!(
            Client::new_public("a\u{7}b", uris(), Scopes::all()),
            Err(ClientError::InvalidName)
        );
        assert_eq!(
            Client::new_public("Spa", vec![], Scopes::all()),
            Err(ClientError::RedirectUriCount)
        );
        assert_eq!(
            Client::new_public("Spa", uris(), Scopes::new()),
            Err(ClientError::NoScopes)
        );
        let client =
            Client::new_public("  Spa  ", [uris(), uris()].concat(), Scopes::all()).unwrap();
        assert_eq!(client.name, "Spa");
        assert_eq!(client.redirect_uris.len(), 1, "duplicates are dropped");
    }
}
