//! An example relying party of MyPatientPortal, written the way a client developer would: a stock
//! OpenID Connect library (`openidconnect`) that learns every endpoint and key from discovery, and
//! plain JSON calls to the booking API.
//!
//! [`run`] is the whole flow, so a test can drive it as the binary does:
//!
//! 1. [`sign_in`]: discovery from the issuer, an authorization request with PKCE (S256), `state` and
//!    `nonce`, sent to a loopback redirect URI (RFC 8252) served by [`Loopback`]; `authorize` gets
//!    the URL and brings a browser there (the binary prints it and tries `xdg-open`; a test drives a
//!    scripted patient). Then the state (and RFC 9207 `iss`) are checked, the code is exchanged, and
//!    the id_token is verified: signature against the JWKS, issuer, audience, expiry, nonce and
//!    `at_hash`.
//! 2. [`walkthrough`]: insurances → categories → types → availabilities → book (on the ASAP list) →
//!    the appointment → reschedule → earlier availability (the ASAP function; its failure is
//!    printed, not fatal) → cancel → the appointment again.

pub mod api;
pub mod loopback;

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKey, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

pub use api::{ApiFailure, PortalApi, Tagged};
pub use loopback::{Callback, Loopback};

/// The issuer of `make run`.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:9000";

/// The loopback port the demo client of `make run` registers (`http://127.0.0.1:8080/callback`).
pub const DEFAULT_REDIRECT_PORT: u16 = 8080;

/// Scopes the walkthrough needs besides `openid` (which the library always adds): the patient's name
/// and email in the id_token, and the booking API.
pub const SCOPES: &[&str] = &[
    "profile",
    "email",
    "profile_read",
    "appointment_read",
    "appointment_write",
];

/// Availabilities fetched per search. A search lists free slots only, so a slot is lost solely to
/// another patient booking it in between; a page this long leaves plenty to fall back on.
const SEARCH_LIMIT: &str = "50";

/// Availabilities printed per search.
const SHOWN_SLOTS: usize = 5;

/// What to connect to and what to book.
#[derive(Clone, Debug)]
pub struct Config {
    /// The OpenID provider (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// The registered client.
    pub client_id: String,
    /// The client secret; `None` for a public client (PKCE alone).
    pub client_secret: Option<String>,
    /// Insurance of the walkthrough (136 in the demo catalog).
    pub insurance_id: i64,
    /// Appointment category (53).
    pub category_id: i64,
    /// Appointment type (198, ASAP list enabled).
    pub type_id: i64,
    /// Availabilities are searched from this many days ahead, so the appointment stays outside the
    /// type's cancellation notice period and can still be rescheduled and cancelled.
    pub days_ahead: u32,
    /// How long to wait for the patient to sign in.
    pub login_timeout: Duration,
}

impl Config {
    /// The demo walkthrough's ids against `issuer`, for `client_id`.
    pub fn new(issuer: &str, client_id: &str, client_secret: Option<String>) -> Config {
        Config {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            insurance_id: 136,
            category_id: 53,
            type_id: 198,
            days_ahead: 3,
            login_timeout: Duration::from_secs(300),
        }
    }
}

/// Why the flow stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is not usable.
    #[error("invalid setting: {0}")]
    Config(String),
    /// The redirect port is taken (or not allowed).
    #[error(
        "cannot listen on 127.0.0.1:{port} for the redirect ({source}); pass --redirect-port with a \
         free port whose http://127.0.0.1:PORT/callback is registered for the client"
    )]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The redirect listener stopped accepting connections.
    #[error("the redirect listener failed: {0}")]
    Listener(std::io::Error),
    /// Discovery (or the JWKS it points to) failed.
    #[error("discovery from {issuer} failed: {detail}")]
    Discovery {
        /// The issuer.
        issuer: String,
        /// What went wrong.
        detail: String,
    },
    /// Opening the authorization URL failed (a test's scripted browser reports here).
    #[error("the sign-in could not be completed in the browser: {0}")]
    Authorize(String),
    /// No redirect came back in time.
    #[error("no redirect arrived within {0:?}: the sign-in was not completed")]
    CallbackTimeout(Duration),
    /// The redirect is malformed or does not belong to this request.
    #[error("the redirect is not valid: {0}")]
    Callback(String),
    /// The patient denied, or the portal refused the request.
    #[error("the authorization was refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The `error` code (`access_denied`, …).
        error: String,
        /// The `error_description`.
        description: Option<String>,
    },
    /// The token endpoint refused the code or could not be reached.
    #[error("the token request failed: {0}")]
    Token(String),
    /// The id_token failed verification.
    #[error("the id_token is not valid: {0}")]
    IdToken(String),
    /// A booking API call failed.
    #[error("{0}")]
    Api(ApiFailure),
    /// An answer lacks what the contract promises.
    #[error("{step}: {detail}")]
    Unexpected {
        /// The walkthrough step.
        step: &'static str,
        /// What is missing.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(reqwest::Error),
    /// Writing the report failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

/// A verified sign-in.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The id_token's `sub` (the patient id).
    pub subject: String,
    /// The `name` claim, if released.
    pub name: Option<String>,
    /// The `email` claim, if released.
    pub email: Option<String>,
    /// The access token for the booking API.
    pub access_token: String,
    /// The granted scopes, as the token endpoint reported them.
    pub scope: Option<String>,
}

/// A bookable slot, as the API describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The opaque availability id.
    pub availability_id: String,
    /// Start, ISO 8601 with offset.
    pub starts_at: String,
    /// End, ISO 8601 with offset.
    pub ends_at: String,
}

/// What the walkthrough did.
#[derive(Clone, Debug)]
pub struct Walkthrough {
    /// The signed-in patient (`sub`).
    pub subject: String,
    /// The appointment booked.
    pub appointment_id: String,
    /// Its first slot.
    pub booked: Slot,
    /// The slot it was moved to.
    pub rescheduled: Slot,
    /// Whether the booked appointment was on the ASAP list.
    pub asap_subscribed: bool,
    /// The earlier availability the ASAP function offered (`Ok(None)`: none), or why it failed.
    pub earlier_availability: Result<Option<Slot>, ApiFailure>,
    /// The appointment's status after the cancellation (`cancelled`).
    pub final_status: String,
}

/// Signs in and runs the walkthrough; `authorize` brings a browser to the authorization URL.
pub async fn run<A, F>(
    config: &Config,
    loopback: Loopback,
    authorize: A,
    out: &mut (dyn Write + Send),
) -> Result<Walkthrough, Error>
where
    A: FnOnce(Url) -> F,
    F: Future<Output = Result<(), String>>,
{
    let http = http_client()?;
    let signed_in = sign_in(config, &http, loopback, authorize, out).await?;
    walkthrough(config, &http, &signed_in, out).await
}

/// The HTTP client of a relying party: no redirects followed (the `openidconnect` crate requires
/// that, so a redirecting endpoint cannot be used to reach elsewhere).
pub fn http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(api::REQUEST_TIMEOUT)
        .user_agent(concat!("booking-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::Http)
}

/// The OpenID Connect sign-in (see the crate documentation).
pub async fn sign_in<A, F>(
    config: &Config,
    http: &reqwest::Client,
    loopback: Loopback,
    authorize: A,
    out: &mut (dyn Write + Send),
) -> Result<SignedIn, Error>
where
    A: FnOnce(Url) -> F,
    F: Future<Output = Result<(), String>>,
{
    let issuer = IssuerUrl::new(config.issuer.clone())
        .map_err(|e| Error::Config(format!("issuer {}: {e}", config.issuer)))?;
    writeln!(out, "== Discovery: {}", config.issuer)?;
    let metadata = CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| Error::Discovery {
            issuer: config.issuer.clone(),
            detail: error_chain(&e),
        })?;
    writeln!(
        out,
        "   authorization endpoint {}\n   token endpoint         {}\n   signing keys           {}",
        metadata.authorization_endpoint().as_str(),
        metadata.token_endpoint().map_or("(none)", |u| u.as_str()),
        metadata.jwks().keys().len()
    )?;

    let redirect_uri = loopback.redirect_uri();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        config.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(
        RedirectUrl::new(redirect_uri.clone())
            .map_err(|e| Error::Config(format!("redirect URI {redirect_uri}: {e}")))?,
    );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
        .set_pkce_challenge(challenge)
        .url();

    writeln!(
        out,
        "\n== Sign in\n   Open this URL in a browser, sign in as the patient and allow access:\n\n   {url}\n\n   Waiting for the redirect to {redirect_uri} ..."
    )?;
    out.flush()?;
    let callback = {
        let waiting = loopback.wait_for_callback(config.login_timeout);
        tokio::pin!(waiting);
        let opened = authorize(url);
        tokio::pin!(opened);
        let mut opened_done = false;
        loop {
            tokio::select! {
                result = &mut opened, if !opened_done => {
                    result.map_err(Error::Authorize)?;
                    opened_done = true;
                }
                callback = &mut waiting => break callback?,
            }
        }
    };

    if callback.get("state") != Some(state.secret().as_str()) {
        return Err(Error::Callback(
            "its `state` is not the one this request sent (a forged or stale redirect)".into(),
        ));
    }
    // RFC 9207: a response from another issuer (mix-up attack) must not be used.
    if let Some(iss) = callback.get("iss") {
        if iss.trim_end_matches('/') != config.issuer {
            return Err(Error::Callback(format!(
                "its `iss` {iss} is not the issuer {}",
                config.issuer
            )));
        }
    }
    if let Some(error) = callback.get("error") {
        return Err(Error::Refused {
            error: error.to_owned(),
            description: callback.get("error_description").map(str::to_owned),
        });
    }
    let code = callback
        .get("code")
        .ok_or_else(|| Error::Callback("it carries neither `code` nor `error`".into()))?;
    writeln!(out, "   redirect received; state and issuer match")?;

    let tokens: CoreTokenResponse = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| Error::Token(e.to_string()))?
        .set_pkce_verifier(verifier)
        .request_async(http)
        .await
        .map_err(|e| Error::Token(token_error(&e)))?;

    let id_token = tokens
        .id_token()
        .ok_or_else(|| Error::IdToken("the token response has no id_token".into()))?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .map_err(|e| Error::IdToken(e.to_string()))?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(|e| Error::IdToken(e.to_string()))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| Error::IdToken(e.to_string()))?;
        let actual = AccessTokenHash::from_token::<CoreJsonWebKey>(tokens.access_token(), alg, key)
            .map_err(|e| Error::IdToken(e.to_string()))?;
        if &actual != expected {
            return Err(Error::IdToken(
                "`at_hash` does not match the access token".into(),
            ));
        }
    }
    let signed_in = SignedIn {
        subject: claims.subject().to_string(),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string()),
        email: claims.email().map(|e| e.to_string()),
        access_token: tokens.access_token().secret().clone(),
        scope: tokens.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    };
    writeln!(
        out,
        "\n== Tokens\n   id_token verified (signature against the JWKS, issuer, audience, expiry, nonce, at_hash)\n   patient  {} ({}, {})\n   scope    {}",
        signed_in.subject,
        signed_in.name.as_deref().unwrap_or("no name"),
        signed_in.email.as_deref().unwrap_or("no email"),
        signed_in.scope.as_deref().unwrap_or("as requested"),
    )?;
    Ok(signed_in)
}

/// The booking walkthrough with the signed-in patient's access token.
pub async fn walkthrough(
    config: &Config,
    http: &reqwest::Client,
    signed_in: &SignedIn,
    out: &mut (dyn Write + Send),
) -> Result<Walkthrough, Error> {
    let api = PortalApi::new(http.clone(), &config.issuer, signed_in.access_token.clone())?;
    let insurance = config.insurance_id.to_string();
    let category = config.category_id.to_string();
    let kind = config.type_id.to_string();

    writeln!(out, "\n== 1. Insurances")?;
    let insurances = api.get("insurances", &[]).await.map_err(Error::Api)?;
    list(out, &insurances, "insurances", config.insurance_id)?;

    writeln!(
        out,
        "\n== 2. Appointment categories (insurance {insurance})"
    )?;
    let categories = api
        .get(
            "appointment_categories",
            &[("insurance_id", insurance.clone())],
        )
        .await
        .map_err(Error::Api)?;
    list(out, &categories, "categories", config.category_id)?;

    writeln!(out, "\n== 3. Appointment types (category {category})")?;
    let types = api
        .get(
            "appointment_types",
            &[
                ("category_id", category.clone()),
                ("insurance_id", insurance.clone()),
            ],
        )
        .await
        .map_err(Error::Api)?;
    list(out, &types, "types", config.type_id)?;

    let from = (Utc::now() + Days::days(i64::from(config.days_ahead)))
        .format("%Y-%m-%d")
        .to_string();
    writeln!(out, "\n== 4. Availabilities (type {kind}, from {from})")?;
    let page = api
        .get(
            "availabilities",
            &[
                ("category_id", category),
                ("type_id", kind),
                ("insurance_id", insurance),
                ("from", from.clone()),
                ("limit", SEARCH_LIMIT.into()),
            ],
        )
        .await
        .map_err(Error::Api)?;
    let offered = slots(&page, "availabilities")?;
    for slot in offered.iter().take(SHOWN_SLOTS) {
        writeln!(out, "   {} – {}", slot.starts_at, slot.ends_at)?;
    }
    if offered.len() > SHOWN_SLOTS {
        writeln!(out, "   … and {} more", offered.len() - SHOWN_SLOTS)?;
    }

    writeln!(out, "\n== 5. Book (ASAP list: yes)")?;
    let (appointment_id, booked) = book(&api, config, &offered, out).await?;

    writeln!(out, "\n== 6. The appointment")?;
    // Its ETag names this revision: sent back in If-Match, a change applies only if nothing
    // changed it since (412 otherwise), and the server skips a read.
    let Tagged {
        body: appointment,
        etag,
    } = api
        .get_tagged(&format!("appointments/{appointment_id}"))
        .await
        .map_err(Error::Api)?;
    describe(out, &appointment)?;
    let asap_subscribed = appointment
        .pointer("/asap_list/subscribed")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    writeln!(out, "\n== 7. Reschedule")?;
    let alternatives = api
        .get(
            &format!("appointments/{appointment_id}/availabilities"),
            &[("from", from), ("limit", SEARCH_LIMIT.into())],
        )
        .await
        .map_err(Error::Api)?;
    let alternatives: Vec<Slot> = slots(&alternatives, "appointment availabilities")?
        .into_iter()
        .filter(|s| s.starts_at != booked.starts_at)
        .collect();
    let (rescheduled, moved) =
        reschedule(&api, &appointment_id, etag.as_deref(), &alternatives, out).await?;
    describe(out, &moved.body)?;

    writeln!(out, "\n== 8. Earlier availability (ASAP list)")?;
    let earlier = match api
        .get(
            &format!("appointments/{appointment_id}/earlier_availability"),
            &[],
        )
        .await
    {
        Ok(answer) => {
            let slot = answer
                .get("availability")
                .filter(|a| !a.is_null())
                .map(|a| slot(a, "earlier availability"))
                .transpose()?;
            match &slot {
                Some(slot) => writeln!(
                    out,
                    "   an earlier slot is free: {} – {}",
                    slot.starts_at, slot.ends_at
                )?,
                None => writeln!(out, "   no earlier slot right now")?,
            }
            Ok(slot)
        }
        Err(failure) => {
            writeln!(out, "   not available: {failure}")?;
            Err(failure)
        }
    };

    writeln!(out, "\n== 9. Cancel")?;
    let cancelled = api
        .call_tagged(
            Method::DELETE,
            &format!("appointments/{appointment_id}"),
            None,
            None,
            moved.etag.as_deref(),
        )
        .await
        .map_err(Error::Api)?
        .body;
    writeln!(
        out,
        "   cancelled {}",
        cancelled
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(&appointment_id)
    )?;
    let after = api
        .get(&format!("appointments/{appointment_id}"), &[])
        .await
        .map_err(Error::Api)?;
    let final_status = text(&after, "status", "the cancelled appointment")?;
    writeln!(out, "   status now: {final_status}\n\nDone.")?;

    Ok(Walkthrough {
        subject: signed_in.subject.clone(),
        appointment_id,
        booked,
        rescheduled,
        asap_subscribed,
        earlier_availability: earlier,
        final_status,
    })
}

/// Books the first slot still free: another patient may take a slot between search and booking
/// (`409 slot_unavailable`), and the next one is then tried. The idempotency key makes a retried
/// request after a lost answer return the same appointment rather than a second one.
async fn book(
    api: &PortalApi,
    config: &Config,
    slots: &[Slot],
    out: &mut (dyn Write + Send),
) -> Result<(String, Slot), Error> {
    for slot in slots {
        let body = json!({
            "availability_id": slot.availability_id,
            "insurance_id": config.insurance_id,
            "asap_list_opt_in": true,
            "comment": "Booked by the booking-client example",
        });
        let key = CsrfToken::new_random().secret().clone();
        match api
            .call(Method::POST, "booking", &[], Some(&body), Some(&key))
            .await
        {
            Ok(answer) => {
                let id = text(&answer, "id", "booking")?;
                writeln!(out, "   booked {} at {}", id, slot.starts_at)?;
                return Ok((id, slot.clone()));
            }
            Err(failure) if failure.error == "slot_unavailable" => {
                writeln!(
                    out,
                    "   {} was just taken; trying the next slot",
                    slot.starts_at
                )?;
            }
            Err(failure) => return Err(Error::Api(failure)),
        }
    }
    Err(Error::Unexpected {
        step: "booking",
        detail: "every slot of the search was taken in the meantime; try again".into(),
    })
}

/// Moves the appointment (at the revision `etag` names, if given) to the first alternative still
/// free; the answer carries the new `ETag`.
async fn reschedule(
    api: &PortalApi,
    appointment_id: &str,
    etag: Option<&str>,
    alternatives: &[Slot],
    out: &mut (dyn Write + Send),
) -> Result<(Slot, Tagged), Error> {
    for slot in alternatives {
        let body = json!({ "availability_id": slot.availability_id });
        match api
            .call_tagged(
                Method::PUT,
                &format!("appointments/{appointment_id}"),
                Some(&body),
                None,
                etag,
            )
            .await
        {
            Ok(moved) => {
                writeln!(out, "   moved to {}", slot.starts_at)?;
                return Ok((slot.clone(), moved));
            }
            Err(failure) if failure.error == "slot_unavailable" => {
                writeln!(
                    out,
                    "   {} was just taken; trying the next slot",
                    slot.starts_at
                )?;
            }
            Err(failure) => return Err(Error::Api(failure)),
        }
    }
    Err(Error::Unexpected {
        step: "rescheduling",
        detail: "no other free slot to move to".into(),
    })
}

/// Prints a `{"data": [{"id", "name"}]}` list and checks that `wanted` is in it.
fn list(
    out: &mut (dyn Write + Send),
    answer: &Value,
    what: &'static str,
    wanted: i64,
) -> Result<(), Error> {
    let items = answer
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Unexpected {
            step: what,
            detail: "the answer has no `data` list".into(),
        })?;
    for item in items {
        let id = item.get("id").and_then(Value::as_i64).unwrap_or_default();
        let name = item.get("name").and_then(Value::as_str).unwrap_or("?");
        let mark = if id == wanted { "  <- chosen" } else { "" };
        writeln!(out, "   {id:>5}  {name}{mark}")?;
    }
    if items
        .iter()
        .any(|i| i.get("id").and_then(Value::as_i64) == Some(wanted))
    {
        Ok(())
    } else {
        Err(Error::Unexpected {
            step: what,
            detail: format!("{wanted} is not offered"),
        })
    }
}

/// Prints the fields of an appointment a patient cares about.
fn describe(out: &mut (dyn Write + Send), appointment: &Value) -> Result<(), Error> {
    let s = |pointer: &str| {
        appointment
            .pointer(pointer)
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "?".into())
    };
    writeln!(
        out,
        "   id        {}\n   status    {}\n   when      {} – {}\n   what      {} ({})\n   ASAP list {}",
        s("/id"),
        s("/status"),
        s("/starts_at"),
        s("/ends_at"),
        s("/appointment_type/name"),
        s("/appointment_category/name"),
        s("/asap_list/subscribed"),
    )?;
    Ok(())
}

fn slots(answer: &Value, step: &'static str) -> Result<Vec<Slot>, Error> {
    answer
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Unexpected {
            step,
            detail: "the answer has no `data` list".into(),
        })?
        .iter()
        .map(|a| slot(a, step))
        .collect()
}

fn slot(value: &Value, step: &'static str) -> Result<Slot, Error> {
    Ok(Slot {
        availability_id: text(value, "id", step)?,
        starts_at: text(value, "starts_at", step)?,
        ends_at: text(value, "ends_at", step)?,
    })
}

fn text(value: &Value, field: &str, step: &'static str) -> Result<String, Error> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Unexpected {
            step,
            detail: format!("the answer has no `{field}`"),
        })
}

/// A token endpoint error in the words of RFC 6749 §5.2.
fn token_error<RE, T>(error: &RequestTokenError<RE, T>) -> String
where
    RE: std::error::Error + 'static,
    T: openidconnect::ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => response.to_string(),
        other => error_chain(other),
    }
}

/// An error with its causes, one after the other.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
