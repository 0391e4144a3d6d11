//! Passkeys (WebAuthn): adding one to a signed-in account, signing in with one, listing and
//! removing them. No HTTP here; the `authorize` function maps the outcomes to pages. The
//! relying-party checks (challenge, origin, RP id hash, signature, user verification, counter)
//! are webauthn-rs's.
//!
//! Relying party: its id is the issuer's host and its origin the issuer's origin. Browsers refuse
//! IP addresses as relying-party ids, so a local issuer on a loopback address
//! (`http://127.0.0.1:PORT`) serves passkeys as `localhost` with origin `http://localhost:PORT`
//! (a secure context for browsers, like `127.0.0.1`); any other IP-address issuer has no
//! passkeys ([`Passkeys::available`] is false and the pages do not offer them).
//!
//! A ceremony spans two requests (the page with the challenge, then its answer), possibly on two
//! Lambda instances. Its state is stored server-side ([`PasskeyRepo::put_ceremony`], five minutes)
//! under a random id carried by the form, bound to the form's CSRF token (so only the browser
//! that got the challenge can answer it) and, for registrations, to the patient. The answer takes
//! the state with a delete guarded by its existence: a challenge is answered at most once, even
//! by two concurrent answers. A sealed state in the form could not give that without a store
//! write anyway, so the state itself lives in the store and the form holds only the id.
//!
//! Sign-in (discoverable credentials: no address typed): the assertion's user handle is the
//! patient id (a random id, never an address or a name), so the credential is one read in the
//! patient's partition. A user-verified passkey is two factors: the session gets `amr`
//! `hwk`/`swk` + `user` + `mfa` and `acr` loa:2. Failed assertions count towards the same
//! throttle as passwords (the address, and the account under `passkey:{patient_id}`). The new
//! signature counter is written in the session's transaction, guarded by the counter the check
//! used. A counter that did not grow (webauthn-rs: "may indicate a cloned credential") refuses
//! the sign-in and is logged as a warning; the passkey stays, so the patient can remove it on the
//! account page and sign in with the password.

use std::sync::Arc;

use serde::{de::DeserializeOwned, Serialize};
use url::Url;
use webauthn_rs::prelude::{
    Credential, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use super::flow_error::PageError;
use super::second_factor::password_is_right;
use crate::boot::Context;
use crate::crypto;
use crate::domain::assurance::Amr;
use crate::domain::patient::PatientId;
use crate::metrics::{self, Counter};
use crate::repo::sessions::SESSION_TTL;
use crate::repo::{
    Attempt, Ceremony, CeremonyKind, PasskeyRecord, PasskeyRepo, PasskeyUse, PatientRepo,
    RepoError, Session, SessionRepo, ThrottleRepo,
};
use crate::store::{layout, now_unix};

/// How long a challenge on offer can be answered.
pub const CEREMONY_TTL_SECS: i64 = 300;

/// Longest passkey name, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// A challenge on offer: what the page carries.
#[derive(Clone, Debug)]
pub struct Challenge {
    /// The options for `navigator.credentials.create`/`get` as JSON (webauthn-rs's
    /// `CreationChallengeResponse`/`RequestChallengeResponse`: binary fields in base64url).
    pub options: String,
    /// The random id of the stored state, for the form's hidden field.
    pub ceremony_id: String,
}

/// The result of adding a passkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Added {
    /// Stored, under this name.
    Added(String),
    /// The challenge is unknown, expired, already answered, or another browser's or patient's.
    Expired,
    /// The authenticator's answer did not verify (wrong origin or relying party, no user
    /// verification, malformed).
    Refused,
    /// This passkey is already on the account.
    Duplicate,
}

/// The result of signing in with a passkey.
#[derive(Debug)]
pub enum SignedIn {
    /// Signed in: the raw session id for the cookie, and the session.
    Session(String, Session),
    /// The challenge is unknown, expired, already answered, or another browser's.
    Expired,
    /// The assertion did not verify, or names no passkey of any account (removed, or never
    /// added).
    Refused,
    /// The signature counter did not grow: a possibly cloned authenticator.
    CounterRegressed,
    /// Too many failures.
    Locked {
        /// Seconds until the lock lifts.
        retry_after: u64,
    },
}

/// The result of asking to remove a passkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Removed.
    Removed,
    /// The password was not right.
    Refused,
    /// There was no such passkey.
    NotFound,
    /// Too many failures.
    Locked {
        /// Seconds until the lock lifts.
        retry_after: u64,
    },
}

/// A passkey as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyView {
    /// Its key hash (the removal form's value).
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was added, unix seconds.
    pub created_at: i64,
    /// When it was last used to sign in, unix seconds.
    pub last_used_at: Option<i64>,
    /// Whether it is synced (backup eligible), rather than bound to one device.
    pub synced: bool,
}

/// The passkey flows over a function's context.
#[derive(Clone)]
pub struct Passkeys {
    webauthn: Option<Arc<Webauthn>>,
    passkeys: PasskeyRepo,
    patients: PatientRepo,
    sessions: SessionRepo,
    throttle: ThrottleRepo,
}

impl Passkeys {
    /// The flows over a function's init state (relying party from `PORTAL_ISSUER`).
    pub fn new(context: &Context) -> Self {
        let webauthn = relying_party(&context.config.issuer).map(Arc::new);
        if webauthn.is_none() {
            tracing::warn!("passkeys are off: the issuer's host is an IP address");
        }
        Self {
            webauthn,
            passkeys: PasskeyRepo::new(context.store.clone()),
            patients: PatientRepo::new(context.store.clone()),
            sessions: SessionRepo::new(context.store.clone()),
            throttle: ThrottleRepo::new(context.store.clone()),
        }
    }

    /// Whether this portal offers passkeys (its issuer has a host name, or is a loopback address).
    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn relying_party(&self) -> Result<&Webauthn, PageError> {
        self.webauthn
            .as_deref()
            .ok_or(PageError::BadForm("error-passkeys-off"))
    }

    /// The patient's passkeys. One round trip.
    pub async fn list(&self, patient_id: &PatientId) -> Result<Vec<PasskeyView>, PageError> {
        let mut views: Vec<PasskeyView> = self
            .passkeys
            .list(patient_id)
            .await?
            .into_iter()
            .map(|record| PasskeyView {
                id: record.credential_hash,
                name: record.name,
                created_at: record.created_at,
                last_used_at: record.last_used_at,
                synced: record.backup_eligible,
            })
            .collect();
        views.sort_by_key(|view| view.created_at);
        Ok(views)
    }

    /// A registration challenge for the signed-in patient (`email` is the account name the
    /// authenticator shows), bound to the form's `csrf_token`. Round trips: the patient's
    /// passkeys (excluded, so one authenticator is not added twice), and the state's put.
    pub async fn begin_registration(
        &self,
        patient_id: &PatientId,
        email: &str,
        csrf_token: &str,
    ) -> Result<Challenge, PageError> {
        let webauthn = self.relying_party()?;
        let existing = self.passkeys.list(patient_id).await?;
        let exclude = existing
            .iter()
            .filter_map(|record| parse::<Passkey>(&record.credential).ok())
            .map(|passkey| passkey.cred_id().clone())
            .collect::<Vec<_>>();
        // webauthn-rs wants a UUID user id; the handle sent is the patient id itself (below).
        let placeholder = Uuid::from_bytes(random_16());
        let (mut options, state) = webauthn
            .start_passkey_registration(placeholder, email, email, Some(exclude))
            .map_err(internal("starting a passkey registration"))?;
        // The user handle is what a discoverable credential hands back at sign-in: the patient
        // id (opaque and random, at most 64 bytes as WebAuthn requires) points straight at the
        // credential's partition. webauthn-rs does not keep the handle in its state.
        options.public_key.user.id = patient_id.as_str().as_bytes().to_vec();
        // Sign-in without typing an address needs a credential the authenticator stores
        // (discoverable); webauthn-rs's passkey registration only prefers it.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = true;
            selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Required);
        }
        let ceremony = Ceremony {
            kind: CeremonyKind::Register,
            state: json(&state)?,
            binding: binding(csrf_token),
            patient_id: Some(patient_id.clone()),
        };
        self.offer(&options, &ceremony).await
    }

    /// Checks the authenticator's answer `credential` (JSON) to the registration challenge
    /// `ceremony_id` and stores the passkey as `name`. One round trip to take the challenge,
    /// one to store the passkey.
    pub async fn finish_registration(
        &self,
        patient_id: &PatientId,
        ceremony_id: &str,
        csrf_token: &str,
        name: &str,
        credential: &str,
    ) -> Result<Added, PageError> {
        let webauthn = self.relying_party()?;
        let Some(ceremony) = self
            .take(ceremony_id, CeremonyKind::Register, csrf_token)
            .await?
        else {
            return Ok(Added::Expired);
        };
        if ceremony.patient_id.as_ref() != Some(patient_id) {
            return Ok(Added::Expired);
        }
        let state: PasskeyRegistration = parse(&ceremony.state).map_err(|error| {
            tracing::error!(cause = %error, "a stored registration state did not parse");
            PageError::Internal
        })?;
        let Ok(answer) = parse::<RegisterPublicKeyCredential>(credential) else {
            return Ok(Added::Refused);
        };
        let passkey = match webauthn.finish_passkey_registration(&answer, &state) {
            Ok(passkey) => passkey,
            Err(error) => {
                tracing::info!(cause = %error, "a passkey registration was refused");
                return Ok(Added::Refused);
            }
        };
        let details = Credential::from(passkey.clone());
        let name = clean_name(name);
        let record = PasskeyRecord {
            credential_hash: crypto::sha256_b64url(passkey.cred_id()),
            name: name.clone(),
            credential: json(&passkey)?,
            counter: i64::from(details.counter),
            backup_eligible: details.backup_eligible,
            backed_up: details.backup_state,
            created_at: now_unix(),
            last_used_at: None,
        };
        if !self.passkeys.add(patient_id, &record).await? {
            return Ok(Added::Duplicate);
        }
        tracing::info!(
            audit = "passkey_added",
            %patient_id,
            synced = record.backup_eligible,
            "passkey added"
        );
        Ok(Added::Added(name))
    }

    /// A sign-in challenge (any discoverable credential of this relying party), bound to the
    /// form's `csrf_token`. One round trip (the state's put).
    pub async fn begin_sign_in(&self, csrf_token: &str) -> Result<Challenge, PageError> {
        let webauthn = self.relying_party()?;
        let (mut options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(internal("starting a passkey sign-in"))?;
        // A button starts this ceremony, not autofill: no conditional mediation.
        options.mediation = None;
        let ceremony = Ceremony {
            kind: CeremonyKind::SignIn,
            state: json(&state)?,
            binding: binding(csrf_token),
            patient_id: None,
        };
        self.offer(&options, &ceremony).await
    }

    /// Checks the assertion `credential` (JSON) against the sign-in challenge `ceremony_id` and
    /// starts a session (ending the browser's previous one, `previous_sid`). Round trips: the
    /// challenge, the throttle, the passkey, the patient and their credentials, and one
    /// transaction for the session and the passkey's counter.
    pub async fn finish_sign_in(
        &self,
        ceremony_id: &str,
        csrf_token: &str,
        credential: &str,
        ip: &str,
        previous_sid: Option<&str>,
    ) -> Result<SignedIn, PageError> {
        let webauthn = self.relying_party()?;
        let Some(ceremony) = self
            .take(ceremony_id, CeremonyKind::SignIn, csrf_token)
            .await?
        else {
            return Ok(SignedIn::Expired);
        };
        let Ok(assertion) = parse::<PublicKeyCredential>(credential) else {
            return Ok(SignedIn::Refused);
        };
        let patient_id = assertion
            .response
            .user_handle
            .as_ref()
            .and_then(|handle| std::str::from_utf8(handle.as_ref()).ok())
            .and_then(|text| PatientId::parse(text).ok());
        // Counted before anything is checked, like a password: an answer naming no account
        // still counts against the address.
        let account = patient_id
            .as_ref()
            .map_or_else(|| "passkey:unknown".to_owned(), throttle_account);
        let reservation = match self.throttle.reserve(&account, ip).await? {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { retry_after } => {
                metrics::count(Counter::SignInThrottled);
                return Ok(SignedIn::Locked { retry_after });
            }
        };
        let Some(patient_id) = patient_id else {
            return Ok(failed("no patient in the user handle"));
        };
        let credential_hash = crypto::sha256_b64url(assertion.get_credential_id());
        let Some(record) = self.passkeys.get(&patient_id, &credential_hash).await? else {
            return Ok(failed("no such passkey"));
        };
        let state: DiscoverableAuthentication = parse(&ceremony.state).map_err(|error| {
            tracing::error!(cause = %error, "a stored sign-in state did not parse");
            PageError::Internal
        })?;
        let mut passkey: Passkey = parse(&record.credential).map_err(|error| {
            tracing::error!(cause = %error, "a stored passkey did not parse");
            PageError::Internal
        })?;
        let result = match webauthn
            .finish_discoverable_authentication_v2(&assertion, state, &passkey)
        {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                tracing::warn!(
                    audit = "passkey_counter_regressed",
                    %patient_id,
                    "a passkey's signature counter did not grow: refused (cloned authenticator?)"
                );
                metrics::count(Counter::SignInFailed);
                return Ok(SignedIn::CounterRegressed);
            }
            Err(error) => return Ok(failed(&error.to_string())),
        };
        passkey.update_credential(&result);
        let used = PasskeyUse {
            credential_hash,
            counter_before: record.counter,
            counter: i64::from(result.counter()),
            credential: json(&passkey)?,
            backed_up: result.backup_state(),
        };
        let Some(patient) = self.patients.get(&patient_id).await? else {
            return Ok(failed("the passkey's account is gone"));
        };
        let Some(credentials) = self
            .patients
            .credentials_by_email(&patient.email)
            .await?
            .filter(|c| c.patient_id == patient_id)
        else {
            return Ok(failed("the passkey's account is gone"));
        };
        let amr = Amr::passkey(record.backup_eligible, result.user_verified());
        let auth_time = now_unix();
        let write = PasskeyRepo::use_write(&patient_id, &used);
        let sid = match self
            .sessions
            .create_with_writes(&credentials, auth_time, &amr, SESSION_TTL, vec![write])
            .await
        {
            Ok(sid) => sid,
            // The counter moved (a concurrent sign-in), the passkey was removed, or the password
            // changed in between: this assertion no longer counts.
            Err(RepoError::NotFound) => return Ok(failed("the passkey changed meanwhile")),
            Err(other) => return Err(other.into()),
        };
        self.throttle.succeeded(&reservation).await?;
        if let Some(previous) = previous_sid {
            if let Err(error) = self.sessions.delete(previous).await {
                tracing::warn!(cause = %error, "could not end the previous session");
            }
        }
        metrics::count(Counter::SignInOk);
        tracing::info!(audit = "passkey_used", %patient_id, "signed in with a passkey");
        let session = Session {
            sid: layout::session_public_id(&sid),
            patient_id,
            auth_time,
            amr,
            expires_at: auth_time.saturating_add(SESSION_TTL.as_secs() as i64),
        };
        Ok(SignedIn::Session(sid, session))
    }

    /// Removes the patient's passkey `id` if `password` is theirs (re-authentication, as for
    /// removing the authenticator app; wrong passwords count towards the throttle).
    pub async fn remove(
        &self,
        patient_id: &PatientId,
        id: &str,
        password: &str,
        ip: &str,
    ) -> Result<Removal, PageError> {
        let reservation = match self
            .throttle
            .reserve(&throttle_account(patient_id), ip)
            .await?
        {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { retry_after } => return Ok(Removal::Locked { retry_after }),
        };
        if password.is_empty() || !password_is_right(&self.patients, patient_id, password).await? {
            metrics::count(Counter::SignInFailed);
            return Ok(Removal::Refused);
        }
        self.throttle.succeeded(&reservation).await?;
        if id.is_empty() || id.len() > 64 || !self.passkeys.remove(patient_id, id).await? {
            return Ok(Removal::NotFound);
        }
        tracing::info!(audit = "passkey_removed", %patient_id, "passkey removed");
        Ok(Removal::Removed)
    }

    async fn offer(
        &self,
        options: &impl Serialize,
        ceremony: &Ceremony,
    ) -> Result<Challenge, PageError> {
        let ceremony_id = crypto::random_token(32);
        self.passkeys
            .put_ceremony(&ceremony_id, ceremony, CEREMONY_TTL_SECS)
            .await?;
        Ok(Challenge {
            options: json(options)?,
            ceremony_id,
        })
    }

    /// The stored state of `ceremony_id`, taken (so never again), if it is a live challenge of
    /// `kind` put into the form of this CSRF token.
    async fn take(
        &self,
        ceremony_id: &str,
        kind: CeremonyKind,
        csrf_token: &str,
    ) -> Result<Option<Ceremony>, PageError> {
        let Some(ceremony) = self.passkeys.take_ceremony(ceremony_id).await? else {
            return Ok(None);
        };
        let bound =
            crypto::constant_time_eq(ceremony.binding.as_bytes(), binding(csrf_token).as_bytes());
        Ok((bound && ceremony.kind == kind).then_some(ceremony))
    }
}

/// The relying party of an issuer: its host (a loopback address as `localhost`) and origin.
/// `None` for an issuer on any other IP address (browsers refuse those as relying-party ids).
pub fn relying_party(issuer: &Url) -> Option<Webauthn> {
    let (rp_id, origin) = relying_party_origin(issuer)?;
    WebauthnBuilder::new(&rp_id, &origin)
        .ok()?
        .rp_name("MyPatientPortal")
        .build()
        .ok()
}

/// The relying-party id and origin passkeys of `issuer` use (see [`relying_party`]).
pub fn relying_party_origin(issuer: &Url) -> Option<(String, Url)> {
    let mut origin = Url::parse(&issuer.origin().ascii_serialization()).ok()?;
    match issuer.host()? {
        url::Host::Domain(domain) => Some((domain.to_owned(), origin)),
        url::Host::Ipv4(ip) if ip.is_loopback() => {
            origin.set_host(Some("localhost")).ok()?;
            Some(("localhost".to_owned(), origin))
        }
        url::Host::Ipv6(ip) if ip.is_loopback() => {
            origin.set_host(Some("localhost")).ok()?;
            Some(("localhost".to_owned(), origin))
        }
        _ => None,
    }
}

/// The throttle's account name for passkey sign-ins and removals of a patient.
fn throttle_account(patient_id: &PatientId) -> String {
    format!("passkey:{}", patient_id.as_str())
}

/// A failed passkey sign-in: counted like a wrong password (the throttle keeps the attempt).
fn failed(why: &str) -> SignedIn {
    tracing::info!(cause = why, "failed passkey sign-in");
    metrics::count(Counter::SignInFailed);
    SignedIn::Refused
}

fn binding(csrf_token: &str) -> String {
    crypto::sha256_b64url(csrf_token.as_bytes())
}

fn random_16() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&crypto::random_bytes(16));
    bytes
}

/// The name as stored: trimmed, control characters dropped, at most [`MAX_NAME_CHARS`];
/// "Passkey" when nothing is left.
fn clean_name(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if cleaned.trim().is_empty() {
        "Passkey".to_owned()
    } else {
        cleaned.trim().to_owned()
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}

fn json(value: &impl Serialize) -> Result<String, PageError> {
    serde_json::to_string(value).map_err(|error| {
        tracing::error!(cause = %error, "a passkey value did not serialise");
        PageError::Internal
    })
}

fn internal(what: &'static str) -> impl Fn(WebauthnError) -> PageError {
    move |error| {
        tracing::error!(cause = %error, "{what} failed");
        PageError::Internal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_issuer_host_and_loopback_addresses_are_localhost() {
        let (id, origin) =
            relying_party_origin(&Url::parse("https://portal.example.org/").unwrap()).unwrap();
        assert_eq!(id, "portal.example.org");
        assert_eq!(origin.as_str(), "https://portal.example.org/");
        let (id, origin) =
            relying_party_origin(&Url::parse("http://127.0.0.1:9000").unwrap()).unwrap();
        assert_eq!(id, "localhost");
        assert_eq!(origin.as_str(), "http://localhost:9000/");
        assert!(relying_party_origin(&Url::parse("http://10.1.2.3:9000").unwrap()).is_none());
        assert!(relying_party(&Url::parse("http://127.0.0.1:9000").unwrap()).is_some());
    }

    #[test]
    fn names_are_trimmed_cut_and_never_empty() {
        assert_eq!(clean_name("  Laptop  "), "Laptop");
        assert_eq!(clean_name("\u{7}\n "), "Passkey");
        assert_eq!(clean_name(&"x".repeat(100)).chars().count(), MAX_NAME_CHARS);
    }
}
