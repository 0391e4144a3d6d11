//! How strongly a patient authenticated: the methods used (`amr`, RFC 8176) and the level of
//! assurance they add up to (`acr`, OIDC Core §2).
//!
//! Two levels: [`Acr::Loa1`] for one factor (the password), [`Acr::Loa2`] for two (password plus
//! an authenticator-app or recovery code, or a passkey that verified the patient: the key is
//! something they have, the fingerprint or device PIN that unlocked it something they are or
//! know). Clients ask for a level with `acr_values`; a client
//! may be registered to always require one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A level of assurance, ordered: `Loa1 < Loa2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Acr {
    /// One factor.
    #[serde(rename = "urn:mypatientportal:loa:1")]
    Loa1,
    /// Two factors.
    #[serde(rename = "urn:mypatientportal:loa:2")]
    Loa2,
}

impl Acr {
    /// Every level, lowest first (discovery's `acr_values_supported`).
    pub const ALL: [Acr; 2] = [Acr::Loa1, Acr::Loa2];

    /// The level's URN, as in `acr` claims and `acr_values`.
    pub const fn urn(self) -> &'static str {
        match self {
            Acr::Loa1 => "urn:mypatientportal:loa:1",
            Acr::Loa2 => "urn:mypatientportal:loa:2",
        }
    }

    /// The level named by `urn`, if it is one of ours.
    pub fn parse(urn: &str) -> Option<Acr> {
        Acr::ALL.into_iter().find(|acr| acr.urn() == urn)
    }

    /// The level a space-separated `acr_values` asks for: the highest level it names that this
    /// server knows. Unknown values are ignored (OIDC Core §3.1.2.1: `acr` is a voluntary claim
    /// unless the client demands it through the `claims` parameter, which this server does not
    /// support), so `None` when it names none of ours.
    pub fn requested(acr_values: &str) -> Option<Acr> {
        acr_values
            .split_ascii_whitespace()
            .filter_map(Acr::parse)
            .max()
    }

    /// The level the methods `amr` add up to.
    pub fn of(amr: &Amr) -> Acr {
        if amr.has_second_factor() {
            Acr::Loa2
        } else {
            Acr::Loa1
        }
    }
}

impl fmt::Display for Acr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.urn())
    }
}

/// An authentication method (RFC 8176 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Password.
    Pwd,
    /// One-time password: an authenticator-app (TOTP) code or a single-use recovery code.
    Otp,
    /// Multiple factors (added whenever more than one was used).
    Mfa,
    /// Proof of possession of a hardware-bound key: a device-bound passkey.
    Hwk,
    /// Proof of possession of a software-held key: a synced passkey (backed up to a password
    /// manager or platform account, so the key leaves the device's hardware).
    Swk,
    /// The authenticator verified the user (biometric or device PIN) before it signed.
    User,
}

impl Method {
    /// The RFC 8176 value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Pwd => "pwd",
            Method::Otp => "otp",
            Method::Mfa => "mfa",
            Method::Hwk => "hwk",
            Method::Swk => "swk",
            Method::User => "user",
        }
    }

    /// The method an RFC 8176 value names, if it is one this server uses.
    pub fn parse(text: &str) -> Option<Method> {
        [
            Method::Pwd,
            Method::Otp,
            Method::Mfa,
            Method::Hwk,
            Method::Swk,
            Method::User,
        ]
        .into_iter()
        .find(|method| method.as_str() == text)
    }
}

/// The methods of one sign-in, in the order they were used, each once; `mfa` is added when more
/// than one factor was used. Serialised as the list of RFC 8176 values (the `amr` claim).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amr(Vec<Method>);

impl Default for Amr {
    /// A password sign-in: what every sign-in made before second factors existed was.
    fn default() -> Self {
        Amr::password()
    }
}

impl Amr {
    /// A sign-in with the password alone.
    pub fn password() -> Amr {
        Amr(vec![Method::Pwd])
    }

    /// A sign-in with the password and a one-time code.
    pub fn password_and_code() -> Amr {
        Amr(vec![Method::Pwd, Method::Otp, Method::Mfa])
    }

    /// A sign-in with a passkey: `swk` for a synced (backed-up) one, else `hwk`; with `user` and
    /// `mfa` when the authenticator verified the patient.
    pub fn passkey(synced: bool, user_verified: bool) -> Amr {
        let key = if synced { Method::Swk } else { Method::Hwk };
        if user_verified {
            Amr(vec![key, Method::User, Method::Mfa])
        } else {
            Amr(vec![key])
        }
    }

    /// The methods from their RFC 8176 values (unknown values are dropped; none at all is a
    /// password sign-in).
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Amr {
        let methods: Vec<Method> = values.into_iter().filter_map(Method::parse).collect();
        if methods.is_empty() {
            Amr::password()
        } else {
            Amr(methods)
        }
    }

    /// The RFC 8176 values.
    pub fn values(&self) -> Vec<&'static str> {
        self.0.iter().map(|method| method.as_str()).collect()
    }

    /// Whether a second factor was used: a one-time code after the password, or a key whose
    /// authenticator verified the user.
    pub fn has_second_factor(&self) -> bool {
        let key = self.0.contains(&Method::Hwk) || self.0.contains(&Method::Swk);
        self.0.contains(&Method::Otp) || (key && self.0.contains(&Method::User))
    }

    /// The level these methods add up to.
    pub fn acr(&self) -> Acr {
        Acr::of(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_values_ask_for_the_highest_known_level() {
        assert_eq!(Acr::requested("urn:mypatientportal:loa:1"), Some(Acr::Loa1));
        assert_eq!(
            Acr::requested("urn:mypatientportal:loa:1 urn:mypatientportal:loa:2"),
            Some(Acr::Loa2)
        );
        assert_eq!(
            Acr::requested("urn:other:gold urn:mypatientportal:loa:2"),
            Some(Acr::Loa2)
        );
        assert_eq!(Acr::requested("urn:other:gold"), None);
        assert_eq!(Acr::requested(""), None);
        assert!(Acr::Loa1 < Acr::Loa2);
    }

    #[test]
    fn levels_serialise_as_their_urns() {
        assert_eq!(
            serde_json::to_value(Acr::Loa2).unwrap(),
            serde_json::json!("urn:mypatientportal:loa:2")
        );
        assert_eq!(Acr::parse("urn:mypatientportal:loa:1"), Some(Acr::Loa1));
        assert_eq!(Acr::parse("loa:1"), None);
    }

    #[test]
    fn two_factors_are_loa2_and_say_mfa() {
        assert_eq!(Amr::password().acr(), Acr::Loa1);
        assert_eq!(Amr::password().values(), ["pwd"]);
        let both = Amr::password_and_code();
        assert_eq!(both.acr(), Acr::Loa2);
        assert_eq!(both.values(), ["pwd", "otp", "mfa"]);
        assert_eq!(
            serde_json::to_value(&both).unwrap(),
            serde_json::json!(["pwd", "otp", "mfa"])
        );
        assert_eq!(Amr::from_values(["pwd", "otp", "mfa"]), both);
        assert_eq!(Amr::from_values(["nonsense"]), Amr::password());
    }

    #[test]
    fn a_user_verified_passkey_is_loa2_and_a_bare_key_is_not() {
        let device = Amr::passkey(false, true);
        assert_eq!(device.values(), ["hwk", "user", "mfa"]);
        assert_eq!(device.acr(), Acr::Loa2);
        assert_eq!(Amr::passkey(true, true).values(), ["swk", "user", "mfa"]);
        assert_eq!(Amr::passkey(true, false).values(), ["swk"]);
        assert_eq!(Amr::passkey(true, false).acr(), Acr::Loa1);
        assert_eq!(Amr::from_values(["hwk", "user", "mfa"]), device);
        assert_eq!(Amr::from_values(["user"]).acr(), Acr::Loa1);
    }
}
