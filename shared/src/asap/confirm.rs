//! Confirming an ASAP notification address that is not the patient's verified account address.
//!
//! An app may name any `email` for ASAP notifications; without a check the portal would mail a
//! patient's appointment type and time to whatever address an app (or a second account) types
//! in. So an address other than the verified account address is stored unconfirmed, one mail
//! with a confirmation link goes to it ([`Confirmations::request`]), and until its owner
//! confirms, the notifier writes to the account address (the subscription index carries only a
//! confirmed address: [`crate::booking::subscriptions`]). The link's page
//! (`/asap/confirm?token=…`, GET shows, POST acts) names the institution and the app that asked,
//! and offers "this wasn't me", which blocks confirmation mails to the address for
//! [`limits::NOT_ME_DAYS`] days. Confirmation mails are limited per address and day
//! ([`limits`]), and none goes to an address that bounced or complained.

use std::sync::Arc;

use super::confirm_mail::ConfirmationMail;
use super::confirm_token::{ConfirmToken, LIFETIME_SECONDS, MAX_APP_NAME_CHARS};
use super::limits;
use super::notifier::{message_id_domain, NotifyError};
use crate::booking::repo::NewSubscription;
use crate::booking::{Appointment, AppointmentStatus, BookingError, BookingRepo};
use crate::boot::Context;
use crate::crypto::random_id;
use crate::domain::client::ClientId;
use crate::keys::Keys;
use crate::mail::SharedMailer;
use crate::metrics::{self, Counter};
use crate::repo::{ClientRepo, PatientRepo, RepoError};
use crate::store::{Condition, SharedStore, StoreError};

/// What [`Confirmations::request`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requested {
    /// Nothing to confirm (no address, or already confirmed, or not subscribed).
    NotNeeded,
    /// The address is the patient's verified account address: confirmed without a mail.
    AccountAddress(Box<Appointment>),
    /// The confirmation mail was sent.
    Sent,
    /// Its owner said "this wasn't me" lately: no mail.
    Blocked,
    /// The address had its confirmation mails for today: no mail.
    RateLimited,
    /// The address bounced or complained before ([`super::suppression`]): no mail.
    Suppressed,
}

/// What following a confirmation link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// The address is confirmed now.
    Now,
    /// It was confirmed before (the link was used).
    Already,
    /// The subscription or its address changed, or the appointment is cancelled: nothing to do.
    Stale,
}

/// A confirmation link as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The opened token.
    pub token: ConfirmToken,
    /// The institution's name.
    pub institution: String,
    /// The appointment, when it still exists and still names the token's subscription and address.
    pub appointment: Option<Appointment>,
}

/// Sends confirmation mails and acts on their links; built once per function instance.
pub struct Confirmations {
    store: SharedStore,
    booking: BookingRepo,
    patients: PatientRepo,
    clients: ClientRepo,
    mailer: SharedMailer,
    keys: Arc<Keys>,
    issuer: String,
    from: String,
}

impl Confirmations {
    /// Over the function's store, keys and configuration, sending through `mailer`.
    pub fn new(context: &Context, mailer: SharedMailer) -> Self {
        Self {
            store: context.store.clone(),
            booking: BookingRepo::new(context.store.clone()),
            patients: PatientRepo::new(context.store.clone()),
            clients: ClientRepo::new(context.store.clone()),
            mailer,
            keys: context.keys.clone(),
            issuer: context.config.issuer_str().to_owned(),
            from: context.config.mail_from.clone(),
        }
    }

    /// After `appointment` was subscribed with an address through the app `client`: confirms the
    /// account address on the spot, or mails one confirmation link (within the limits).
    /// Storage: the profile, then one transaction (the limit guard), the app's name and the
    /// catalog (cached), then the mail.
    pub async fn request(
        &self,
        appointment: &Appointment,
        client: &ClientId,
        now: i64,
    ) -> Result<Requested, NotifyError> {
        let (Some(email), Some(subscription_id), Some(since)) = (
            appointment.email.as_deref(),
            appointment.asap_subscription_id.as_deref(),
            appointment.asap_since,
        ) else {
            return Ok(Requested::NotNeeded);
        };
        if !appointment.asap_opt_in || appointment.email_confirmed {
            return Ok(Requested::NotNeeded);
        }
        let patient = self
            .patients
            .get(&appointment.patient_id)
            .await
            .map_err(repo_error)?;
        if let Some(account) = patient
            .as_ref()
            .filter(|p| p.email_verified && p.email.as_str().eq_ignore_ascii_case(email))
        {
            let confirmed = NewSubscription {
                id: subscription_id.to_owned(),
                since,
                email: Some(account.email.as_str().to_owned()),
                email_confirmed: true,
            };
            return match self
                .booking
                .set_subscription(appointment, Some(confirmed), Some(subscription_id), now)
                .await
            {
                Ok(updated) => Ok(Requested::AccountAddress(Box::new(updated))),
                // Changed meanwhile: the change's own request decides.
                Err(BookingError::Conflict { .. }) => Ok(Requested::NotNeeded),
                Err(BookingError::Store(e)) => Err(e.into()),
                Err(other) => Err(NotifyError::Catalog(other.to_string())),
            };
        }
        match self.store.transact(limits::confirmation(email, now)).await {
            Ok(()) => {}
            Err(StoreError::TransactionFailed {
                index: limits::SUPPRESSION_CHECK,
                ..
            }) => {
                tracing::info!(appointment = %appointment.id, "asap confirmation mail not sent: the address is suppressed (bounce or complaint)");
                return Ok(Requested::Suppressed);
            }
            Err(StoreError::TransactionFailed {
                index: limits::NOT_ME_CHECK,
                ..
            }) => {
                tracing::info!(appointment = %appointment.id, "asap confirmation mail blocked (this wasn't me)");
                metrics::count(Counter::AsapMailsRateLimited);
                return Ok(Requested::Blocked);
            }
            Err(StoreError::TransactionFailed { .. }) => {
                tracing::warn!(appointment = %appointment.id, "asap confirmation mail rate-limited");
                metrics::count(Counter::AsapMailsRateLimited);
                return Ok(Requested::RateLimited);
            }
            Err(other) => return Err(other.into()),
        }
        let app_name = match self.clients.get(client).await.map_err(repo_error)? {
            Some(app) => app.name.chars().take(MAX_APP_NAME_CHARS).collect(),
            None => client.as_str().to_owned(),
        };
        let locale = patient.map(|p| p.locale).unwrap_or_default();
        let token = ConfirmToken {
            patient_id: appointment.patient_id.clone(),
            appointment_id: appointment.id.clone(),
            subscription_id: subscription_id.to_owned(),
            email: email.to_owned(),
            app_name,
            exp: (now + LIFETIME_SECONDS).min(appointment.starts_at),
            locale: Some(locale),
        };
        let sealed = token
            .seal(&self.keys.current())
            .ok_or_else(|| NotifyError::Render("sealing the confirmation token failed".into()))?;
        let institution = self.institution().await?;
        let mail = ConfirmationMail {
            from: &self.from,
            to: email,
            locale,
            institution: &institution,
            app_name: &token.app_name,
            type_name: &appointment.type_name,
            time_zone: appointment.time_zone,
            starts_at: appointment.starts_at,
            issuer: &self.issuer,
            token: &sealed,
            message_id: format!(
                "asap-confirm.{}@{}",
                random_id(16),
                message_id_domain(&self.issuer)
            ),
            now,
        }
        .render()
        .map_err(|e| NotifyError::Render(e.to_string()))?;
        self.mailer
            .send(&mail)
            .await
            .map_err(|cause| NotifyError::Mail { failed: 1, cause })?;
        tracing::info!(appointment = %appointment.id, "asap confirmation mail sent");
        Ok(Requested::Sent)
    }

    /// Opens a link's token (`Err` for forged, foreign or expired ones) and reads what its page
    /// shows.
    pub async fn link(&self, token: &str, now: i64) -> Result<Link, BookingError> {
        let keys = self
            .keys
            .for_sealed(super::confirm_token::PURPOSE, token)
            .await;
        let token = ConfirmToken::open(&keys, token, now)
            .map_err(|e| BookingError::InvalidRequest(e.to_string()))?;
        let appointment = self
            .booking
            .appointment(&token.patient_id, &token.appointment_id)
            .await?
            .filter(|a| {
                a.status == AppointmentStatus::Booked
                    && a.asap_opt_in
                    && a.asap_subscription_id.as_deref() == Some(token.subscription_id.as_str())
                    && a.email.as_deref() == Some(token.email.as_str())
            });
        let institution = self
            .institution()
            .await
            .map_err(|e| BookingError::Internal(e.to_string()))?;
        Ok(Link {
            token,
            institution,
            appointment,
        })
    }

    /// Confirms the address a link was mailed to: once.
    pub async fn confirm(&self, link: &Link, now: i64) -> Result<Confirmed, BookingError> {
        let Some(current) = &link.appointment else {
            return Ok(Confirmed::Stale);
        };
        if current.email_confirmed {
            return Ok(Confirmed::Already);
        }
        let confirmed = NewSubscription {
            id: link.token.subscription_id.clone(),
            since: current.asap_since.unwrap_or(now),
            email: Some(link.token.email.clone()),
            email_confirmed: true,
        };
        match self
            .booking
            .set_subscription(
                current,
                Some(confirmed),
                Some(&link.token.subscription_id),
                now,
            )
            .await
        {
            Ok(_) => Ok(Confirmed::Now),
            // Changed between the read and the write (a parallel click, a new address).
            Err(BookingError::Conflict { .. }) => Ok(Confirmed::Stale),
            Err(other) => Err(other),
        }
    }

    /// "This wasn't me": no more confirmation mails to the link's address for a while.
    pub async fn not_me(&self, link: &Link, now: i64) -> Result<(), BookingError> {
        self.store
            .put(limits::not_me(&link.token.email, now), Condition::None)
            .await?;
        tracing::info!(appointment = %link.token.appointment_id, "asap address owner said this wasn't me");
        Ok(())
    }

    /// The institution's name from the catalog, or the portal's host.
    async fn institution(&self) -> Result<String, NotifyError> {
        let named = match self.booking.catalog().await {
            Ok(catalog) => catalog.file.institution.clone(),
            Err(BookingError::CatalogMissing) => None,
            Err(BookingError::Store(e)) => return Err(e.into()),
            Err(other) => return Err(NotifyError::Catalog(other.to_string())),
        };
        Ok(named.unwrap_or_else(|| message_id_domain(&self.issuer)))
    }
}

fn repo_error(error: RepoError) -> NotifyError {
    match error {
        RepoError::Store(e) => NotifyError::Store(e),
        other => NotifyError::Catalog(other.to_string()),
    }
}
