//! `/account/verify`: a GET only checks the link and shows a button (mail scanners fetch links);
//! the POST verifies. Verifying is one transaction of profile and email index, conditional on the
//! account still having the address and not being verified yet, so a link works once: used again
//! it finds the address verified and says so.

use crate::metrics::{self, Counter};
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::flow_error::PageError;
use crate::repo::Verification;

use super::link::{LinkKind, LinkToken};
use super::Accounts;

/// What a verification link did (or would do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    /// The link is good: the page shows the button (GET).
    Ready(Box<LinkToken>),
    /// The address is verified now, or already was (a link used twice). The sign-in the
    /// patient came from, if any, continues.
    Done(Option<Box<AuthorizationRequest>>),
    /// Forged, expired, or for an address the account no longer has (or an account that is
    /// gone): the page offers a new link.
    Invalid,
}

impl Accounts {
    /// `GET /account/verify`: whether the link can be used; changes nothing.
    pub async fn check_verification(&self, token: &str) -> Verified {
        match self.open_link(LinkKind::Verify, token).await {
            Some(token) => Verified::Ready(Box::new(token)),
            None => Verified::Invalid,
        }
    }

    /// `POST /account/verify`: verifies the address the link was mailed to.
    pub async fn verify(&self, token: &str) -> Result<Verified, PageError> {
        let Some(token) = self.open_link(LinkKind::Verify, token).await else {
            return Ok(Verified::Invalid);
        };
        let email = match crate::domain::patient::Email::parse(&token.email) {
            Ok(email) => email,
            Err(_) => return Ok(Verified::Invalid),
        };
        match self
            .patients
            .mark_verified(&token.patient_id, &email)
            .await?
        {
            Verification::Verified => {
                tracing::info!(patient_id = %token.patient_id, "address verified");
                metrics::count(Counter::Verifications);
                Ok(Verified::Done(token.request.map(Box::new)))
            }
            Verification::AlreadyVerified => Ok(Verified::Done(token.request.map(Box::new))),
            Verification::Stale => Ok(Verified::Invalid),
        }
    }
}
