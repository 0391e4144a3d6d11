//! The message catalogs: Project Fluent files in `shared/locales/<tag>/*.ftl`, embedded at compile
//! time by `fluent-templates` and parsed on first use (a few kilobytes: well under a millisecond),
//! so a function that never renders a page or mail pays nothing at init.
//!
//! A message missing from a catalog (or one given too few arguments) never breaks a page or a
//! mail: it is logged and the English text is used. Tests are stricter: [`checked`] reports every
//! such problem met while rendering, and the catalog tests fail on any.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, StaticLoader};

use super::{Locale, SUPPORTED};

fluent_templates::static_loader! {
    static CATALOGS = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments would end up in mail subjects and plain-text
        // bodies; every value here is left-to-right text anyway.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The Fluent language identifier of each supported language, in [`SUPPORTED`] order.
static LANGUAGE_IDS: LazyLock<Vec<LanguageIdentifier>> = LazyLock::new(|| {
    SUPPORTED
        .iter()
        .map(|tag| tag.parse().unwrap_or_default())
        .collect()
});

thread_local! {
    /// Problems met while [`checked`] runs on this thread (rendering is synchronous).
    static PROBLEMS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// The catalogs (for tests that list the languages they hold).
pub fn catalogs() -> &'static StaticLoader {
    &CATALOGS
}

/// The message `id` in `locale` with `args`; a problem is logged (and recorded by [`checked`])
/// and answered with the English text, or with the id itself if English lacks it too.
pub fn message(locale: Locale, id: &str, args: &[(&str, &str)]) -> String {
    match lookup(locale, id, args) {
        Ok(text) => text,
        Err(problem) => {
            tracing::error!(locale = %locale, id, problem = %problem, "catalog message unusable");
            PROBLEMS.with(|problems| {
                if let Some(problems) = problems.borrow_mut().as_mut() {
                    problems.push(format!("{locale}: {id}: {problem}"));
                }
            });
            let fallback = (locale != Locale::ENGLISH)
                .then(|| lookup(Locale::ENGLISH, id, args).ok())
                .flatten();
            fallback.unwrap_or_else(|| id.to_owned())
        }
    }
}

/// The message `id` in `locale`, or `None` when the catalog has none: for optional entries such
/// as the local name of a time-zone abbreviation. Nothing is logged or recorded.
pub fn optional(locale: Locale, id: &str) -> Option<String> {
    lookup(locale, id, &[]).ok()
}

/// Runs `render` and returns its result with every catalog problem it met on this thread (a
/// missing message, attribute or argument). Tests use it to turn what production forgives into a
/// failure.
pub fn checked<T>(render: impl FnOnce() -> T) -> (T, Vec<String>) {
    let outer = PROBLEMS.with(|problems| problems.borrow_mut().replace(Vec::new()));
    let result = render();
    let problems = PROBLEMS.with(|problems| std::mem::replace(&mut *problems.borrow_mut(), outer));
    (result, problems.unwrap_or_default())
}

fn lookup(locale: Locale, id: &str, args: &[(&str, &str)]) -> Result<String, String> {
    let language = LANGUAGE_IDS
        .get(locale.0)
        .ok_or_else(|| format!("no language identifier for {locale}"))?;
    let args: HashMap<&str, FluentValue> = args
        .iter()
        .map(|(name, value)| (*name, FluentValue::from(*value)))
        .collect();
    CATALOGS
        .lookup_single_language(language, id, (!args.is_empty()).then_some(&args))
        .map_err(|error| error.to_string())
}

/// The translator of one page or mail, in one language: what templates call for their text.
///
/// Messages with an attribute are looked up as `id.attribute` (e.g. `error-csrf.title`).
/// Everything returned is plain text; askama escapes it in HTML templates, except the output of
/// [`Tr::emphasis`], which escapes for itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tr {
    locale: Locale,
}

/// Stands in for an emphasised argument while its message is formatted and escaped (a
/// private-use character: no catalog text contains it and HTML escaping leaves it alone).
const EMPHASIS_MARK: &str = "\u{E000}";

impl Tr {
    /// The translator for `locale`.
    pub fn new(locale: Locale) -> Self {
        Self { locale }
    }

    /// Its language.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// Its language's tag, for `<html lang>`.
    pub fn lang(&self) -> &'static str {
        self.locale.tag()
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        message(self.locale, id, &[])
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: impl Display) -> String {
        message(self.locale, id, &[(name, &value.to_string())])
    }

    /// The message `id` with two arguments.
    pub fn t2(
        &self,
        id: &str,
        first: &str,
        first_value: impl Display,
        second: &str,
        second_value: impl Display,
    ) -> String {
        let (a, b) = (first_value.to_string(), second_value.to_string());
        message(self.locale, id, &[(first, &a), (second, &b)])
    }

    /// The message `id` as HTML, its one argument `name` in `<strong>`: both the message and the
    /// value are escaped here, so the template marks the result `|safe`.
    pub fn emphasis(&self, id: &str, name: &str, value: &str) -> String {
        let text = message(self.locale, id, &[(name, EMPHASIS_MARK)]);
        let strong = format!("<strong>{}</strong>", escape_html(value));
        escape_html(&text).replace(EMPHASIS_MARK, &strong)
    }
}

fn escape_html(text: &str) -> String {
    use askama::filters::Escaper as _;
    let mut escaped = String::with_capacity(text.len());
    // Writing to a String cannot fail.
    let _ = askama::filters::Html.write_escaped_str(&mut escaped, text);
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_templates::Loader as _;

    fn german() -> Locale {
        Locale::parse("de").unwrap()
    }

    #[test]
    fn every_supported_language_has_a_catalog_and_every_catalog_is_supported() {
        let mut loaded: Vec<String> = catalogs().locales().map(|l| l.to_string()).collect();
        loaded.sort();
        let mut supported: Vec<String> = SUPPORTED.iter().map(|s| s.to_string()).collect();
        supported.sort();
        assert_eq!(loaded, supported);
    }

    #[test]
    fn messages_come_in_the_language_asked_for_with_their_arguments() {
        assert_eq!(Tr::new(Locale::ENGLISH).t("login-title"), "Sign in");
        assert_eq!(Tr::new(german()).t("login-title"), "Anmelden");
        let heading = Tr::new(german()).t1("consent-heading", "client", "Praxis-App");
        assert!(heading.contains("Praxis-App"), "{heading}");
        assert!(
            !heading.contains('\u{2068}'),
            "no isolation marks: {heading:?}"
        );
    }

    #[test]
    fn a_missing_message_falls_back_to_english_and_is_reported() {
        let (text, problems) = checked(|| Tr::new(german()).t("no-such-message"));
        assert_eq!(text, "no-such-message");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (_, problems) = checked(|| Tr::new(german()).t("consent-heading"));
        assert_eq!(
            problems.len(),
            1,
            "a missing argument is a problem: {problems:?}"
        );
        let (_, problems) = checked(|| Tr::new(german()).t("login-title"));
        assert!(problems.is_empty());
        assert_eq!(optional(german(), "zone-XYZ"), None);
    }

    #[test]
    fn emphasis_escapes_the_message_and_the_value() {
        let html = Tr::new(Locale::ENGLISH).emphasis("login-continue", "client", "<b>&App");
        assert!(
            html.contains("<strong>&#60;b&#62;&#38;App</strong>"),
            "{html}"
        );
        assert!(!html.contains(EMPHASIS_MARK));
    }
}
