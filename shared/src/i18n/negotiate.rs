//! Which language a page is shown in. No HTTP here: the functions read the parameters, cookie and
//! header and pass their text in.
//!
//! Order (OIDC Core §3.1.2.1 for `ui_locales`, RFC 9110 §12.5.4 for `Accept-Language`):
//! 1. the language switch the patient just used on this page (it also becomes the sign-in flow's
//!    language, so the next pages follow it);
//! 2. the authorization request's `ui_locales`: the first supported tag wins, `de-AT` is German;
//! 3. the patient's remembered choice (the language cookie, which the switch sets);
//! 4. the browser's `Accept-Language`: highest q-value first, in header order among equals,
//!    `q=0` excluded;
//! 5. English.

use super::Locale;

/// Name of the form field (or query parameter) of a page's language switch.
pub const SWITCH_FIELD: &str = "lang";

/// Most language tags read from one `ui_locales` value or `Accept-Language` header: real ones
/// name a handful, and the rest of a hostile one is ignored.
pub const MAX_TAGS: usize = 32;

/// What a page's language is chosen from, highest priority first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Preferences<'a> {
    /// The language switch the patient just used (`lang`).
    pub switched: Option<Locale>,
    /// The request's `ui_locales`, reduced with [`from_ui_locales`].
    pub ui_locales: Option<Locale>,
    /// The patient's remembered choice (the language cookie).
    pub remembered: Option<Locale>,
    /// The `Accept-Language` header as sent.
    pub accept_language: Option<&'a str>,
}

impl Preferences<'_> {
    /// The page's language.
    pub fn choose(&self) -> Locale {
        self.switched
            .or(self.ui_locales)
            .or(self.remembered)
            .or_else(|| self.accept_language.and_then(from_accept_language))
            .unwrap_or_default()
    }
}

/// The first supported language of a space-separated `ui_locales` value (OIDC Core §3.1.2.1), or
/// `None` when it names none.
pub fn from_ui_locales(text: &str) -> Option<Locale> {
    text.split_ascii_whitespace()
        .take(MAX_TAGS)
        .find_map(Locale::parse)
}

/// The supported language an `Accept-Language` header (RFC 9110 §12.5.4) prefers: the highest
/// q-value wins, the earlier entry among equals. `q=0` means "not this one": such an entry is
/// skipped, and a bare language (`de;q=0`, no region) rules that language out entirely. Entries
/// with a malformed weight are ignored; `*` adds nothing (English is the default anyway).
pub fn from_accept_language(header: &str) -> Option<Locale> {
    let mut refused = Vec::new();
    let mut best: Option<(u16, Locale)> = None;
    for entry in header.split(',').take(MAX_TAGS) {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let Some(weight) = weight(parts) else {
            continue;
        };
        let Some(locale) = Locale::parse(tag) else {
            continue;
        };
        if weight == 0 {
            if !tag.contains(['-', '_']) {
                refused.push(locale);
            }
            continue;
        }
        if best.is_none_or(|(best_weight, _)| weight > best_weight) {
            best = Some((weight, locale));
        }
    }
    match best {
        Some((_, locale)) if !refused.contains(&locale) => Some(locale),
        // The best was ruled out by a bare `q=0`: look again without it.
        Some(_) => from_accept_language(&without(header, &refused)),
        None => None,
    }
}

/// The header without the entries whose language is in `refused`.
fn without(header: &str, refused: &[Locale]) -> String {
    header
        .split(',')
        .take(MAX_TAGS)
        .filter(|entry| {
            let tag = entry.split(';').next().unwrap_or_default().trim();
            Locale::parse(tag).is_none_or(|locale| !refused.contains(&locale))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The entry's weight in thousandths (1000 without a `q` parameter), or `None` when its `q` is
/// not a qvalue: `0` to `1` with at most three decimals.
fn weight<'a>(parameters: impl Iterator<Item = &'a str>) -> Option<u16> {
    let mut weight = 1000;
    for parameter in parameters {
        let Some((name, value)) = parameter.trim().split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            weight = qvalue(value.trim())?;
        }
    }
    Some(weight)
}

fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match whole {
        "1" if fraction.bytes().all(|b| b == b'0') => Some(1000),
        "0" => {
            let digits = format!("{fraction:0<3}");
            digits.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Locale {
        Locale::parse("de").unwrap()
    }

    const EN: Locale = Locale::ENGLISH;

    #[test]
    fn the_first_supported_ui_locale_wins_and_regions_fall_back_to_their_language() {
        assert_eq!(from_ui_locales("de"), Some(de()));
        assert_eq!(from_ui_locales("fr-CA de-AT en"), Some(de()));
        assert_eq!(from_ui_locales("en-US de"), Some(EN));
        assert_eq!(from_ui_locales("fr es"), None);
        assert_eq!(from_ui_locales(""), None);
        assert_eq!(from_ui_locales("  de-CH  "), Some(de()));
    }

    #[test]
    fn accept_language_honours_q_values_and_header_order_among_equals() {
        assert_eq!(from_accept_language("de-DE,de;q=0.9,en;q=0.8"), Some(de()));
        assert_eq!(from_accept_language("en;q=0.5, de;q=0.8"), Some(de()));
        assert_eq!(from_accept_language("fr, de;q=0.1, en;q=0.1"), Some(de()));
        assert_eq!(from_accept_language("fr, en;q=0.1, de;q=0.1"), Some(EN));
        assert_eq!(from_accept_language("de;Q=1.000"), Some(de()));
        assert_eq!(from_accept_language("fr-FR, fr;q=0.9"), None);
        assert_eq!(from_accept_language("*"), None);
        assert_eq!(from_accept_language(""), None);
    }

    #[test]
    fn accept_language_excludes_q_zero_and_ignores_malformed_weights() {
        assert_eq!(from_accept_language("de;q=0, en;q=0.1"), Some(EN));
        assert_eq!(from_accept_language("de;q=0"), None);
        assert_eq!(from_accept_language("de-AT, de;q=0, en;q=0.5"), Some(EN));
        assert_eq!(
            from_accept_language("de-AT;q=0, de;q=0.4, en;q=0.3"),
            Some(de())
        );
        for bad in [
            "de;q=2",
            "de;q=1.5",
            "de;q=0.1234",
            "de;q=abc",
            "de;q=-1",
            "de;q=",
        ] {
            assert_eq!(
                from_accept_language(&format!("{bad}, en;q=0.01")),
                Some(EN),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_choice_order_is_switch_then_ui_locales_then_cookie_then_header_then_english() {
        let all = Preferences {
            switched: Some(EN),
            ui_locales: Some(de()),
            remembered: Some(de()),
            accept_language: Some("de"),
        };
        assert_eq!(all.choose(), EN);
        let ui = Preferences {
            switched: None,
            remembered: Some(EN),
            ..all
        };
        assert_eq!(ui.choose(), de());
        let cookie = Preferences {
            ui_locales: None,
            ..ui
        };
        assert_eq!(cookie.choose(), EN);
        let header = Preferences {
            remembered: None,
            ..cookie
        };
        assert_eq!(header.choose(), de());
        assert_eq!(Preferences::default().choose(), EN);
        let unsupported = Preferences {
            accept_language: Some("fr, es;q=0.5"),
            ..Preferences::default()
        };
        assert_eq!(unsupported.choose(), EN);
    }

    #[test]
    fn a_hostile_header_is_read_only_so_far() {
        let header = format!("{}de", "xx;q=0.5,".repeat(10_000));
        assert_eq!(from_accept_language(&header), None);
        assert_eq!(
            from_ui_locales(&format!("{}de", "xx ".repeat(10_000))),
            None
        );
    }
}
