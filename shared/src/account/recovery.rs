//! `/account/password/forgot` and `/account/password/reset`.
//!
//! Forgot answers the same whatever the address: for an account it mails a reset link (30
//! minutes) bound to the current password hash; for none it does the same reads and sealing and
//! renders the same mail, but sends nothing. A reset replaces the hash only if it is still the one
//! the link names (one conditional write: the link works once, and a sign-in racing it either
//! lands first and is ended, or fails), ends every sign-in session of the patient, with "sign out
//! all apps" revokes every grant too, and mails "your password was changed".
//!
//! A reset never adopts an account whose address was never verified: anyone can register
//! somebody else's address, and the owner resetting the password would inherit the names, birth
//! date and phone the squatter typed. The link of such an account opens the registration form
//! for its address instead, and the fresh account replaces the unverified one
//! ([`Accounts::claim`]).

use crate::domain::password::{self, PasswordError};
use crate::domain::patient::{Email, PatientId};
use crate::i18n::Locale;
use crate::metrics::{self, Counter};
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::flow_error::PageError;
use crate::repo::limits::{RESET_PER_ADDRESS, RESET_PER_IP};
use crate::repo::{Credentials, RepoError, Subject};
use crate::store::now_unix;

use super::hashing::hash_off_thread;
use super::link::{LinkKind, LinkToken};
use super::mails::AccountMail;
use super::registration::{self, RegistrationForm};
use super::{Accounts, FieldError};

/// What asking for a reset link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forgot {
    /// The one answer for every address: "if there is an account, a link is on its way".
    Done,
    /// Not an email address.
    Invalid(FieldError),
    /// Too many requests from this address or for this email: try again later.
    Throttled,
}

/// What a reset link did (or would do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reset {
    /// The link is good: the page shows the form (GET), or shows it again with this problem.
    Ready(Option<FieldError>),
    /// The password is replaced; the sign-in the patient came from, if any, continues.
    Done(Option<Box<AuthorizationRequest>>),
    /// The link is good but its account was never verified (someone may have registered the
    /// address without owning it): the page shows the registration form for the link's address
    /// instead (GET), or shows it again with these problems. A reset never adopts such an
    /// account; [`Accounts::claim`] replaces it.
    Register {
        /// The address the new account gets (the link's).
        email: String,
        /// The form's problems (none on the first showing).
        errors: Vec<FieldError>,
    },
    /// A fresh, verified account replaced the never-verified one; the sign-in the patient came
    /// from, if any, continues.
    Registered(Option<Box<AuthorizationRequest>>),
    /// Forged, expired or used: the page offers a new link.
    Invalid,
}

impl Accounts {
    /// `POST /account/password/forgot`.
    pub async fn forgot(
        &self,
        email: &str,
        ip: &str,
        request: Option<AuthorizationRequest>,
    ) -> Result<Forgot, PageError> {
        let Ok(email) = Email::parse(email) else {
            return Ok(Forgot::Invalid(FieldError {
                field: "email",
                message: "account-error-email",
            }));
        };
        if !self.limits.take(RESET_PER_IP, Subject::Ip(ip)).await?
            || !self
                .limits
                .take(RESET_PER_ADDRESS, Subject::Hashed(&email.lookup_key()))
                .await?
        {
            tracing::info!("reset request throttled");
            return Ok(Forgot::Throttled);
        }
        let credentials = self.patients.credentials_by_email(&email).await?;
        // The same two reads, sealing and rendering for an unknown address (a fresh id is never
        // found), so the answer takes as long; only the send is left out.
        let patient_id = credentials
            .as_ref()
            .map(|c| c.patient_id.clone())
            .unwrap_or_else(PatientId::generate);
        let locale = self
            .patients
            .get(&patient_id)
            .await?
            .map(|patient| patient.locale)
            .unwrap_or_default();
        let hash = credentials
            .as_ref()
            .map_or("", |c| c.password_hash.as_str());
        let token = LinkToken::new(
            LinkKind::Reset,
            patient_id,
            email.as_str(),
            locale,
            request,
            now_unix(),
        )
        .for_password(hash);
        let url = self.link_url(LinkKind::Reset, &token)?;
        match credentials {
            Some(credentials) => {
                tracing::info!(patient_id = %credentials.patient_id, "reset link requested");
                self.send(AccountMail::Reset, &credentials.email, locale, Some(&url))
                    .await?;
            }
            None => {
                let rendered =
                    AccountMail::Reset.render("x@invalid", "x@invalid", locale, Some(&url), 0);
                tracing::info!(rendered = rendered.is_ok(), "reset link for no account");
            }
        }
        Ok(Forgot::Done)
    }

    /// `GET /account/password/reset`: whether the link can be used; changes nothing.
    pub async fn check_reset(&self, token: &str) -> Result<Reset, PageError> {
        Ok(match self.current_for(token).await? {
            Some((_, credentials)) if !credentials.email_verified => Reset::Register {
                email: credentials.email.as_str().to_owned(),
                errors: Vec::new(),
            },
            Some(_) => Reset::Ready(None),
            None => Reset::Invalid,
        })
    }

    /// `POST /account/password/reset`: sets `password`, ends every session, and with
    /// `sign_out_apps` revokes every grant of the patient.
    pub async fn reset(
        &self,
        token: &str,
        new_password: &str,
        sign_out_apps: bool,
    ) -> Result<Reset, PageError> {
        let Some((token, credentials)) = self.current_for(token).await? else {
            return Ok(Reset::Invalid);
        };
        if !credentials.email_verified {
            // Adopting it would hand the mailbox owner whatever a squatter entered.
            return Ok(Reset::Register {
                email: credentials.email.as_str().to_owned(),
                errors: Vec::new(),
            });
        }
        match password::check_policy(new_password) {
            Ok(()) => {}
            Err(error) => {
                let message = match error {
                    PasswordError::TooCommon => "account-error-password-common",
                    _ => "account-error-password-length",
                };
                return Ok(Reset::Ready(Some(FieldError {
                    field: "password",
                    message,
                })));
            }
        }
        let hash = hash_off_thread(new_password.to_owned()).await?;
        match self
            .patients
            .replace_password(&credentials, &hash, true)
            .await
        {
            Ok(()) => {}
            // Used meanwhile (a second tab, a double click): the other reset won.
            Err(RepoError::NotFound) => return Ok(Reset::Invalid),
            Err(other) => return Err(other.into()),
        }
        let patient_id = &credentials.patient_id;
        let ended = self.sessions.end_all(patient_id, None).await?;
        let revoked = if sign_out_apps {
            self.grants.revoke_all(patient_id, None).await?
        } else {
            0
        };
        tracing::info!(%patient_id, ended, revoked, "password reset");
        metrics::count(Counter::PasswordResets);
        self.password_changed(&credentials.email, token.locale)
            .await;
        Ok(Reset::Done(token.request.map(Box::new)))
    }

    /// Mails "your password was changed" (with the way to reset it, should it not have been the
    /// patient) to `email` in `locale`: after a reset, and after a change on the account page.
    /// The password is changed whatever happens to this notice: a failure is only logged.
    pub async fn password_changed(&self, email: &Email, locale: Locale) {
        let url = self.page_url("/account/password/forgot");
        if let Err(error) = self
            .send(AccountMail::PasswordChanged, email, locale, Some(&url))
            .await
        {
            tracing::warn!(?error, "the password-changed notice was not sent");
        }
    }

    /// `POST /account/password/reset` for a never-verified account: the registration form, for
    /// the address the link was mailed to (whatever `form.email` says), makes a fresh verified
    /// account in `locale` that replaces the unverified one in one conditional transaction (see
    /// [`crate::repo::PatientRepo::replace_unverified`]). A verified account gets the password
    /// form instead ([`Reset::Ready`]); a link used twice is [`Reset::Invalid`].
    pub async fn claim(
        &self,
        token: &str,
        form: &RegistrationForm<'_>,
        locale: Locale,
    ) -> Result<Reset, PageError> {
        let Some((token, credentials)) = self.current_for(token).await? else {
            return Ok(Reset::Invalid);
        };
        if credentials.email_verified {
            return Ok(Reset::Ready(None));
        }
        let form = RegistrationForm {
            email: credentials.email.as_str(),
            ..*form
        };
        let (mut patient, password) = match registration::check(&form, locale) {
            Ok(checked) => checked,
            Err(errors) => {
                return Ok(Reset::Register {
                    email: credentials.email.as_str().to_owned(),
                    errors,
                })
            }
        };
        patient.email_verified = true;
        let hash = hash_off_thread(password).await?;
        match self
            .patients
            .replace_unverified(&credentials, &patient, &hash)
            .await
        {
            Ok(()) => {}
            // Verified, reset or claimed meanwhile: the link is spent.
            Err(RepoError::NotFound) => return Ok(Reset::Invalid),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(
            patient_id = %patient.id,
            replaced = %credentials.patient_id,
            "unverified account replaced by its mailbox owner"
        );
        metrics::count(Counter::Registrations);
        Ok(Reset::Registered(token.request.map(Box::new)))
    }

    /// The link's token and the credentials it may replace: `None` when the link is forged,
    /// expired, or used (the password hash it names is not the current one).
    async fn current_for(&self, text: &str) -> Result<Option<(LinkToken, Credentials)>, PageError> {
        let Some(token) = self.open_link(LinkKind::Reset, text).await else {
            return Ok(None);
        };
        let Ok(email) = Email::parse(&token.email) else {
            return Ok(None);
        };
        let current = self
            .patients
            .credentials_by_email(&email)
            .await?
            .filter(|c| {
                c.patient_id == token.patient_id && token.matches_password(&c.password_hash)
            });
        Ok(current.map(|credentials| (token, credentials)))
    }

    /// The language of a link's pages: the one its mail was written in.
    pub async fn link_language(&self, kind: LinkKind, token: &str) -> Option<Locale> {
        self.open_link(kind, token).await.map(|token| token.locale)
    }
}
