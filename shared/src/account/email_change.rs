//! Changing the account's address: the new address proves itself first.
//!
//! The account page (password confirmed there) asks for a link, which goes to the NEW address
//! (sealed, expiring after 24 hours, [`LinkKind::EmailChange`]), at most
//! [`EMAIL_CHANGE_PER_ACCOUNT`] an hour. The link's GET shows a button; its POST moves the account
//! in one transaction ([`PatientRepo::change_email`]) only if the account still has the address
//! the link was asked from and its password is unchanged, and only if no account holds the new
//! address: so a link works once, and never after the address or the password changed. Then
//! the old address is told, with the way to reset the password should it not have been the
//! patient.
//!
//! [`PatientRepo::change_email`]: crate::repo::PatientRepo::change_email

use super::console::{FormResult, Rejected};
use super::link::{LinkKind, LinkToken};
use super::mails::AccountMail;
use super::Accounts;
use crate::domain::patient::{Email, Patient};
use crate::oauth::flow_error::PageError;
use crate::repo::limits::EMAIL_CHANGE_PER_ACCOUNT;
use crate::repo::{EmailChange, Subject};
use crate::store::now_unix;

impl Accounts {
    /// Mails the link that confirms `new` as `patient`'s address.
    pub async fn request_email_change(&self, patient: &Patient, new: &str) -> FormResult<()> {
        let Ok(new) = Email::parse(new) else {
            return Ok(Err(Rejected::new("new_email", "console-email-invalid")));
        };
        if new.lookup_key() == patient.email.lookup_key() && new == patient.email {
            return Ok(Err(Rejected::new("new_email", "console-email-same")));
        }
        let allowed = self
            .limits
            .take(
                EMAIL_CHANGE_PER_ACCOUNT,
                Subject::Hashed(patient.id.as_str()),
            )
            .await?;
        if !allowed {
            return Ok(Err(Rejected::new("new_email", "console-email-limit")));
        }
        let token = LinkToken::new(
            LinkKind::EmailChange,
            patient.id.clone(),
            new.as_str(),
            patient.locale,
            None,
            now_unix(),
        )
        .changing_from(patient.email.as_str());
        let url = self.link_url(LinkKind::EmailChange, &token)?;
        self.send(AccountMail::EmailChange, &new, patient.locale, Some(&url))
            .await?;
        tracing::info!("an email change link was sent");
        Ok(Ok(()))
    }

    /// The token of an email-change link that still opens (for the page that shows its button).
    pub async fn email_change_link(&self, text: &str) -> Option<LinkToken> {
        self.open_link(LinkKind::EmailChange, text).await
    }

    /// Acts on an email-change link: the account moves to the new address, or the link is
    /// refused ([`EmailChange::Stale`] for a forged, expired or used link). The old address is
    /// told after a change.
    pub async fn confirm_email_change(&self, text: &str) -> Result<EmailChange, PageError> {
        let Some(token) = self.open_link(LinkKind::EmailChange, text).await else {
            return Ok(EmailChange::Stale);
        };
        let (Some(current), Ok(new)) = (token.current.as_deref(), Email::parse(&token.email))
        else {
            return Ok(EmailChange::Stale);
        };
        let Ok(current) = Email::parse(current) else {
            return Ok(EmailChange::Stale);
        };
        let Some(credentials) = self
            .patients
            .credentials_by_email(&current)
            .await?
            .filter(|credentials| credentials.patient_id == token.patient_id)
        else {
            return Ok(EmailChange::Stale);
        };
        let outcome = self.patients.change_email(&credentials, &new).await?;
        if outcome == EmailChange::Changed {
            tracing::info!(patient_id = %token.patient_id, "email address changed");
            let url = self.page_url("/account/password/forgot");
            // The address is changed whatever happens to this notice.
            if let Err(error) = self
                .send(
                    AccountMail::EmailChanged,
                    &current,
                    token.locale,
                    Some(&url),
                )
                .await
            {
                tracing::warn!(?error, "the email-changed notice was not sent");
            }
        }
        Ok(outcome)
    }
}
