//! Who holds which keys: one key document per function, holding exactly what that function uses.

use serde::{Deserialize, Serialize};

use super::purpose::Purpose;

/// A function, as far as keys go: each reads one key document made for it ([`super::KeyDocument`])
/// and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Authorization endpoint, login, consent, logout: seals codes and the pending request,
    /// verifies `id_token_hint`s. Signs nothing.
    Authorize,
    /// Token, revocation, introspection: the only holder of the token signing key.
    Token,
    /// Discovery, JWKS, userinfo, profile: public keys only (it serves both JWKS documents).
    Userinfo,
    /// Booking: verifies access tokens, seals availability ids and ETags, signs video join links.
    Booking,
    /// ASAP list and notifier: verifies access tokens, seals availability ids, ETags and the
    /// unsubscribe links of its emails.
    Asap,
}

impl Role {
    /// Every function.
    pub const ALL: [Role; 5] = [
        Role::Authorize,
        Role::Token,
        Role::Userinfo,
        Role::Booking,
        Role::Asap,
    ];

    /// The function's name (its binary, its key document's file and secret).
    pub const fn name(self) -> &'static str {
        match self {
            Role::Authorize => "authorize",
            Role::Token => "token",
            Role::Userinfo => "userinfo",
            Role::Booking => "booking",
            Role::Asap => "asap",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// Whether it signs access tokens and id_tokens (holds the active token signing key).
    pub const fn signs_tokens(self) -> bool {
        matches!(self, Role::Token)
    }

    /// Whether it signs video join links (holds the active video signing key).
    pub const fn signs_video_links(self) -> bool {
        matches!(self, Role::Booking)
    }

    /// Whether its document carries the public video keys (to serve them, or beside the private one).
    pub const fn knows_video_keys(self) -> bool {
        matches!(self, Role::Userinfo | Role::Booking)
    }

    /// The sealing purposes whose keys it holds.
    pub const fn purposes(self) -> &'static [Purpose] {
        match self {
            Role::Authorize => &[
                Purpose::AuthorizationCode,
                Purpose::AuthorizationRequest,
                Purpose::EmailVerification,
                Purpose::PasswordReset,
                Purpose::SecondFactor,
                Purpose::TotpEnrolment,
            ],
            Role::Token => &[Purpose::AuthorizationCode, Purpose::RefreshToken],
            Role::Userinfo => &[],
            // Booking mails the confirmation link of an ASAP address named on `POST /booking`.
            Role::Booking => &[
                Purpose::Availability,
                Purpose::AppointmentEtag,
                Purpose::AsapAddressConfirmation,
            ],
            Role::Asap => &[
                Purpose::Availability,
                Purpose::AppointmentEtag,
                Purpose::AsapUnsubscribe,
                Purpose::AsapAddressConfirmation,
            ],
        }
    }

    /// Whether it holds `purpose`'s key.
    pub fn holds(self, purpose: Purpose) -> bool {
        self.purposes().contains(&purpose)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_signs_tokens_and_only_booking_signs_video_links() {
        let token_signers: Vec<Role> = Role::ALL.into_iter().filter(|r| r.signs_tokens()).collect();
        assert_eq!(token_signers, [Role::Token]);
        let video_signers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.signs_video_links())
            .collect();
        assert_eq!(video_signers, [Role::Booking]);
        assert!(Role::Userinfo.purposes().is_empty());
    }

    #[test]
    fn every_purpose_has_a_holder_and_shared_ones_are_the_handovers() {
        for purpose in Purpose::ALL {
            let holders: Vec<Role> = Role::ALL.into_iter().filter(|r| r.holds(purpose)).collect();
            assert!(!holders.is_empty(), "{purpose}");
            // Only what one function seals and another opens is held twice.
            let expected: &[Role] = match purpose {
                Purpose::AuthorizationCode => &[Role::Authorize, Role::Token],
                Purpose::Availability
                | Purpose::AppointmentEtag
                | Purpose::AsapAddressConfirmation => &[Role::Booking, Role::Asap],
                _ => &holders[..1],
            };
            assert_eq!(holders, expected, "{purpose}");
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.name()), Some(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                serde_json::json!(role.name())
            );
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
