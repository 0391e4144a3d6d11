//! The language switch every page carries: one button per other language, each submitting a form
//! that shows the same page again in that language, with the same hidden flow state (the sealed
//! sign-in request, the CSRF token, the unsubscribe token). Buttons in a form work without
//! JavaScript and with the keyboard alone.
//!
//! Pages with a form of their own (login, consent) switch with a POST that carries their CSRF
//! token, so the choice can also be stored on a signed-in patient's account; the other pages
//! repeat their own request (GET or POST) with `lang` added.
//!
//! [`choose`] reads what a request says about its language (the switch, the language cookie,
//! `Accept-Language`) and leaves the decision to [`crate::i18n::negotiate`]; [`remember`] is the
//! cookie that keeps a switched language for the next pages and visits.

use http::header::ACCEPT_LANGUAGE;
use lambda_http::Request;

use crate::http::request::cookie;
use crate::i18n::catalog::message;
use crate::i18n::negotiate::{Preferences, SWITCH_FIELD};
use crate::i18n::{Locale, Tr};
use crate::oauth::csrf::cookie_header;

/// Language cookie name over https: `__Host-` pins it to this host, path `/` and Secure.
pub const SECURE_COOKIE: &str = "__Host-portal_lang";

/// Language cookie name over plain http (loopback development), where `__Host-` cookies are
/// refused.
pub const DEV_COOKIE: &str = "portal_lang";

/// How long a switched language is remembered: a year (it is a preference, not a credential).
pub const COOKIE_MAX_AGE_SECS: i64 = 365 * 24 * 60 * 60;

/// The language of one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLanguage {
    /// The page's translator.
    pub tr: Tr,
    /// The language the switch just chose, which the response must remember.
    pub switched: Option<Locale>,
}

/// The language of the page answering `request`: `switch` is the request's `lang` parameter (the
/// language switch), `ui_locale` the sign-in's `ui_locales` choice, `stored` a language the
/// patient chose earlier that the request carries some other way (an email link), used when
/// there is no language cookie. Order as [`Preferences::choose`].
pub fn choose(
    request: &Request,
    switch: Option<&str>,
    ui_locale: Option<Locale>,
    stored: Option<Locale>,
    secure: bool,
) -> PageLanguage {
    let switched = switch.and_then(Locale::parse);
    let preferences = Preferences {
        switched,
        ui_locales: ui_locale,
        remembered: cookie(request, cookie_name(secure))
            .and_then(Locale::parse)
            .or(stored),
        accept_language: request
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    };
    PageLanguage {
        tr: Tr::new(preferences.choose()),
        switched,
    }
}

/// The language cookie's name for an issuer served over https (`secure`) or plain http.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        DEV_COOKIE
    }
}

/// `Set-Cookie` value that remembers `locale` as the patient's choice.
pub fn remember(locale: Locale, secure: bool) -> String {
    cookie_header(
        cookie_name(secure),
        locale.tag(),
        Some(COOKIE_MAX_AGE_SECS),
        secure,
    )
}

/// How a page offers the other languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageSwitch {
    post: bool,
    action: String,
    hidden: Vec<(String, String)>,
}

/// One language the switch offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageChoice {
    /// Its tag (the button's value and `lang` attribute).
    pub tag: &'static str,
    /// Its name in itself ("Deutsch", "English").
    pub name: String,
}

impl LanguageSwitch {
    /// A switch that POSTs `hidden` and `lang` to `action`.
    pub fn post(action: impl Into<String>, hidden: &[(&str, &str)]) -> Self {
        Self::new(true, action.into(), hidden)
    }

    /// A switch that GETs `action` with `hidden` and `lang` as its query.
    pub fn get(action: impl Into<String>, hidden: &[(&str, &str)]) -> Self {
        Self::new(false, action.into(), hidden)
    }

    fn new(post: bool, action: String, hidden: &[(&str, &str)]) -> Self {
        Self {
            post,
            action,
            hidden: hidden
                .iter()
                .filter(|(name, _)| *name != SWITCH_FIELD)
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        }
    }

    /// The form's method.
    pub fn method(&self) -> &'static str {
        if self.post {
            "post"
        } else {
            "get"
        }
    }

    /// Where the form goes.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The hidden fields that keep the page's state.
    pub fn hidden(&self) -> &[(String, String)] {
        &self.hidden
    }

    /// The languages other than `current`, each named in itself.
    pub fn choices(&self, current: Locale) -> Vec<LanguageChoice> {
        Locale::all()
            .filter(|locale| *locale != current)
            .map(|locale| LanguageChoice {
                tag: locale.tag(),
                name: message(locale, "language-name", &[]),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_offers_every_other_language_by_its_own_name() {
        let switch = LanguageSwitch::get("authorize", &[("client_id", "c"), ("lang", "de")]);
        assert_eq!(switch.method(), "get");
        assert_eq!(switch.hidden(), &[("client_id".into(), "c".into())]);
        let choices = switch.choices(Locale::ENGLISH);
        assert_eq!(
            choices,
            vec![LanguageChoice {
                tag: "de",
                name: "Deutsch".into()
            }]
        );
        let german = Locale::parse("de").unwrap();
        assert_eq!(switch.choices(german)[0].name, "English");
        assert_eq!(LanguageSwitch::post("login", &[]).method(), "post");
    }

    #[test]
    fn the_cookie_is_a_long_lived_host_only_preference() {
        let german = Locale::parse("de").unwrap();
        assert_eq!(
            remember(german, true),
            "__Host-portal_lang=de; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=31536000"
        );
        assert!(remember(german, false).starts_with("portal_lang=de;"));
    }
}
