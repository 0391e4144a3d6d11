//! OpenID Connect RP-Initiated Logout 1.0: `id_token_hint`, `post_logout_redirect_uri`,
//! `client_id`, `state`.
//!
//! The patient is signed out whatever the request looks like (not signing out someone who asked to
//! is the worse failure), but the browser is only sent back to an address the client registered for
//! that purpose, and the client is only believed when it is proven: by an id_token we signed (the
//! hint), or by `client_id` naming a registered client.
//!
//! Which session ends: the one the browser's cookie names, and the one the hint's `sid` names. The
//! second matters because a client's cross-site POST carries no `SameSite=Lax` cookie: without
//! the hint's `sid` the server-side session would live on after the patient signed out of the
//! app. A request with neither (nothing proves who asks) is not acted on silently: the
//! `authorize` function asks the patient to confirm, on a page of our own origin whose form then
//! carries the cookie.

use serde::Deserialize;

use crate::domain::client::ClientId;
use crate::http::request::Params;
use crate::jwt::{self, Audience, JwtError};
use crate::keys::KeySet;
use crate::repo::{ClientRepo, RepoError};
use crate::store::StoreError;

use super::error::append_query;

/// Why the logout request cannot send the browser back to the app. The patient is signed out anyway.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    /// A parameter appears more than once.
    #[error("parameter `{0}` is repeated")]
    Repeated(&'static str),
    /// `id_token_hint` is not an id_token we issued (signature, type, issuer).
    #[error("id_token_hint is not a valid ID token from this server")]
    InvalidHint,
    /// `client_id` and the hint's audience name different clients.
    #[error("client_id does not match the audience of id_token_hint")]
    ClientMismatch,
    /// The client is not registered.
    #[error("unknown client")]
    UnknownClient,
    /// `post_logout_redirect_uri` was sent without a way to know the client.
    #[error("post_logout_redirect_uri needs id_token_hint or client_id")]
    ClientRequired,
    /// `post_logout_redirect_uri` is not registered for the client.
    #[error("post_logout_redirect_uri is not registered for this client")]
    UnregisteredUri,
    /// The store is unavailable.
    #[error("temporarily unavailable")]
    Unavailable,
    /// A bug or corrupt data (logged).
    #[error("internal error")]
    Internal,
}

impl LogoutError {
    /// HTTP status of the page that explains it.
    pub fn status(&self) -> u16 {
        match self {
            LogoutError::Unavailable => 503,
            LogoutError::Internal => 500,
            _ => 400,
        }
    }
}

impl From<RepoError> for LogoutError {
    fn from(error: RepoError) -> Self {
        match error {
            RepoError::Store(StoreError::Unavailable(_) | StoreError::Conflict) => {
                tracing::warn!(cause = %error, "store unavailable during logout");
                LogoutError::Unavailable
            }
            other => {
                tracing::error!(cause = %other, "storage failure during logout");
                LogoutError::Internal
            }
        }
    }
}

/// The claims of a hint that matter here.
#[derive(Debug, Deserialize)]
struct HintClaims {
    iss: String,
    aud: Audience,
    #[serde(default)]
    sid: Option<String>,
}

/// A verified `id_token_hint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    /// The client it was issued to (the request's client).
    pub client: ClientId,
    /// The sign-in session it was issued in, if it names one.
    pub sid: Option<String>,
}

/// What a logout request asks for.
#[derive(Debug)]
pub struct Resolution {
    /// The session a valid hint names, to end even without a cookie.
    pub sid: Option<String>,
    /// Where to send the browser: `Ok(Some(uri))` back to the app, `Ok(None)` the signed-out
    /// page, or why the request cannot send it back.
    pub target: Result<Option<String>, LogoutError>,
}

/// Verifies an `id_token_hint`: our signature, `typ` JWT, our issuer, and `client` among its
/// audiences (the hint's only audience when `client` is not given). Returns the client and the
/// session it names.
///
/// An expired hint is accepted (OIDC RP-Initiated Logout §2: the hint is typically presented long
/// after it expired). [`jwt::verify`] checks the signature before the claims, so an `Expired`
/// answer proves the signature; the issuer and audience, which it had not reached, are then checked
/// here on the now authenticated claims.
pub fn verify_hint(
    keys: &KeySet,
    issuer: &str,
    hint: &str,
    client: Option<&ClientId>,
) -> Result<Hint, LogoutError> {
    let audience = match client {
        Some(client) => client.clone(),
        None => sole_audience(hint)?,
    };
    match jwt::verify_id_token::<HintClaims>(keys, hint, issuer, audience.as_str()) {
        Ok(claims) => Ok(Hint {
            client: audience,
            sid: claims.sid,
        }),
        Err(JwtError::Expired) => {
            let claims = unverified_claims(hint).ok_or(LogoutError::InvalidHint)?;
            if claims.iss != issuer {
                return Err(LogoutError::InvalidHint);
            }
            if !claims.aud.contains(audience.as_str()) {
                return Err(LogoutError::ClientMismatch);
            }
            Ok(Hint {
                client: audience,
                sid: claims.sid,
            })
        }
        Err(JwtError::WrongAudience) if client.is_some() => Err(LogoutError::ClientMismatch),
        Err(_) => Err(LogoutError::InvalidHint),
    }
}

/// The claims of a compact JWS without checking anything (callers must have verified it).
fn unverified_claims(token: &str) -> Option<HintClaims> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The one audience of a hint, read before verification only to know which audience to verify
/// against (the signature check that follows covers it).
fn sole_audience(hint: &str) -> Result<ClientId, LogoutError> {
    let claims = unverified_claims(hint).ok_or(LogoutError::InvalidHint)?;
    match claims.aud.0.as_slice() {
        [one] => ClientId::parse(one).map_err(|_| LogoutError::InvalidHint),
        // Several audiences: the request must say which client it comes from.
        _ => Err(LogoutError::ClientRequired),
    }
}

/// Validates a logout request (query of a GET, form of a POST): the session a valid hint names,
/// and where to send the browser (see [`Resolution`]). One storage read (the client) when a
/// redirect is asked for; none otherwise.
pub async fn resolve(
    keys: &KeySet,
    issuer: &str,
    clients: &ClientRepo,
    params: &Params,
) -> Resolution {
    let mut sid = None;
    let target = target(keys, issuer, clients, params, &mut sid).await;
    Resolution { sid, target }
}

async fn target(
    keys: &KeySet,
    issuer: &str,
    clients: &ClientRepo,
    params: &Params,
    sid: &mut Option<String>,
) -> Result<Option<String>, LogoutError> {
    let get = |name: &'static str| params.get(name).map_err(|_| LogoutError::Repeated(name));
    let hint = get("id_token_hint")?;
    let client_id = match get("client_id")? {
        Some(text) => Some(ClientId::parse(text).map_err(|_| LogoutError::UnknownClient)?),
        None => None,
    };
    let client_id = match hint {
        Some(hint) => {
            let hint = verify_hint(keys, issuer, hint, client_id.as_ref())?;
            *sid = hint.sid;
            Some(hint.client)
        }
        None => client_id,
    };
    let redirect_uri = get("post_logout_redirect_uri")?;
    let state = get("state")?;
    let Some(redirect_uri) = redirect_uri else {
        return Ok(None);
    };
    let client_id = client_id.ok_or(LogoutError::ClientRequired)?;
    let client = clients
        .get(&client_id)
        .await?
        .ok_or(LogoutError::UnknownClient)?;
    if !client.has_post_logout_redirect_uri(redirect_uri) {
        return Err(LogoutError::UnregisteredUri);
    }
    let location = match state {
        Some(state) => append_query(redirect_uri, &[("state", state)]),
        None => redirect_uri.to_owned(),
    };
    Ok(Some(location))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::test_support::{foreign_keyset, keyset};

    const ISS: &str = "https://portal.example";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn id_token(keys: &KeySet, aud: serde_json::Value, iss: &str, exp_in: i64) -> String {
        keys.sign_jwt(
            "JWT",
            &json!({"iss": iss, "sub": "p1", "aud": aud, "iat": now(), "exp": now() + exp_in}),
        )
        .unwrap()
    }

    /// The client a hint names.
    fn verify_client(
        keys: &KeySet,
        issuer: &str,
        hint: &str,
        client: Option<&ClientId>,
    ) -> Result<ClientId, LogoutError> {
        verify_hint(keys, issuer, hint, client).map(|hint| hint.client)
    }

    #[test]
    fn a_hint_names_the_session_it_was_issued_in_even_when_expired() {
        let keys = keyset();
        for exp_in in [300, -86_400] {
            let token = keys
                .sign_jwt(
                    "JWT",
                    &json!({"iss": ISS, "sub": "p1", "aud": "c1", "sid": "s-1",
                            "iat": now(), "exp": now() + exp_in}),
                )
                .unwrap();
            let hint = verify_hint(&keys, ISS, &token, None).unwrap();
            assert_eq!(hint.sid.as_deref(), Some("s-1"), "{exp_in}");
        }
        let without = id_token(&keys, json!("c1"), ISS, 300);
        assert_eq!(verify_hint(&keys, ISS, &without, None).unwrap().sid, None);
    }

    fn client(id: &str) -> ClientId {
        ClientId::parse(id).unwrap()
    }

    #[test]
    fn a_valid_or_expired_hint_names_its_client() {
        let keys = keyset();
        let fresh = id_token(&keys, json!("c1"), ISS, 300);
        assert_eq!(verify_client(&keys, ISS, &fresh, None), Ok(client("c1")));
        assert_eq!(
            verify_client(&keys, ISS, &fresh, Some(&client("c1"))),
            Ok(client("c1"))
        );
        let expired = id_token(&keys, json!("c1"), ISS, -86_400);
        assert_eq!(verify_client(&keys, ISS, &expired, None), Ok(client("c1")));
    }

    #[test]
    fn a_hint_for_another_client_or_issuer_is_refused_even_when_expired() {
        let keys = keyset();
        for exp_in in [300, -86_400] {
            let token = id_token(&keys, json!("c1"), ISS, exp_in);
            assert_eq!(
                verify_client(&keys, ISS, &token, Some(&client("c2"))),
                Err(LogoutError::ClientMismatch),
                "{exp_in}"
            );
            let foreign = id_token(&keys, json!("c1"), "https://evil.example", exp_in);
            assert_eq!(
                verify_client(&keys, ISS, &foreign, None),
                Err(LogoutError::InvalidHint),
                "{exp_in}"
            );
        }
    }

    #[test]
    fn a_forged_or_foreign_expired_hint_is_refused() {
        let keys = keyset();
        let other = foreign_keyset();
        let foreign = id_token(&other, json!("c1"), ISS, -86_400);
        assert_eq!(
            verify_client(&keys, ISS, &foreign, None),
            Err(LogoutError::InvalidHint)
        );
        // Our expired token with its claims changed under the original signature.
        let token = id_token(&keys, json!("c1"), ISS, -86_400);
        let parts: Vec<&str> = token.split('.').collect();
        use base64::Engine as _;
        let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            json!({"iss": ISS, "sub": "p2", "aud": "c1", "exp": now() - 86_400}).to_string(),
        );
        let forged = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(
            verify_client(&keys, ISS, &forged, None),
            Err(LogoutError::InvalidHint)
        );
        let access_token = keys
            .sign_jwt(
                "at+jwt",
                &json!({"iss": ISS, "aud": "c1", "exp": now() + 300}),
            )
            .unwrap();
        assert_eq!(
            verify_client(&keys, ISS, &access_token, None),
            Err(LogoutError::InvalidHint)
        );
        for garbage in ["", "x", "a.b.c", "....."] {
            assert!(
                verify_client(&keys, ISS, garbage, None).is_err(),
                "{garbage}"
            );
        }
    }

    #[test]
    fn a_hint_with_several_audiences_needs_client_id() {
        let keys = keyset();
        let token = id_token(&keys, json!(["c1", "c2"]), ISS, 300);
        assert_eq!(
            verify_client(&keys, ISS, &token, None),
            Err(LogoutError::ClientRequired)
        );
        assert_eq!(
            verify_client(&keys, ISS, &token, Some(&client("c2"))),
            Ok(client("c2"))
        );
    }
}
