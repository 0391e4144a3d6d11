//! The languages a patient reads the portal in: which ones there are, the message catalogs, how a
//! page's language is chosen, and dates for people.
//!
//! - [`Locale`]: one of the [`SUPPORTED`] languages (English first: the default and the fallback).
//! - [`catalog`]: the Project Fluent catalogs in `shared/locales/<tag>/*.ftl`, compiled into the
//!   binary, and [`Tr`], the translator the page and mail templates call.
//! - [`negotiate`]: the choice of a page's language from `ui_locales`, the patient's own choice and
//!   `Accept-Language` (no HTTP types: the functions pass in what they read).
//! - [`datetime`]: "Tuesday, 1 December 2026, 09:00 (CET)" and "Dienstag, 1. Dezember 2026,
//!   09:00 Uhr (MEZ)".
//!
//! Adding a language is one new catalog folder (`shared/locales/fr/`, the same files as `en/`,
//! translated) and one line: its tag in [`SUPPORTED`]. Tests fail until both exist and every
//! message of `en` has its translation.

pub mod catalog;
pub mod datetime;
pub mod negotiate;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use catalog::Tr;

/// The languages of the portal, as BCP 47 primary language subtags, each with its catalog folder
/// `shared/locales/<tag>/`. The first is the default and the fallback for a missing message.
pub const SUPPORTED: &[&str] = &["en", "de"];

/// One of the [`SUPPORTED`] languages. Only [`Locale::parse`] makes one, so every `Locale` has a
/// catalog.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Locale(usize);

impl Locale {
    /// English: the default and the fallback language.
    pub const ENGLISH: Locale = Locale(0);

    /// The supported language a BCP 47 tag asks for, matched on its primary subtag in any letter
    /// case (`de`, `DE`, `de-AT` and `de_CH` are German), or `None`.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?;
        if !(2..=8).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        SUPPORTED
            .iter()
            .position(|supported| supported.eq_ignore_ascii_case(primary))
            .map(Locale)
    }

    /// Every supported language, in [`SUPPORTED`] order.
    pub fn all() -> impl Iterator<Item = Locale> {
        (0..SUPPORTED.len()).map(Locale)
    }

    /// The language's tag, e.g. `de` (for `<html lang>`, the `locale` claim and storage).
    pub fn tag(self) -> &'static str {
        SUPPORTED[self.0]
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Locale({})", self.tag())
    }
}

impl Serialize for Locale {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.tag())
    }
}

impl<'de> Deserialize<'de> for Locale {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(deserializer)?;
        Locale::parse(&tag)
            .ok_or_else(|| serde::de::Error::custom(format!("unsupported language `{tag}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_comes_first_and_is_the_default() {
        assert_eq!(SUPPORTED[0], "en");
        assert_eq!(Locale::default(), Locale::ENGLISH);
        assert_eq!(Locale::ENGLISH.tag(), "en");
    }

    #[test]
    fn tags_match_on_their_primary_subtag_in_any_case() {
        let de = Locale::parse("de").unwrap();
        assert_eq!(de.tag(), "de");
        for tag in ["DE", "de-AT", "de_CH", " de-DE "] {
            assert_eq!(Locale::parse(tag), Some(de), "{tag}");
        }
        assert_eq!(Locale::parse("en-GB"), Some(Locale::ENGLISH));
        for tag in ["", "fr", "d", "deu-", "*", "de1", "-de", "toolonglanguage"] {
            assert_eq!(Locale::parse(tag), None, "{tag:?}");
        }
    }

    #[test]
    fn a_locale_travels_as_its_tag() {
        let de = Locale::parse("de").unwrap();
        assert_eq!(serde_json::to_string(&de).unwrap(), "\"de\"");
        assert_eq!(serde_json::from_str::<Locale>("\"de\"").unwrap(), de);
        assert!(serde_json::from_str::<Locale>("\"xx\"").is_err());
        assert_eq!(Locale::all().count(), SUPPORTED.len());
    }
}
