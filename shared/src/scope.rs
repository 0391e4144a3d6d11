//! OAuth scopes: the OIDC ones and the portal's own.
//!
//! [`Scope`] is closed: a scope this server does not know is an error (`invalid_scope`), never silently
//! dropped, so a client always learns exactly what it asked for that cannot be granted.
//! [`Scopes`] is an ordered set whose text form (space-separated, RFC 6749 §3.3) is stable, which keeps
//! tokens, consent records and responses byte-identical for the same grant.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One scope this server knows. The declaration order is the order of the text form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `openid`: sign in with OpenID Connect (an ID token is issued).
    OpenId,
    /// `profile`: name and birth date claims.
    Profile,
    /// `email`: email claims.
    Email,
    /// `phone`: phone number claims.
    Phone,
    /// `offline_access`: a refresh token, to keep access while the patient is away.
    OfflineAccess,
    /// `profile_read`: the portal profile API.
    ProfileRead,
    /// `appointment_read`: list and view appointments.
    AppointmentRead,
    /// `appointment_write`: book, reschedule and cancel appointments.
    AppointmentWrite,
}

/// A scope text that names no known scope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The scope is not one this server offers (OAuth error `invalid_scope`). The name is shortened
    /// to [`ScopeError::MAX_NAME_CHARS`] characters so hostile input cannot bloat error messages.
    #[error("unknown scope `{0}`")]
    Unknown(String),
}

impl ScopeError {
    /// Longest part of an unknown scope name kept in the error.
    pub const MAX_NAME_CHARS: usize = 64;

    fn unknown(name: &str) -> Self {
        ScopeError::Unknown(name.chars().take(Self::MAX_NAME_CHARS).collect())
    }
}

impl Scope {
    /// Every scope, in text order.
    pub const ALL: [Scope; 8] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::Email,
        Scope::Phone,
        Scope::OfflineAccess,
        Scope::ProfileRead,
        Scope::AppointmentRead,
        Scope::AppointmentWrite,
    ];

    /// The scope's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::Phone => "phone",
            Scope::OfflineAccess => "offline_access",
            Scope::ProfileRead => "profile_read",
            Scope::AppointmentRead => "appointment_read",
            Scope::AppointmentWrite => "appointment_write",
        }
    }

    /// The scope with this exact wire name (names are case-sensitive, RFC 6749 §3.3).
    pub fn parse(name: &str) -> Result<Scope, ScopeError> {
        Scope::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| ScopeError::unknown(name))
    }

    /// The catalog message describing what the scope lets an app do, in plain words, as the
    /// consent page lists it (`scope-` and the name; see `shared/locales/*/scopes.ftl`).
    pub fn message_id(self) -> String {
        format!("scope-{}", self.as_str())
    }

    /// The English plain-words description (what the API documentation shows beside the name).
    pub fn description(self) -> String {
        crate::i18n::catalog::message(crate::i18n::Locale::ENGLISH, &self.message_id(), &[])
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::parse(s)
    }
}

/// An ordered set of scopes. Its text form lists them space-separated in [`Scope::ALL`] order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every scope this server offers (the default a new client may request).
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    /// Parses a space-separated scope list (the `scope` parameter). Empty text, or only whitespace,
    /// is the empty set; repeated names are accepted once; any unknown name fails the whole list.
    pub fn parse(text: &str) -> Result<Scopes, ScopeError> {
        text.split_ascii_whitespace().map(Scope::parse).collect()
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `self` is also in `other`.
    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Adds a scope; returns whether it was new.
    pub fn insert(&mut self, scope: Scope) -> bool {
        self.0.insert(scope)
    }

    /// Scopes in either set.
    pub fn union(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.union(&other.0).copied().collect())
    }

    /// Scopes in both sets.
    pub fn intersection(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.intersection(&other.0).copied().collect())
    }

    /// Scopes of `self` that are not in `other`.
    pub fn difference(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.difference(&other.0).copied().collect())
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in text order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// The wire names in text order (how repositories store the set).
    pub fn names(&self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }

    /// Whether a grant of these scopes comes with a refresh token.
    ///
    /// Rule: a refresh token is issued when the patient granted `offline_access`, or any portal API
    /// scope (`profile_read`, `appointment_read`, `appointment_write`). Sign-in-only grants (`openid`,
    /// `profile`, `email`, `phone`) get none: an app that only needs to know who the patient is has
    /// no use for long-lived access, and a token it does not hold cannot leak.
    pub fn grants_refresh_token(&self) -> bool {
        [
            Scope::OfflineAccess,
            Scope::ProfileRead,
            Scope::AppointmentRead,
            Scope::AppointmentWrite,
        ]
        .into_iter()
        .any(|s| self.contains(s))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scopes::parse(s)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = Scope;
    type IntoIter = std::iter::Copied<std::collections::btree_set::Iter<'a, Scope>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

/// Serialised as its text form, so sealed tokens carry `"openid profile"` rather than an array.
impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scopes::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_parses_back_from_its_name() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Ok(scope));
            assert_ne!(scope.description(), scope.message_id(), "in the catalog");
        }
    }

    #[test]
    fn a_list_parses_in_any_order_and_prints_in_stable_order() {
        let scopes = Scopes::parse("appointment_write  openid profile_read openid").unwrap();
        assert_eq!(scopes.len(), 3);
        assert_eq!(scopes.to_string(), "openid profile_read appointment_write");
        assert_eq!(Scopes::parse(&scopes.to_string()).unwrap(), scopes);
    }

    #[test]
    fn empty_text_is_the_empty_set() {
        assert!(Scopes::parse("").unwrap().is_empty());
        assert!(Scopes::parse("   ").unwrap().is_empty());
        assert_eq!(Scopes::new().to_string(), "");
    }

    #[test]
    fn an_unknown_or_differently_cased_scope_fails_the_whole_list() {
        assert_eq!(
            Scopes::parse("openid admin"),
            Err(ScopeError::Unknown("admin".into()))
        );
        assert_eq!(
            Scopes::parse("OpenID"),
            Err(ScopeError::Unknown("OpenID".into()))
        );
    }

    #[test]
    fn an_unknown_scope_name_is_shortened_in_the_error() {
        let long = "x".repeat(10_000);
        let ScopeError::Unknown(name) = Scopes::parse(&long).unwrap_err();
        assert_eq!(name.len(), ScopeError::MAX_NAME_CHARS);
    }

    #[test]
    fn subset_holds_for_narrower_sets_only() {
        let granted = Scopes::parse("openid profile_read appointment_read").unwrap();
        assert!(Scopes::parse("profile_read").unwrap().is_subset(&granted));
        assert!(Scopes::new().is_subset(&granted));
        assert!(granted.is_subset(&granted));
        assert!(!Scopes::parse("appointment_write")
            .unwrap()
            .is_subset(&granted));
        assert!(granted.is_subset(&Scopes::all()));
    }

    #[test]
    fn refresh_tokens_come_with_offline_access_or_a_portal_scope_only() {
        for text in [
            "offline_access",
            "openid profile_read",
            "appointment_read",
            "appointment_write",
        ] {
            assert!(
                Scopes::parse(text).unwrap().grants_refresh_token(),
                "{text}"
            );
        }
        for text in ["", "openid", "openid profile email phone"] {
            assert!(
                !Scopes::parse(text).unwrap().grants_refresh_token(),
                "{text}"
            );
        }
    }

    #[test]
    fn union_and_difference_behave_as_sets() {
        let a = Scopes::parse("openid email").unwrap();
        let b = Scopes::parse("email phone").unwrap();
        assert_eq!(a.union(&b).to_string(), "openid email phone");
        assert_eq!(a.intersection(&b).to_string(), "email");
        assert_eq!(a.difference(&b).to_string(), "openid");
    }

    #[test]
    fn serde_uses_the_text_form_and_rejects_unknown_scopes() {
        let scopes = Scopes::parse("email openid").unwrap();
        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(json, "\"openid email\"");
        assert_eq!(serde_json::from_str::<Scopes>(&json).unwrap(), scopes);
        assert!(serde_json::from_str::<Scopes>("\"openid root\"").is_err());
    }
}
