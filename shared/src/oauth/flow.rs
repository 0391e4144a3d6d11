//! The authorization flow between `/oauth/authorize` and the code: who must sign in, who must
//! consent, and issuing the code. No HTTP here: the `authorize` function maps [`Next`], [`SignIn`]
//! and [`FlowError`] to responses.
//!
//! Decision (OIDC Core §3.1.2.3 and §3.1.2.4):
//! 1. Sign-in is needed when no live session exists, when `prompt=login` and the patient last
//!    entered their password no later than the (whole) second the request was made, or when that
//!    was more than `max_age` seconds before the request. Then `prompt=none` fails with
//!    `login_required`; otherwise the patient goes to the login page.
//!    A patient with an authenticator app gets no session from the password alone: the second-factor
//!    page ([`super::second_factor`]) starts it once the code is right.
//! 2. Signed in, but less strongly than the request's `acr` (the higher of `acr_values` and the
//!    client's registered requirement): `prompt=none` fails with `interaction_required`; otherwise
//!    the patient goes to the second-factor page (which sends a patient without a second factor
//!    to set one up first).
//! 3. Signed in: if the patient already allowed this client every requested scope and `prompt` does
//!    not ask for consent, the code is issued; else `prompt=none` fails with `consent_required`, and
//!    otherwise the patient goes to the consent page.
//!
//! Both age rules compare with the request's `created_at`, not the current time: a patient who signs
//! in after the request was made satisfies `prompt=login` and even `max_age=0`, and is not sent back
//! to the login page when they reach the consent page a few seconds later. (For `prompt=login` the
//! sign-in made on the request's own login page clears the demand outright, since it may fall in
//! the same second as the request.)

use std::sync::Arc;

use super::authorize::{needs_profile, AuthorizationRequest};
use super::claims::IdentityClaims;
use super::code::AuthorizationCode;
use super::error::append_query;
use super::flow_error::{FlowError, PageError};
use super::second_factor::SecondFactors;
use super::{csrf, OAuthError, OAuthErrorCode};
use crate::boot::Context;
use crate::config::Config;
use crate::domain::assurance::Amr;
use crate::domain::password::{verify_dummy, verify_password};
use crate::domain::patient::{Email, Patient, PatientId};
use crate::http::request::Params;
use crate::keys::Keys;
use crate::metrics::{self, Counter};
use crate::repo::{
    read_pair, ApprovedAt, Attempt, ClientRepo, ConsentRepo, GrantId, PatientRepo, RepoError,
    Session, SessionRepo, ThrottleRepo,
};
use crate::scope::Scopes;
use crate::store::{now_unix, SharedStore};

pub use crate::repo::sessions::SESSION_TTL;

/// Session cookie name over https: `__Host-` pins it to this host, path `/` and Secure.
pub const SECURE_SESSION_COOKIE: &str = "__Host-portal_session";

/// Session cookie name over plain http (loopback development), where `__Host-` cookies are refused.
pub const DEV_SESSION_COOKIE: &str = "portal_session";

/// The session cookie's name for an issuer served over https (`secure`) or plain http.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        DEV_SESSION_COOKIE
    }
}

/// `Set-Cookie` value holding a raw session id. No `Max-Age`: the cookie ends with the browser
/// session, which on a shared computer is the safer default; the server ends it after [`SESSION_TTL`].
pub fn session_set_cookie(sid: &str, secure: bool) -> String {
    csrf::cookie_header(session_cookie_name(secure), sid, None, secure)
}

/// `Set-Cookie` value that deletes the session cookie.
pub fn session_clear_cookie(secure: bool) -> String {
    csrf::cookie_header(session_cookie_name(secure), "", Some(0), secure)
}

/// Whether cookies must be `Secure` (and `__Host-` prefixed): the issuer is served over https.
pub fn secure_cookies(config: &Config) -> bool {
    config.issuer.scheme() == "https"
}

/// Where the browser goes next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// To the login page (303), carrying the sealed request.
    Login(String),
    /// To the consent page (303), carrying the sealed request.
    Consent(String),
    /// To the second-factor page (303), carrying the sealed request: the session's sign-in is
    /// weaker than the request or client requires.
    SecondFactor(String),
    /// Back to the client with an authorization code (302).
    Code(String),
}

impl Next {
    /// The URL to redirect to.
    pub fn location(&self) -> &str {
        match self {
            Next::Login(location)
            | Next::Consent(location)
            | Next::SecondFactor(location)
            | Next::Code(location) => location,
        }
    }
}

/// The result of a login form submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// The password was right: a new session (raw id for the cookie) and the next step. The next
    /// step can still fail (the store, say); the session cookie is set either way.
    SignedIn {
        /// Raw session id for the cookie.
        sid: String,
        /// What comes after signing in.
        next: Result<Next, FlowError>,
    },
    /// The password was right and the patient has a second factor: no session yet; the code page
    /// carries this sealed proof of the password ([`super::second_factor::PendingSignIn`]).
    SecondFactor {
        /// The sealed pending sign-in.
        pending: String,
    },
    /// Unknown email or wrong password: one answer for both.
    Rejected,
    /// Too many failures for this account or address: try again after this many seconds.
    Locked {
        /// Seconds until the lock lifts.
        retry_after: u64,
    },
    /// The email or password field is empty.
    Incomplete,
    /// The password was right, but the address is not verified yet: no session, and the page
    /// offers to send the verification link again.
    Unverified {
        /// The account, for the "send the link again" button.
        patient_id: PatientId,
        /// Its address.
        email: Email,
    },
}

/// The result of checking a password, before any authorization request is looked at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// Signed in: the raw session id for the cookie and the session.
    SignedIn {
        /// Raw session id for the cookie.
        sid: String,
        /// The new session.
        session: Session,
    },
    /// Anything else, as the login page answers it.
    NotSignedIn(SignIn),
}

/// Whether the request needs the patient to (re-)enter their password, given their session.
pub fn needs_login(request: &AuthorizationRequest, session: Option<&Session>) -> bool {
    let Some(session) = session else {
        return true;
    };
    // `<=`: timestamps are whole seconds, so a sign-in in the same second as the request may have
    // come before it and does not count. The sign-in made for this request clears the demand
    // instead (see [`Flow::sign_in`]), so a quick patient is not sent back to the login page.
    if request.prompt.login && session.auth_time <= request.created_at {
        return true;
    }
    match request.max_age {
        Some(max_age) => request.created_at.saturating_sub(session.auth_time) > max_age,
        None => false,
    }
}

/// The identity claims the granted scopes release (OIDC Core §5.4).
pub fn identity_claims(patient: &Patient, scopes: &Scopes) -> IdentityClaims {
    IdentityClaims::released(patient, scopes)
}

/// The flow over the function's context.
#[derive(Clone)]
pub struct Flow {
    config: Arc<Config>,
    keys: Arc<Keys>,
    store: SharedStore,
    patients: PatientRepo,
    sessions: SessionRepo,
    consents: ConsentRepo,
    throttle: ThrottleRepo,
    second_factors: SecondFactors,
}

impl Flow {
    /// The flow over a function's init state.
    pub fn new(context: &Context) -> Self {
        Self {
            config: context.config.clone(),
            keys: context.keys.clone(),
            store: context.store.clone(),
            patients: PatientRepo::new(context.store.clone()),
            sessions: SessionRepo::new(context.store.clone()),
            consents: ConsentRepo::new(context.store.clone()),
            throttle: ThrottleRepo::new(context.store.clone()),
            second_factors: SecondFactors::new(context),
        }
    }

    /// Whether this server's cookies must be `Secure` (https issuer).
    pub fn secure_cookies(&self) -> bool {
        secure_cookies(&self.config)
    }

    /// `/oauth/authorize`: validates the request and decides the next step. Storage: one round
    /// trip for the client and, if a cookie is present, the session; then, if signed in, one for
    /// the consent and (when a code would carry identity claims) the profile. Writes nothing.
    pub async fn authorize(
        &self,
        params: &Params,
        session_cookie: Option<&str>,
    ) -> Result<Next, FlowError> {
        let now = now_unix();
        let client_id = super::authorize::client_id(params)?;
        let (client, session) = read_pair(
            &*self.store,
            ClientRepo::read(&client_id),
            session_cookie.and_then(SessionRepo::read),
        )
        .await?;
        let request = super::authorize::validate(params, client.decode()?, now)?;
        // Decoded only now: until the client and its redirect URI are established, nothing but
        // the client may shape the answer.
        let session = match session {
            Some(session) => session.decode()?,
            None => None,
        };
        self.proceed(&request, session.as_ref()).await
    }

    /// The live session a cookie names, if any.
    pub async fn session(&self, cookie: Option<&str>) -> Result<Option<Session>, PageError> {
        match cookie {
            Some(sid) => Ok(self.sessions.get(sid).await?),
            None => Ok(None),
        }
    }

    /// Opens the sealed request of a login or consent page.
    pub async fn open_request(
        &self,
        sealed: Option<&str>,
    ) -> Result<AuthorizationRequest, PageError> {
        let sealed = sealed.ok_or(PageError::RequestExpired)?;
        let keys = self
            .keys
            .for_sealed(super::authorize::REQUEST_PURPOSE, sealed)
            .await;
        AuthorizationRequest::open(&keys, sealed, now_unix()).map_err(|_| PageError::RequestExpired)
    }

    /// The decision of the module documentation, for a validated request.
    pub async fn proceed(
        &self,
        request: &AuthorizationRequest,
        session: Option<&Session>,
    ) -> Result<Next, FlowError> {
        let session = match session {
            Some(session) if !needs_login(request, Some(session)) => session,
            _ if request.prompt.none => {
                return Err(request.reject(OAuthError::new(
                    OAuthErrorCode::LoginRequired,
                    "the patient must sign in",
                )))
            }
            _ => return self.page_location(request, "login").map(Next::Login),
        };
        // A weaker sign-in than asked for (`acr_values`, or the client's registration) steps up on
        // the second-factor page, which also sends a patient without one to set it up.
        if request
            .acr
            .is_some_and(|required| session.amr.acr() < required)
        {
            if request.prompt.none {
                return Err(request.reject(OAuthError::new(
                    OAuthErrorCode::InteractionRequired,
                    "the patient must confirm the sign-in with a second factor",
                )));
            }
            return self.page_location(request, "mfa").map(Next::SecondFactor);
        }
        // The consent and, when a code would carry identity claims, the profile: one round trip.
        let profile = (needs_profile(&request.scopes) && !request.prompt.consent)
            .then(|| PatientRepo::read(&session.patient_id));
        let (consent, profile) = read_pair(
            &*self.store,
            ConsentRepo::read(&session.patient_id, &request.client_id),
            profile,
        )
        .await?;
        let consented = consent
            .decode()?
            .is_some_and(|granted| request.scopes.is_subset(&granted));
        if consented && !request.prompt.consent {
            let patient = match profile {
                Some(profile) => profile.decode()?,
                None => None,
            };
            return self.code(request, session, patient);
        }
        if request.prompt.none {
            return Err(request.reject(OAuthError::new(
                OAuthErrorCode::ConsentRequired,
                "the patient must approve this app's access",
            )));
        }
        self.page_location(request, "consent").map(Next::Consent)
    }

    /// Checks a login form for an authorization request: [`Flow::authenticate`], then the next
    /// step of the request.
    pub async fn sign_in(
        &self,
        request: &AuthorizationRequest,
        email: &str,
        password: &str,
        ip: &str,
        previous_sid: Option<&str>,
    ) -> Result<SignIn, PageError> {
        let (sid, session) = match self.authenticate(email, password, ip, previous_sid).await? {
            Authentication::SignedIn { sid, session } => (sid, session),
            Authentication::NotSignedIn(answer) => return Ok(answer),
        };
        tracing::info!(client_id = %request.client_id, "patient signed in");
        // This sign-in is the re-authentication `prompt=login` asked for; the request sealed into
        // the consent page carries that, so the consent step does not ask for it again.
        let mut satisfied = request.clone();
        satisfied.prompt.login = false;
        let next = self.proceed(&satisfied, Some(&session)).await;
        Ok(SignIn::SignedIn { sid, next })
    }

    /// Checks a password: throttling, then the password (argon2 off the async threads; an unknown
    /// email spends the same time on a dummy hash), then, for a verified address, starts a session
    /// (in one transaction that also checks the password was not changed meanwhile).
    ///
    /// `ip` is the caller's address as API Gateway saw it; `previous_sid` a session cookie the
    /// browser already had, which is ended so one browser never holds two live sessions.
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        ip: &str,
        previous_sid: Option<&str>,
    ) -> Result<Authentication, PageError> {
        let refuse = |answer| Ok(Authentication::NotSignedIn(answer));
        if email.trim().is_empty() || password.is_empty() {
            return refuse(SignIn::Incomplete);
        }
        let parsed = Email::parse(email).ok();
        // Malformed addresses are throttled too, under their own text, so they cost the same.
        let account = parsed
            .as_ref()
            .map(Email::lookup_key)
            .unwrap_or_else(|| email.trim().to_ascii_lowercase());
        // Counted before the password is checked, in one conditional write: parallel guesses
        // cannot all pass a limit that none of them has been counted against yet.
        let reservation = match self.throttle.reserve(&account, ip).await? {
            Attempt::Allowed(reservation) => reservation,
            Attempt::Throttled { retry_after } => {
                metrics::count(Counter::SignInThrottled);
                return refuse(SignIn::Locked { retry_after });
            }
        };
        let credentials = match &parsed {
            Some(email) => self.patients.credentials_by_email(email).await?,
            None => None,
        };
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || match credentials {
            Some(credentials) => {
                verify_password(&credentials.password_hash, &password).then_some(credentials)
            }
            None => {
                verify_dummy(&password);
                None
            }
        })
        .await
        .map_err(|error| {
            tracing::error!(cause = %error, "password verification task failed");
            PageError::Internal
        })?;
        let Some(credentials) = verified else {
            tracing::info!("failed sign-in");
            metrics::count(Counter::SignInFailed);
            return refuse(SignIn::Rejected);
        };
        self.throttle.succeeded(&reservation).await?;
        if !credentials.email_verified {
            tracing::info!("sign-in of an unverified address");
            return refuse(SignIn::Unverified {
                patient_id: credentials.patient_id,
                email: credentials.email,
            });
        }
        let auth_time = now_unix();
        if self
            .second_factors
            .enrolled(&credentials.patient_id)
            .await?
        {
            let pending = self.second_factors.seal_pending(&credentials, auth_time)?;
            return refuse(SignIn::SecondFactor { pending });
        }
        if let Some(previous) = previous_sid {
            if let Err(error) = self.sessions.delete(previous).await {
                tracing::warn!(cause = %error, "could not end the previous session");
            }
        }
        let sid = match self
            .sessions
            .create(&credentials, auth_time, SESSION_TTL)
            .await
        {
            Ok(sid) => sid,
            // The password was reset (or the account deleted) while it was being checked.
            Err(RepoError::NotFound) => return refuse(SignIn::Rejected),
            Err(other) => return Err(other.into()),
        };
        let session = Session {
            sid: crate::store::layout::session_public_id(&sid),
            patient_id: credentials.patient_id,
            auth_time,
            amr: Amr::password(),
            expires_at: auth_time.saturating_add(SESSION_TTL.as_secs() as i64),
        };
        metrics::count(Counter::SignInOk);
        Ok(Authentication::SignedIn { sid, session })
    }

    /// The consent form's answer. Allow records the consent (added to any earlier one) and issues
    /// the code; deny sends `access_denied` to the client.
    pub async fn consent(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
        allow: bool,
    ) -> Result<Next, FlowError> {
        if !allow {
            return Err(request.reject(OAuthError::new(
                OAuthErrorCode::AccessDenied,
                "the patient denied the request",
            )));
        }
        self.consents
            .grant(&session.patient_id, &request.client_id, &request.scopes)
            .await?;
        self.issue_code(request, session).await
    }

    /// The redirect back to the client with a sealed code (nothing stored: the token endpoint makes
    /// it single-use when it creates the grant). Reads the profile only when identity claims are
    /// granted.
    pub async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
    ) -> Result<Next, FlowError> {
        let profile = if needs_profile(&request.scopes) {
            self.patients.get(&session.patient_id).await?
        } else {
            None
        };
        self.code(request, session, profile)
    }

    /// [`Flow::issue_code`] with the profile already read (`None` when the scopes need none).
    fn code(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
        profile: Option<Patient>,
    ) -> Result<Next, FlowError> {
        let claims = if needs_profile(&request.scopes) {
            match profile {
                Some(patient) => identity_claims(&patient, &request.scopes),
                None => {
                    tracing::error!("a live session names a patient that does not exist");
                    return Err(PageError::Internal.into());
                }
            }
        } else {
            IdentityClaims::default()
        };
        let code = AuthorizationCode {
            grant_id: GrantId::generate().to_string(),
            client_id: request.client_id.to_string(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            scope: request.scopes.to_string(),
            patient_id: session.patient_id.to_string(),
            nonce: request.nonce.clone(),
            auth_time: session.auth_time,
            sid: Some(session.sid.clone()),
            amr: session.amr.clone(),
            expires_at: now_unix().saturating_add(AuthorizationCode::TTL_SECONDS),
            approved_at_ms: ApprovedAt::now().millis(),
            claims,
            id_token_alg: request.id_token_alg,
        };
        let sealed = self
            .keys
            .current()
            .sealer(AuthorizationCode::PURPOSE)
            .seal_json(&code)
            .map_err(|error| {
                tracing::error!(cause = %error, "sealing an authorization code failed");
                PageError::Internal
            })?;
        let mut pairs = vec![("code", sealed.as_str())];
        if let Some(state) = &request.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", self.config.issuer_str()));
        tracing::info!(client_id = %request.client_id, "authorization code issued");
        Ok(Next::Code(append_query(&request.redirect_uri, &pairs)))
    }

    /// The login or consent page URL for a request (`page` is `login` or `consent`).
    fn page_location(
        &self,
        request: &AuthorizationRequest,
        page: &str,
    ) -> Result<String, FlowError> {
        let sealed = request.seal(&self.keys.current()).map_err(|error| {
            tracing::error!(cause = %error, "sealing an authorization request failed");
            PageError::Internal
        })?;
        Ok(append_query(
            &format!("{}/oauth/{page}", self.config.issuer_str()),
            &[("request", &sealed)],
        ))
    }

    /// The login page URL for a request (where the consent page sends a patient who is not signed in).
    pub fn login_location(&self, request: &AuthorizationRequest) -> Result<String, FlowError> {
        self.page_location(request, "login")
    }

    /// The issuer, as `iss` of error redirects.
    pub fn issuer(&self) -> &str {
        self.config.issuer_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::ClientId;
    use crate::domain::patient::{BirthDate, Name, Phone};
    use crate::oauth::authorize::Prompt;

    fn request(prompt: Prompt, max_age: Option<i64>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: ClientId::parse("c1").unwrap(),
            client_name: "App".into(),
            redirect_uri: "https://app.example/cb".into(),
            scopes: Scopes::parse("openid").unwrap(),
            state: None,
            code_challenge: None,
            nonce: None,
            prompt,
            max_age,
            login_hint: None,
            ui_locale: None,
            id_token_alg: Default::default(),
            acr: None,
            created_at: 10_000,
            expires_at: 10_900,
        }
    }

    fn session(auth_time: i64) -> Session {
        Session {
            sid: "s".into(),
            patient_id: PatientId::generate(),
            auth_time,
            amr: Amr::password(),
            expires_at: auth_time + 3600,
        }
    }

    #[test]
    fn no_session_always_needs_login() {
        assert!(needs_login(&request(Prompt::default(), None), None));
    }

    #[test]
    fn prompt_login_needs_a_sign_in_made_after_the_request() {
        let login = Prompt {
            login: true,
            ..Prompt::default()
        };
        assert!(needs_login(&request(login, None), Some(&session(9_999))));
        // Same second as the request: it may have come before, so it does not count.
        assert!(needs_login(&request(login, None), Some(&session(10_000))));
        assert!(!needs_login(&request(login, None), Some(&session(10_001))));
        assert!(!needs_login(
            &request(Prompt::default(), None),
            Some(&session(1))
        ));
    }

    #[test]
    fn max_age_counts_from_the_request_so_a_fresh_sign_in_satisfies_even_zero() {
        assert!(needs_login(
            &request(Prompt::default(), Some(0)),
            Some(&session(9_999))
        ));
        assert!(!needs_login(
            &request(Prompt::default(), Some(0)),
            Some(&session(10_005))
        ));
        assert!(!needs_login(
            &request(Prompt::default(), Some(60)),
            Some(&session(9_940))
        ));
        assert!(needs_login(
            &request(Prompt::default(), Some(60)),
            Some(&session(9_939))
        ));
    }

    #[test]
    fn identity_claims_follow_the_granted_scopes() {
        let patient = Patient::new(
            Email::parse("anna@example.org").unwrap(),
            Name::parse("Anna", "first name").unwrap(),
            Name::parse("Muster", "last name").unwrap(),
            BirthDate::parse("1985-02-28").unwrap(),
            Some(Phone::parse("+49 30 1234567").unwrap()),
        );
        let none = identity_claims(&patient, &Scopes::parse("openid").unwrap());
        assert_eq!(none, IdentityClaims::default());
        let profile = identity_claims(&patient, &Scopes::parse("openid profile").unwrap());
        assert_eq!(profile.name.as_deref(), Some("Anna Muster"));
        assert_eq!(profile.birthdate.as_deref(), Some("1985-02-28"));
        assert!(profile.email.is_none() && profile.phone_number.is_none());
        let contact = identity_claims(&patient, &Scopes::parse("email phone").unwrap());
        assert_eq!(contact.email.as_deref(), Some("anna@example.org"));
        assert_eq!(contact.email_verified, Some(false));
        assert!(contact.phone_number.is_some() && contact.name.is_none());
    }

    #[test]
    fn session_cookies_use_the_host_prefix_over_https_only() {
        assert_eq!(
            session_set_cookie("abc", true),
            "__Host-portal_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            session_set_cookie("abc", false),
            "portal_session=abc; Path=/; HttpOnly; SameSite=Lax"
        );
        assert!(session_clear_cookie(true).contains("Max-Age=0"));
    }
}
