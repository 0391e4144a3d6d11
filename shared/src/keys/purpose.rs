//! What sealed values are for: each purpose has its own AES-256-GCM-SIV key (derived with HKDF
//! from the generation's root, see [`super::admin`]), its own associated data, and a lifetime that
//! decides how long a retired key must still open its values.
//!
//! # Why AES-256-GCM-SIV for every purpose
//!
//! Sealing uses a fresh random 96-bit nonce per value. NIST SP 800-38D §8.3 limits AES-GCM with
//! random nonces to 2^32 encryptions per key, because beyond that a repeated nonce becomes likely
//! enough, and one repeated GCM nonce gives away the authentication key: every value under that key
//! becomes forgeable. Here every purpose can be driven at request rate — availability ids by the
//! thousand per minute, ETags on every read, sealed authorization requests on every unauthenticated
//! `GET /oauth/authorize`, codes on every `prompt=none` round, refresh tokens on every refresh — and
//! a sealing key stays active until the operator rotates, which nothing forces. At API Gateway's
//! default 100 requests per second one purpose reaches 2^32 in under 17 months, at a raised limit in
//! weeks ([`gcm_budget_days`]). AES-GCM-SIV (RFC 8452) derives a per-nonce key and its keystream
//! from the tag, so a repeated nonce only reveals that the same value was sealed twice; its
//! random-nonce bound is far above 2^32 messages per key. It costs one more pass over a few hundred
//! bytes (measured in `shared/src/keys/sealer.rs` tests: microseconds), so there is no purpose
//! where plain GCM would be worth its ceiling.

use serde::{Deserialize, Serialize};

use super::timing::{
    APPOINTMENT_HORIZON_SECS, CLOCK_SKEW_SECS, KEYS_MAX_AGE_SECS, REFRESH_TTL_SECS,
};

/// The purposes values are sealed for. Each is a separate key: a value sealed for one never opens
/// as another, and a function holds only the keys of the purposes it uses ([`super::Role`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Authorization codes: sealed by `authorize`, opened by `token`.
    AuthorizationCode,
    /// The pending authorization request carried by the login and consent pages (the flow state).
    AuthorizationRequest,
    /// Refresh tokens (`token` only).
    RefreshToken,
    /// Availability ids of search results (`booking`, `asap`).
    Availability,
    /// Appointment `ETag`s (`booking`, `asap`).
    AppointmentEtag,
    /// The unsubscribe link of ASAP emails (`asap`).
    AsapUnsubscribe,
    /// Mailed link, reserved: confirming a patient's email address (`authorize`).
    EmailVerification,
    /// Mailed link, reserved: resetting a password (`authorize`).
    PasswordReset,
    /// Mailed link: confirming the address ASAP offers go to (sealed by `booking` and `asap`,
    /// opened by `asap`).
    AsapAddressConfirmation,
    /// A sign-in whose password was right, waiting for its second factor (`authorize`).
    SecondFactor,
    /// An authenticator-app secret offered on the enrolment page, until a code confirms it
    /// (`authorize`).
    TotpEnrolment,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 11] = [
        Purpose::AuthorizationCode,
        Purpose::AuthorizationRequest,
        Purpose::RefreshToken,
        Purpose::Availability,
        Purpose::AppointmentEtag,
        Purpose::AsapUnsubscribe,
        Purpose::EmailVerification,
        Purpose::PasswordReset,
        Purpose::AsapAddressConfirmation,
        Purpose::SecondFactor,
        Purpose::TotpEnrolment,
    ];

    /// The purpose's name: its key's name in key documents, the HKDF `info` its key is derived
    /// with, and the associated data of every value sealed for it.
    pub const fn label(self) -> &'static str {
        match self {
            Purpose::AuthorizationCode => "authorization_code",
            Purpose::AuthorizationRequest => "authorization_request",
            Purpose::RefreshToken => "refresh_token",
            Purpose::Availability => "availability",
            Purpose::AppointmentEtag => "appointment_etag",
            Purpose::AsapUnsubscribe => "asap_unsubscribe",
            Purpose::EmailVerification => "email_verification",
            Purpose::PasswordReset => "password_reset",
            Purpose::AsapAddressConfirmation => "asap_address_confirmation",
            Purpose::SecondFactor => "second_factor",
            Purpose::TotpEnrolment => "totp_enrolment",
        }
    }

    /// The longest a value sealed for this purpose can be presented after it was sealed. The flows
    /// that seal them must not give their values a longer life (their tests check it).
    pub const fn max_lifetime_secs(self) -> i64 {
        match self {
            Purpose::AuthorizationCode => 60,
            Purpose::AuthorizationRequest => 15 * 60,
            Purpose::RefreshToken => REFRESH_TTL_SECS,
            Purpose::Availability => 60 * 60,
            Purpose::AppointmentEtag => APPOINTMENT_HORIZON_SECS,
            Purpose::AsapUnsubscribe => APPOINTMENT_HORIZON_SECS,
            Purpose::EmailVerification => 7 * 24 * 60 * 60,
            Purpose::PasswordReset => 60 * 60,
            Purpose::AsapAddressConfirmation => APPOINTMENT_HORIZON_SECS,
            Purpose::SecondFactor => 5 * 60,
            Purpose::TotpEnrolment => 15 * 60,
        }
    }

    /// How long a retired key of this purpose still opens values: a function instance that has
    /// not reloaded its keys yet may seal with it for up to [`KEYS_MAX_AGE_SECS`] after the
    /// rotation, and what it sealed lives [`Purpose::max_lifetime_secs`], give or take clock skew.
    /// So no value sealed before (or around) a rotation dies because of it.
    pub const fn retention_secs(self) -> i64 {
        self.max_lifetime_secs() + KEYS_MAX_AGE_SECS + CLOCK_SKEW_SECS
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// NIST SP 800-38D §8.3: AES-GCM with random 96-bit nonces must not seal more than 2^32 values
/// under one key.
pub const GCM_RANDOM_NONCE_LIMIT: u64 = 1 << 32;

/// API Gateway's default steady rate (`ApiThrottlingRateLimit` in template.yaml).
pub const DEFAULT_API_RATE_PER_SEC: u64 = 100;

/// Days until one AES-GCM key reaches [`GCM_RANDOM_NONCE_LIMIT`] when values are sealed at
/// `per_second`: the budget plain GCM would have for a purpose driven at that rate.
pub const fn gcm_budget_days(per_second: u64) -> u64 {
    GCM_RANDOM_NONCE_LIMIT / per_second / (24 * 60 * 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::timing::{
        JWKS_CACHE_SECS, PUBLICATION_DELAY_SECS, SIGNED_TOKEN_TTL_SECS, SIGNING_RETENTION_SECS,
    };

    #[test]
    fn labels_are_unique_and_are_the_serialised_names() {
        let mut labels: Vec<&str> = Purpose::ALL.iter().map(|p| p.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), Purpose::ALL.len());
        for purpose in Purpose::ALL {
            assert_eq!(
                serde_json::to_value(purpose).unwrap(),
                serde_json::json!(purpose.label())
            );
        }
    }

    #[test]
    fn plain_gcm_would_run_out_of_nonces_while_a_sealing_key_is_active() {
        // A sealing key stays active until the next rotation, which nothing forces; at the API's
        // default rate one purpose reaches the GCM limit in well under two years, at ten times
        // that rate in weeks: every purpose seals with GCM-SIV (sealer.rs) instead.
        assert!(gcm_budget_days(DEFAULT_API_RATE_PER_SEC) < 2 * 365);
        assert!(gcm_budget_days(10 * DEFAULT_API_RATE_PER_SEC) < 60);
        // Availability ids alone are sealed by the thousand per minute (a search returns dozens).
        assert!(gcm_budget_days(50) < 3 * 365);
    }

    #[test]
    fn retired_keys_outlive_everything_they_sealed() {
        for purpose in Purpose::ALL {
            assert!(
                purpose.retention_secs() > purpose.max_lifetime_secs() + KEYS_MAX_AGE_SECS,
                "{purpose}"
            );
        }
        // Mailed links tied to an appointment live until it, up to the booking horizon.
        assert!(Purpose::AsapUnsubscribe.retention_secs() > 366 * 24 * 3600);
        assert!(Purpose::RefreshToken.retention_secs() > REFRESH_TTL_SECS);
        // A retired signing key stays published past the last token a stale instance signs.
        const {
            assert!(SIGNING_RETENTION_SECS > KEYS_MAX_AGE_SECS + SIGNED_TOKEN_TTL_SECS);
            assert!(PUBLICATION_DELAY_SECS >= JWKS_CACHE_SECS + KEYS_MAX_AGE_SECS);
        }
    }
}
