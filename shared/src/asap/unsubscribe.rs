//! The one-click unsubscribe link of ASAP emails: a sealed token (AES-256-GCM-SIV under its own
//! key, [`Purpose::AsapUnsubscribe`], so no other sealed value opens as one) naming the appointment and the subscription it
//! was issued for. Unsubscribing ends that subscription, so the link works once; a later
//! subscription has a new id the old link does not name.

use serde::{Deserialize, Serialize};

use crate::booking::AppointmentId;
use crate::domain::patient::PatientId;
use crate::i18n::Locale;
use crate::keys::{KeySet, Purpose};

/// Sealing purpose of unsubscribe tokens (held by `asap`). Its retired keys are kept for the
/// booking horizon, so a link in a mail works until the appointment whatever the rotations.
pub const PURPOSE: Purpose = Purpose::AsapUnsubscribe;

/// What an unsubscribe link carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsubscribeToken {
    /// Patient id.
    #[serde(rename = "p")]
    pub patient_id: PatientId,
    /// Appointment id.
    #[serde(rename = "a")]
    pub appointment_id: AppointmentId,
    /// The subscription it ends.
    #[serde(rename = "s")]
    pub subscription_id: String,
    /// Expiry (unix seconds): the appointment's start, after which there is nothing to stop.
    #[serde(rename = "e")]
    pub exp: i64,
    /// The language of the email the link came in: the pages it opens speak it too.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

/// The token is unreadable, forged, from another server or expired.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("this unsubscribe link is not valid")]
pub struct InvalidToken;

impl UnsubscribeToken {
    /// The token text for a link (URL-safe).
    pub fn seal(&self, keys: &KeySet) -> Option<String> {
        keys.sealer(PURPOSE).seal_json(self).ok()
    }

    /// Opens a token, refusing expired ones.
    pub fn open(keys: &KeySet, text: &str, now: i64) -> Result<Self, InvalidToken> {
        keys.open_expiring(PURPOSE, text, 1024, now, |token: &Self| token.exp)
            .ok_or(InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_support::{foreign_keyset, keyset_of};
    use crate::keys::Role;

    fn token() -> UnsubscribeToken {
        UnsubscribeToken {
            patient_id: PatientId::parse("p").unwrap(),
            appointment_id: AppointmentId::parse(&"a".repeat(AppointmentId::LEN)).unwrap(),
            subscription_id: "s".into(),
            exp: 1_000,
            locale: Locale::parse("de"),
        }
    }

    #[test]
    fn only_untampered_unexpired_tokens_of_this_server_open() {
        let s = keyset_of(&[Role::Asap]);
        let text = token().seal(&s).unwrap();
        assert_eq!(UnsubscribeToken::open(&s, &text, 999).unwrap(), token());
        assert_eq!(UnsubscribeToken::open(&s, &text, 1_000), Err(InvalidToken));
        assert_eq!(
            UnsubscribeToken::open(&foreign_keyset(), &text, 0),
            Err(InvalidToken)
        );
        // Only the asap function holds the key: booking (deployed, stream dispatch) cannot forge
        // or open a link.
        let booking = keyset_of(&[Role::Booking]);
        assert_eq!(
            UnsubscribeToken::open(&booking, &text, 0),
            Err(InvalidToken)
        );
        assert_eq!(token().seal(&booking), None);
        let mut forged = text.clone().into_bytes();
        let i = forged.len() - 2;
        forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(UnsubscribeToken::open(&s, &forged, 0), Err(InvalidToken));
        let other_purpose = s.sealer(Purpose::Availability).seal_json(&token()).unwrap();
        assert_eq!(
            UnsubscribeToken::open(&s, &other_purpose, 0),
            Err(InvalidToken)
        );
        assert_eq!(UnsubscribeToken::open(&s, "", 0), Err(InvalidToken));
    }
}
