//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): parsing and
//! validation, and the sealed form in which it travels through the login and consent pages.
//!
//! Validation follows RFC 6749 §4.1.2.1: as long as the client and its redirect URI are not both
//! established, nothing is ever sent to the redirect URI (an attacker could otherwise use this server
//! as an open redirector) and the patient sees an error page instead. Every later problem goes back
//! to the client as an error redirect.
//!
//! The validated request is sealed (AES-GCM, [`REQUEST_PURPOSE`]) into a hidden form field rather
//! than stored, so the steps between `/oauth/authorize` and the code cost no storage writes, and the
//! patient's browser cannot alter a single parameter of what it carries.

use serde::{Deserialize, Serialize};

use super::flow_error::{ErrorRedirect, FlowError, PageError};
use super::params::param;
use super::{OAuthError, OAuthErrorCode};
use crate::domain::assurance::Acr;
use crate::domain::client::{Client, ClientId};
use crate::http::request::Params;
use crate::i18n::negotiate::{from_ui_locales, SWITCH_FIELD};
use crate::i18n::Locale;
use crate::keys::{KeySet, Purpose, SealError, SigningAlg};
use crate::scope::{Scope, Scopes};

/// Sealing purpose of a pending authorization request (its own key: no other sealed value opens as one).
pub const REQUEST_PURPOSE: Purpose = Purpose::AuthorizationRequest;

/// How long a patient has to get from the authorization request to the code (sign-in and consent).
pub const REQUEST_TTL_SECS: i64 = REQUEST_PURPOSE.max_lifetime_secs();

/// Longest accepted `state`, in bytes. Clients use it for a CSRF token or a short reference;
/// anything longer only inflates the sealed request and the redirect.
pub const MAX_STATE_LEN: usize = 1024;

/// Longest accepted `nonce`, in bytes (it is copied into the id_token).
pub const MAX_NONCE_LEN: usize = 512;

/// Longest `login_hint` kept; a longer one cannot be an email address and is ignored.
pub const MAX_LOGIN_HINT_LEN: usize = 254;

/// Shortest and longest PKCE `code_challenge` (RFC 7636 §4.2).
pub const CODE_CHALLENGE_LEN: std::ops::RangeInclusive<usize> = 43..=128;

/// The OIDC `prompt` values this server understands (OIDC Core §3.1.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: no page may be shown; fail with `login_required` / `consent_required` instead.
    #[serde(default)]
    pub none: bool,
    /// `login`: the patient must enter their password again.
    #[serde(default)]
    pub login: bool,
    /// `consent`: ask for consent even if it was given before.
    #[serde(default)]
    pub consent: bool,
    /// `select_account`: accepted; a patient has one account, so the sign-in page serves it.
    #[serde(default)]
    pub select_account: bool,
}

impl Prompt {
    /// Parses the space-separated `prompt` value. An unknown value, or `none` with any other, is an
    /// `invalid_request` (OIDC Core §3.1.2.1 says `none` must stand alone).
    pub fn parse(text: Option<&str>) -> Result<Prompt, OAuthError> {
        let mut prompt = Prompt::default();
        let Some(text) = text else {
            return Ok(prompt);
        };
        let mut count = 0;
        for value in text.split_ascii_whitespace() {
            count += 1;
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                _ => {
                    return Err(OAuthError::invalid_request(
                        "prompt must be made of none, login, consent and select_account",
                    ))
                }
            }
        }
        if prompt.none && count > 1 {
            return Err(OAuthError::invalid_request(
                "prompt=none cannot be combined with other prompt values",
            ));
        }
        Ok(prompt)
    }
}

/// A validated authorization request, as carried (sealed) through the login and consent pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client, known and registered.
    pub client_id: ClientId,
    /// The client's display name, for the pages (saves reading the client again on every step).
    pub client_name: String,
    /// The redirect URI, exactly one of the client's registered ones.
    pub redirect_uri: String,
    /// Requested scopes, within what the client may ask for; never empty.
    pub scopes: Scopes,
    /// The client's `state`, returned verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// PKCE S256 challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// OIDC nonce for the id_token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// OIDC `prompt`.
    #[serde(default)]
    pub prompt: Prompt,
    /// OIDC `max_age`, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// OIDC `login_hint`, pre-filled in the email field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The language of this sign-in's pages: the first supported language of OIDC `ui_locales`,
    /// or the one the patient picked with a page's language switch (which outranks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locale: Option<Locale>,
    /// How the client's id_tokens are signed (its registration), carried into the code so the
    /// token endpoint needs no read of the client.
    #[serde(default, skip_serializing_if = "SigningAlg::is_rs256")]
    pub id_token_alg: SigningAlg,
    /// The level of assurance the sign-in must reach: the higher of what `acr_values` asks for
    /// and what the client is registered to require (none: any sign-in will do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<Acr>,
    /// When the request reached `/oauth/authorize`, unix seconds (`prompt=login` compares with it).
    pub created_at: i64,
    /// When the sealed request stops being accepted, unix seconds.
    pub expires_at: i64,
}

/// A sealed request that cannot be used: altered, sealed by someone else, or expired. Deliberately
/// one case: the patient's remedy is the same (start again from the app).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the sign-in request is invalid or has expired")]
pub struct RequestExpired;

impl AuthorizationRequest {
    /// The opaque form for a hidden field or query parameter.
    pub fn seal(&self, keys: &KeySet) -> Result<String, SealError> {
        keys.sealer(REQUEST_PURPOSE).seal_json(self)
    }

    /// Opens a sealed request, refusing it once `now` is past its expiry.
    pub fn open(keys: &KeySet, text: &str, now: i64) -> Result<Self, RequestExpired> {
        let request: Self = keys
            .sealer(REQUEST_PURPOSE)
            .open_json(text)
            .map_err(|_| RequestExpired)?;
        if now >= request.expires_at {
            return Err(RequestExpired);
        }
        Ok(request)
    }

    /// An error to send back to this request's client, with its `state`.
    pub fn reject(&self, error: OAuthError) -> FlowError {
        FlowError::Redirect(ErrorRedirect {
            error,
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
        })
    }
}

/// Validates the parameters of an authorization request (query of a GET, form of a POST) against
/// the client that [`client_id`] names, as read from storage (`None`: not registered). No storage
/// here: the caller reads the client, in the same round trip as whatever else it needs.
///
/// Errors are a [`PageError`] while the client or redirect URI is not established, and an
/// [`ErrorRedirect`] afterwards.
pub fn validate(
    params: &Params,
    client: Option<Client>,
    now: i64,
) -> Result<AuthorizationRequest, FlowError> {
    let client = client.ok_or(PageError::UnknownClient)?;
    let redirect_uri = match params.get("redirect_uri") {
        Ok(Some(uri)) if client.has_redirect_uri(uri) => uri.to_owned(),
        _ => return Err(PageError::BadRedirectUri.into()),
    };
    // From here on, errors go back to the client. `state` first, so they can carry it; a state we
    // refuse is not echoed (it is malformed, and echoing 1 MB into a Location header helps nobody).
    let state = match params.get("state") {
        Ok(state) if state.is_none_or(|s| s.len() <= MAX_STATE_LEN) => state.map(str::to_owned),
        Ok(_) => {
            return Err(redirect(
                &redirect_uri,
                None,
                OAuthError::invalid_request(format!(
                    "state must be at most {MAX_STATE_LEN} characters"
                )),
            ))
        }
        Err(_) => {
            return Err(redirect(
                &redirect_uri,
                None,
                OAuthError::invalid_request("parameter `state` is repeated"),
            ))
        }
    };
    let checked = check_parameters(params, &client).map_err(|error| {
        FlowError::Redirect(ErrorRedirect {
            error,
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
        })
    })?;
    Ok(AuthorizationRequest {
        client_id: client.id,
        client_name: client.name,
        redirect_uri,
        scopes: checked.scopes,
        state,
        code_challenge: checked.code_challenge,
        nonce: checked.nonce,
        prompt: checked.prompt,
        max_age: checked.max_age,
        login_hint: checked.login_hint,
        ui_locale: checked.ui_locale,
        id_token_alg: client.id_token_alg,
        acr: checked.acr.max(client.require_acr),
        created_at: now,
        expires_at: now.saturating_add(REQUEST_TTL_SECS),
    })
}

/// The client id a request names, or the page saying the client is unknown (missing, repeated,
/// malformed and unregistered ids all look the same to the patient).
pub fn client_id(params: &Params) -> Result<ClientId, PageError> {
    match params.get("client_id") {
        Ok(Some(text)) => ClientId::parse(text).map_err(|_| PageError::UnknownClient),
        _ => Err(PageError::UnknownClient),
    }
}

fn redirect(redirect_uri: &str, state: Option<String>, error: OAuthError) -> FlowError {
    FlowError::Redirect(ErrorRedirect {
        error,
        redirect_uri: redirect_uri.to_owned(),
        state,
    })
}

/// The parameters after the client is established, each checked.
struct Checked {
    scopes: Scopes,
    code_challenge: Option<String>,
    nonce: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
    login_hint: Option<String>,
    ui_locale: Option<Locale>,
    acr: Option<Acr>,
}

/// Checks everything but the client, redirect URI and state, in the order a client developer would
/// fix them: request objects, response type, scope, PKCE, then the OIDC parameters.
fn check_parameters(params: &Params, client: &Client) -> Result<Checked, OAuthError> {
    refuse_request_objects(params)?;
    match param(params, "response_type")? {
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                super::OAuthErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    // The response goes in the query; any other mode would be silently ignored, which a client
    // waiting for a form post would never understand.
    match param(params, "response_mode")? {
        None | Some("query") => {}
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "only response_mode=query is supported",
            ))
        }
    }
    let scopes = scopes(param(params, "scope")?, client)?;
    let code_challenge = pkce(
        param(params, "code_challenge")?,
        param(params, "code_challenge_method")?,
        client,
    )?;
    let nonce = match param(params, "nonce")? {
        Some(nonce) if nonce.len() > MAX_NONCE_LEN => {
            return Err(OAuthError::invalid_request(format!(
                "nonce must be at most {MAX_NONCE_LEN} characters"
            )))
        }
        nonce => nonce.map(str::to_owned),
    };
    let mut prompt = Prompt::parse(param(params, "prompt")?)?;
    let max_age = match param(params, "max_age")? {
        None => None,
        Some(text) => Some(parse_max_age(text)?),
    };
    // OIDC Core §3.1.2.1: "max_age=0 is equivalent to prompt=login". Comparing whole seconds
    // would let a sign-in from earlier in the same second pass; `prompt=login` demands a sign-in
    // made for this very request (see `flow::needs_login`).
    if max_age == Some(0) {
        prompt.login = true;
    }
    // A hint is only a convenience: one that cannot be an email address is dropped, not an error.
    let login_hint = param(params, "login_hint")?
        .filter(|hint| hint.len() <= MAX_LOGIN_HINT_LEN && !hint.chars().any(char::is_control))
        .map(str::to_owned);
    // Languages are preferences: an unsupported one is no error. `lang` is this server's own
    // language switch on an error page that repeats the request: the patient's choice, so it wins.
    let ui_locale = match param(params, SWITCH_FIELD)?.and_then(Locale::parse) {
        Some(chosen) => Some(chosen),
        None => param(params, "ui_locales")?.and_then(from_ui_locales),
    };
    let acr = param(params, "acr_values")?.and_then(Acr::requested);
    Ok(Checked {
        acr,
        scopes,
        code_challenge,
        nonce,
        prompt,
        max_age,
        login_hint,
        ui_locale,
    })
}

/// OIDC Core §6: a request object (`request`) or a reference to one (`request_uri`) would carry
/// parameters this server does not read, so a client asking for, say, `max_age=0` inside one
/// would silently get less than it asked for. Both are refused, as §6.1 and §6.2 prescribe for a
/// server that does not support them; discovery says so too (`request_parameter_supported` and
/// `request_uri_parameter_supported` are false). A repeated one counts; an empty one is absent,
/// as every empty parameter is.
fn refuse_request_objects(params: &Params) -> Result<(), OAuthError> {
    let present = |name: &str| !matches!(params.get(name), Ok(None));
    if present("request") {
        return Err(OAuthError::new(
            OAuthErrorCode::RequestNotSupported,
            "request objects (the request parameter) are not supported: send every parameter in the query or form",
        ));
    }
    if present("request_uri") {
        return Err(OAuthError::new(
            OAuthErrorCode::RequestUriNotSupported,
            "request_uri is not supported: send every parameter in the query or form",
        ));
    }
    Ok(())
}

fn scopes(text: Option<&str>, client: &Client) -> Result<Scopes, OAuthError> {
    let scopes = Scopes::parse(text.unwrap_or(""))
        .map_err(|error| OAuthError::invalid_scope(error.to_string()))?;
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope("scope is required"));
    }
    let refused = scopes.difference(&client.allowed_scopes);
    if !refused.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "this client may not request: {refused}"
        )));
    }
    Ok(scopes)
}

/// RFC 7636 §4.3 with S256 only (RFC 9700 §2.1.1: `plain` offers no protection if the request
/// leaks). A missing method means `plain` by the RFC, so a challenge must name S256 explicitly.
fn pkce(
    challenge: Option<&str>,
    method: Option<&str>,
    client: &Client,
) -> Result<Option<String>, OAuthError> {
    match (challenge, method) {
        (None, None) if client.is_public() => Err(OAuthError::invalid_request(
            "public clients must use PKCE: send code_challenge with code_challenge_method=S256",
        )),
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method was sent without code_challenge",
        )),
        (Some(_), method) if method != Some("S256") => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        )),
        (Some(challenge), _) => {
            let unreserved = challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if CODE_CHALLENGE_LEN.contains(&challenge.len()) && unreserved {
                Ok(Some(challenge.to_owned()))
            } else {
                Err(OAuthError::invalid_request(
                    "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
                ))
            }
        }
    }
}

fn parse_max_age(text: &str) -> Result<i64, OAuthError> {
    // Digits only: `+5`, `-1`, `1e3` and `0x10` are not the non-negative integers OIDC means.
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(OAuthError::invalid_request(
            "max_age must be a non-negative integer number of seconds",
        ));
    }
    text.parse::<i64>().map_err(|_| {
        OAuthError::invalid_request("max_age must be a non-negative integer number of seconds")
    })
}

/// Whether the scopes release identity claims that need the patient's profile.
pub fn needs_profile(scopes: &Scopes) -> bool {
    [Scope::Profile, Scope::Email, Scope::Phone]
        .into_iter()
        .any(|s| scopes.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::RedirectUri;

    fn confidential() -> Client {
        Client::new_confidential(
            "App",
            vec![RedirectUri::parse("https://app.example/cb").unwrap()],
            Scopes::parse("openid profile").unwrap(),
        )
        .unwrap()
        .0
    }

    fn public() -> Client {
        Client::new_public(
            "Spa",
            vec![RedirectUri::parse("https://spa.example/cb").unwrap()],
            Scopes::all(),
        )
        .unwrap()
    }

    fn check(query: &str, client: &Client) -> Result<Checked, OAuthError> {
        check_parameters(&Params::parse(query.as_bytes()), client)
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn prompt_accepts_known_values_and_refuses_none_with_others() {
        let p = Prompt::parse(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none);
        assert!(Prompt::parse(Some("none")).unwrap().none);
        assert!(
            Prompt::parse(Some("select_account"))
                .unwrap()
                .select_account
        );
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("bogus")).is_err());
        assert_eq!(Prompt::parse(None).unwrap(), Prompt::default());
    }

    #[test]
    fn pkce_is_s256_only_and_required_for_public_clients() {
        let c = confidential();
        let with = |q: &str| check(&format!("response_type=code&scope=openid&{q}"), &c);
        assert_eq!(
            with(&format!(
                "code_challenge={CHALLENGE}&code_challenge_method=S256"
            ))
            .unwrap()
            .code_challenge
            .as_deref(),
            Some(CHALLENGE)
        );
        assert!(with("").unwrap().code_challenge.is_none());
        for bad in [
            format!("code_challenge={CHALLENGE}&code_challenge_method=plain"),
            format!("code_challenge={CHALLENGE}"),
            "code_challenge_method=S256".to_owned(),
            "code_challenge=short&code_challenge_method=S256".to_owned(),
            format!(
                "code_challenge={}&code_challenge_method=S256",
                "a".repeat(129)
            ),
            format!(
                "code_challenge={}%2B&code_challenge_method=S256",
                &CHALLENGE[1..]
            ),
        ] {
            let err = with(&bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!(err.code, OAuthErrorCode::InvalidRequest, "{bad}");
        }
        let err = check("response_type=code&scope=openid", &public())
            .err()
            .unwrap();
        assert!(err.description.contains("PKCE"));
    }

    #[test]
    fn scope_must_be_known_allowed_and_present() {
        let c = confidential();
        assert_eq!(
            check("response_type=code&scope=profile+openid", &c)
                .unwrap()
                .scopes
                .to_string(),
            "openid profile"
        );
        for bad in [
            "",
            "&scope=",
            "&scope=admin",
            "&scope=openid+appointment_write",
        ] {
            let err = check(&format!("response_type=code{bad}"), &c)
                .err()
                .unwrap();
            assert_eq!(err.code, OAuthErrorCode::InvalidScope, "{bad}");
        }
    }

    #[test]
    fn request_objects_and_request_uris_are_refused_by_their_own_codes() {
        let c = confidential();
        let code = |extra: &str| {
            check(&format!("response_type=code&scope=openid&{extra}"), &c)
                .err()
                .map(|e| e.code)
        };
        assert_eq!(
            code("request=eyJhbGciOiJub25lIn0.e30."),
            Some(OAuthErrorCode::RequestNotSupported)
        );
        assert_eq!(
            code("request=a&request=b"),
            Some(OAuthErrorCode::RequestNotSupported)
        );
        assert_eq!(code("request="), None, "empty is absent");
        assert_eq!(
            code("request_uri=https%3A%2F%2Fapp.example%2Freq"),
            Some(OAuthErrorCode::RequestUriNotSupported)
        );
        assert_eq!(
            code("request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ax&request_uri=y"),
            Some(OAuthErrorCode::RequestUriNotSupported)
        );
        assert_eq!(code("max_age=0"), None);
    }

    #[test]
    fn max_age_zero_demands_a_fresh_sign_in_like_prompt_login() {
        let c = confidential();
        let checked = |q: &str| check(&format!("response_type=code&scope=openid&{q}"), &c).unwrap();
        assert!(checked("max_age=0").prompt.login);
        assert!(!checked("max_age=1").prompt.login);
        assert!(!checked("").prompt.login);
        let none = checked("max_age=0&prompt=none").prompt;
        assert!(
            none.none && none.login,
            "prompt=none then fails with login_required"
        );
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        let c = confidential();
        let age = |v: &str| check(&format!("response_type=code&scope=openid&max_age={v}"), &c);
        assert_eq!(age("0").unwrap().max_age, Some(0));
        assert_eq!(age("3600").unwrap().max_age, Some(3600));
        for bad in ["-1", "%2B5", "1e3", "abc", "99999999999999"] {
            assert!(age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn response_type_and_mode_are_checked_first() {
        let c = confidential();
        assert_eq!(
            check("scope=admin", &c).err().unwrap().code,
            OAuthErrorCode::InvalidRequest
        );
        assert_eq!(
            check("response_type=token&scope=admin", &c)
                .err()
                .unwrap()
                .code,
            OAuthErrorCode::UnsupportedResponseType
        );
        assert!(check(
            "response_type=code&scope=openid&response_mode=form_post",
            &c
        )
        .is_err());
        assert!(check("response_type=code&response_type=code&scope=openid", &c).is_err());
    }

    #[test]
    fn nonce_and_login_hint_have_limits() {
        let c = confidential();
        let q = |extra: &str| check(&format!("response_type=code&scope=openid&{extra}"), &c);
        assert!(q(&format!("nonce={}", "n".repeat(512))).is_ok());
        assert!(q(&format!("nonce={}", "n".repeat(513))).is_err());
        assert_eq!(
            q("login_hint=anna%40example.org")
                .unwrap()
                .login_hint
                .as_deref(),
            Some("anna@example.org")
        );
        assert!(q(&format!("login_hint={}", "a".repeat(300)))
            .unwrap()
            .login_hint
            .is_none());
    }

    #[test]
    fn ui_locales_picks_the_first_supported_language_and_lang_outranks_it() {
        let c = confidential();
        let q = |extra: &str| check(&format!("response_type=code&scope=openid&{extra}"), &c);
        let de = Locale::parse("de");
        assert_eq!(q("ui_locales=fr-CA+de-AT+en").unwrap().ui_locale, de);
        assert_eq!(q("ui_locales=fr").unwrap().ui_locale, None);
        assert_eq!(q("").unwrap().ui_locale, None);
        assert_eq!(
            q("ui_locales=en&lang=de").unwrap().ui_locale,
            de,
            "the patient's switch wins"
        );
        assert_eq!(q("ui_locales=de&lang=xx").unwrap().ui_locale, de);
        assert!(q("ui_locales=de&ui_locales=en").is_err(), "repeated");
    }

    #[test]
    fn acr_values_name_the_level_the_sign_in_must_reach() {
        let q = |query: &str| check(query, &confidential());
        let base = "response_type=code&scope=openid";
        assert_eq!(q(base).unwrap().acr, None);
        let loa2 = format!("{base}&acr_values=urn%3Amypatientportal%3Aloa%3A2");
        assert_eq!(q(&loa2).unwrap().acr, Some(Acr::Loa2));
        let unknown = format!("{base}&acr_values=urn%3Aother%3Agold");
        assert_eq!(q(&unknown).unwrap().acr, None, "unknown values are ignored");
    }

    #[test]
    fn a_sealed_request_opens_until_it_expires_and_not_after_tampering() {
        let keys = crate::keys::test_support::keyset_of(&[crate::keys::Role::Authorize]);
        let request = AuthorizationRequest {
            client_id: ClientId::parse("c1").unwrap(),
            client_name: "App".into(),
            redirect_uri: "https://app.example/cb".into(),
            scopes: Scopes::parse("openid").unwrap(),
            state: Some("s".into()),
            code_challenge: None,
            nonce: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            ui_locale: Some(Locale::parse("de").unwrap()),
            id_token_alg: SigningAlg::ES256,
            acr: Some(Acr::Loa2),
            created_at: 1000,
            expires_at: 1000 + REQUEST_TTL_SECS,
        };
        let sealed = request.seal(&keys).unwrap();
        assert_eq!(
            AuthorizationRequest::open(&keys, &sealed, 1001).unwrap(),
            request
        );
        assert!(AuthorizationRequest::open(&keys, &sealed, 1000 + REQUEST_TTL_SECS).is_err());
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(AuthorizationRequest::open(&keys, &tampered, 1001).is_err());
        let as_code = keys
            .sealer(Purpose::AuthorizationCode)
            .seal_json(&request)
            .unwrap();
        assert!(AuthorizationRequest::open(&keys, &as_code, 1001).is_err());
    }
}
