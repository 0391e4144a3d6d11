//! Patient accounts: self-registration, address verification, password recovery, and the
//! signed-in patient's own page. No HTTP here: the `authorize` function turns the outcomes into
//! pages.
//!
//! - [`console`] serves the account page, `/account` ([`AccountConsole`]): who may use it (a
//!   fresh enough session) and the password check that guards its weightiest actions;
//!   [`overview`] what the page shows; [`apps`] its connected apps and "remove access", [`settings`] profile, password
//!   and language, [`email_change`] a new address proven by a mailed link, [`deletion`]
//!   deleting the account (GDPR Art. 17);
//! - [`registration`] serves `/account/register` and the verification link sent again;
//! - [`verification`] serves `/account/verify`;
//! - [`recovery`] serves `/account/password/forgot` and `/account/password/reset`;
//! - [`link`] holds the sealed tokens of mailed links, [`mails`] the mails.
//!
//! Answers never tell whether an address has an account: registering a taken address mails its
//! owner instead, and asking for a reset or a new verification link answers the same either way.
//! Every action that sends mail or creates an account takes a unit of its per-address and per-IP
//! limits first ([`crate::repo::limits`]).

pub mod apps;
pub mod console;
pub mod deletion;
pub mod email_change;
mod hashing;
pub mod link;
pub mod mails;
pub mod overview;
pub mod recovery;
pub mod registration;
pub mod settings;
pub mod verification;

pub use console::{AccountConsole, Rejected};

use std::sync::Arc;

use crate::boot::Context;
use crate::config::Config;
use crate::domain::patient::{Email, PatientId};
use crate::i18n::Locale;
use crate::keys::Keys;
use crate::mail::{from_config, SharedMailer};
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::flow_error::PageError;
use crate::repo::{GrantRepo, LimitRepo, PatientRepo, SessionRepo};
use crate::store::now_unix;

use self::link::{LinkKind, LinkToken};
use self::mails::AccountMail;

/// A form field's problem: the field's name and the catalog message that explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The form field (`email`, `password`, ...).
    pub field: &'static str,
    /// Catalog message id.
    pub message: &'static str,
}

/// The account flows over a function's init state.
#[derive(Clone)]
pub struct Accounts {
    config: Arc<Config>,
    keys: Arc<Keys>,
    mailer: SharedMailer,
    patients: PatientRepo,
    sessions: SessionRepo,
    grants: GrantRepo,
    limits: LimitRepo,
}

impl Accounts {
    /// The flows over `context`, mailing through the configured mailer.
    pub fn new(context: &Context) -> Self {
        Self::with_mailer(context, from_config(&context.config))
    }

    /// The flows over `context`, mailing through `mailer`.
    pub fn with_mailer(context: &Context, mailer: SharedMailer) -> Self {
        let store = context.store.clone();
        Self {
            config: context.config.clone(),
            keys: context.keys.clone(),
            mailer,
            patients: PatientRepo::new(store.clone()),
            sessions: SessionRepo::new(store.clone()),
            grants: GrantRepo::new(store.clone()),
            limits: LimitRepo::new(store),
        }
    }

    /// Whether patients may register themselves (`PORTAL_SELF_REGISTRATION`).
    pub fn self_registration(&self) -> bool {
        self.config.self_registration
    }

    /// The URL of an account page (for mails).
    fn page_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.issuer_str().trim_end_matches('/'))
    }

    /// Seals a link token of `kind` into its URL.
    fn link_url(&self, kind: LinkKind, token: &LinkToken) -> Result<String, PageError> {
        let sealed = token.seal(kind, &self.keys.current()).ok_or_else(|| {
            tracing::error!("sealing an account link failed");
            PageError::Internal
        })?;
        Ok(link::url(self.config.issuer_str(), kind, &sealed))
    }

    /// Opens the token of a link of `kind`, with the keys that sealed it.
    async fn open_link(&self, kind: LinkKind, text: &str) -> Option<LinkToken> {
        let keys = self.keys.for_sealed(LinkToken::purpose(kind), text).await;
        LinkToken::open(kind, &keys, text, now_unix())
    }

    /// Tells the patient that a passkey was added to their account (in their language, with a
    /// link to the account page, where it can be removed). A failure is logged, not shown: the
    /// passkey is added whatever happens to this notice.
    pub async fn passkey_added_notice(&self, patient: &crate::domain::patient::Patient) {
        let url = self.page_url("/account/mfa/passkeys");
        if let Err(error) = self
            .send(
                AccountMail::PasskeyAdded,
                &patient.email,
                patient.locale,
                Some(&url),
            )
            .await
        {
            tracing::warn!(?error, "the passkey-added notice was not sent");
        }
    }

    /// Sends an account mail; a mail service failure is a 503 page (the patient can try again).
    async fn send(
        &self,
        kind: AccountMail,
        to: &Email,
        locale: Locale,
        url: Option<&str>,
    ) -> Result<(), PageError> {
        let mail = kind
            .render(&self.config.mail_from, to.as_str(), locale, url, now_unix())
            .map_err(|error| {
                tracing::error!(cause = %error, "an account mail did not render");
                PageError::Internal
            })?;
        self.mailer.send(&mail).await.map_err(|error| {
            tracing::warn!(cause = %error, mail = ?kind, "an account mail was not sent");
            PageError::Unavailable
        })
    }

    /// Mails a verification link for `email` of `patient_id`.
    async fn send_verification(
        &self,
        patient_id: PatientId,
        email: &Email,
        locale: Locale,
        request: Option<AuthorizationRequest>,
    ) -> Result<(), PageError> {
        let token = LinkToken::new(
            LinkKind::Verify,
            patient_id,
            email.as_str(),
            locale,
            request,
            now_unix(),
        );
        let url = self.link_url(LinkKind::Verify, &token)?;
        self.send(AccountMail::Verify, email, locale, Some(&url))
            .await
    }
}

/// The sign-in a patient came from, renewed for the step after a mailed link did its work: the
/// mail may have taken longer than a sealed request lives. The patient still has to sign in, and
/// the app's `state`, nonce and PKCE challenge stay the ones it sent.
pub fn renewed(request: AuthorizationRequest) -> AuthorizationRequest {
    AuthorizationRequest {
        expires_at: now_unix().saturating_add(crate::oauth::authorize::REQUEST_TTL_SECS),
        ..request
    }
}
