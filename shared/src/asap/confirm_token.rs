//! The link of an ASAP address confirmation mail: a sealed token (its own key,
//! [`Purpose::AsapAddressConfirmation`], so no other sealed value opens as one) naming the appointment, the subscription and the address it was
//! sent for, and the app that asked. Confirming marks that address confirmed on that
//! subscription, so a second use finds nothing left to do; a changed address or a new
//! subscription makes the link stale.

use serde::{Deserialize, Serialize};

use crate::booking::AppointmentId;
use crate::domain::patient::PatientId;
use crate::i18n::Locale;
use crate::keys::{KeySet, Purpose};

/// Sealing purpose of confirmation tokens: `booking` and `asap` seal them (an address named on
/// `POST /booking` or on `POST …/asap_list`), `asap` opens them (the link's page).
pub const PURPOSE: Purpose = Purpose::AsapAddressConfirmation;

/// A link is valid this long (or until the appointment starts, if sooner).
pub const LIFETIME_SECONDS: i64 = 72 * 3600;

/// Longest app name carried (the page shows it; longer names are cut).
pub const MAX_APP_NAME_CHARS: usize = 100;

/// What a confirmation link carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmToken {
    /// Patient id.
    #[serde(rename = "p")]
    pub patient_id: PatientId,
    /// Appointment id.
    #[serde(rename = "a")]
    pub appointment_id: AppointmentId,
    /// The subscription whose address it confirms.
    #[serde(rename = "s")]
    pub subscription_id: String,
    /// The address it was mailed to.
    #[serde(rename = "m")]
    pub email: String,
    /// The name of the app that gave the address.
    #[serde(rename = "c")]
    pub app_name: String,
    /// Expiry (unix seconds).
    #[serde(rename = "e")]
    pub exp: i64,
    /// The language of the mail: the pages speak it too.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

/// The token is unreadable, forged, from another server or expired.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("this confirmation link is not valid")]
pub struct InvalidToken;

impl ConfirmToken {
    /// The token text for a link (URL-safe).
    pub fn seal(&self, keys: &KeySet) -> Option<String> {
        keys.sealer(PURPOSE).seal_json(self).ok()
    }

    /// Opens a token, refusing expired ones.
    pub fn open(keys: &KeySet, text: &str, now: i64) -> Result<Self, InvalidToken> {
        keys.open_expiring(PURPOSE, text, 2048, now, |token: &Self| token.exp)
            .ok_or(InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_support::{foreign_keyset, keyset_of};
    use crate::keys::Role;

    fn token() -> ConfirmToken {
        ConfirmToken {
            patient_id: PatientId::parse("p").unwrap(),
            appointment_id: AppointmentId::parse(&"a".repeat(AppointmentId::LEN)).unwrap(),
            subscription_id: "s".into(),
            email: "x@example.org".into(),
            app_name: "Health App".into(),
            exp: 1_000,
            locale: Locale::parse("de"),
        }
    }

    #[test]
    fn only_untampered_unexpired_tokens_of_this_purpose_open() {
        let s = keyset_of(&[Role::Asap]);
        let text = token().seal(&s).unwrap();
        assert_eq!(ConfirmToken::open(&s, &text, 999).unwrap(), token());
        assert_eq!(ConfirmToken::open(&s, &text, 1_000), Err(InvalidToken));
        assert_eq!(
            ConfirmToken::open(&foreign_keyset(), &text, 0),
            Err(InvalidToken)
        );
        let unsubscribe = s
            .sealer(super::super::unsubscribe::PURPOSE)
            .seal_json(&token())
            .unwrap();
        assert_eq!(ConfirmToken::open(&s, &unsubscribe, 0), Err(InvalidToken));
        assert_eq!(ConfirmToken::open(&s, "", 0), Err(InvalidToken));
    }

    #[test]
    fn booking_seals_links_that_asap_opens() {
        // The mail of an address named on `POST /booking` is sent by the booking function.
        let booking = keyset_of(&[Role::Booking]);
        let text = token().seal(&booking).expect("booking holds the key");
        let asap = keyset_of(&[Role::Asap]);
        assert_eq!(ConfirmToken::open(&asap, &text, 0).unwrap(), token());
        assert_eq!(token().seal(&keyset_of(&[Role::Token])), None);
    }
}
