//! CSRF protection of the login and consent forms: the double-submit pattern.
//!
//! A random token is set in a cookie and repeated in a hidden form field; a POST is accepted only if
//! both are present and equal. A cross-site page can make the browser send the cookie, but cannot read
//! it (HttpOnly, and cookies are not readable cross-origin anyway) to put it in the form. Deployed,
//! the cookie has the `__Host-` prefix, which forbids a sibling subdomain from planting its own value
//! (the classic weakness of double-submit). `SameSite=Lax` adds a second line on modern browsers.
//!
//! This module also builds the `Set-Cookie` values of the authorization server's cookies, so the
//! attribute rules live in one place.

use crate::crypto;

/// Name of the hidden form field carrying the token.
pub const FIELD: &str = "csrf_token";

/// Cookie name over https (deployed): the `__Host-` prefix pins it to this host, path `/`, Secure.
pub const SECURE_COOKIE: &str = "__Host-portal_csrf";

/// Cookie name over plain http (loopback development), where `__Host-` cookies are refused.
pub const DEV_COOKIE: &str = "portal_csrf";

/// Random bytes in a token (256 bits, base64url: 43 characters).
const TOKEN_BYTES: usize = 32;

/// The CSRF cookie's name for an issuer served over https (`secure`) or plain http.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE
    } else {
        DEV_COOKIE
    }
}

/// A fresh token.
pub fn new_token() -> String {
    crypto::random_token(TOKEN_BYTES)
}

/// Whether `text` has the shape of a token we issue (so a planted cookie of any other shape is
/// replaced rather than echoed into the page).
pub fn is_well_formed(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The token to put in a form: the browser's current cookie if it is one of ours (so several tabs
/// keep working), else a new one. The second value tells whether the cookie must be (re)set.
pub fn token_for_form(cookie: Option<&str>) -> (String, bool) {
    match cookie {
        Some(token) if is_well_formed(token) => (token.to_owned(), false),
        _ => (new_token(), true),
    }
}

/// Whether a submitted form passes: cookie and field both present, well formed and equal (compared
/// in constant time, so response timing does not reveal how much of a guess was right).
pub fn verify(cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(cookie), Some(field)) => {
            is_well_formed(cookie) && crypto::constant_time_eq(cookie.as_bytes(), field.as_bytes())
        }
        _ => false,
    }
}

/// `Set-Cookie` value of the CSRF cookie (a browser-session cookie: it only has to outlive one
/// sign-in).
pub fn set_cookie(token: &str, secure: bool) -> String {
    cookie_header(cookie_name(secure), token, None, secure)
}

/// A `Set-Cookie` value with the attributes every cookie of the authorization server gets:
/// `Path=/; HttpOnly; SameSite=Lax`, plus `Secure` over https. `max_age` of `Some(0)` deletes it.
///
/// `Lax` rather than `Strict`: the patient arrives from the client's site by a top-level navigation,
/// and a `Strict` session cookie would not be sent then, so a signed-in patient would look signed out.
pub fn cookie_header(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut header = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        header.push_str("; Secure");
    }
    if let Some(seconds) = max_age {
        header.push_str(&format!("; Max-Age={seconds}"));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_passes_only_with_the_same_token_in_cookie_and_field() {
        let token = new_token();
        assert!(is_well_formed(&token));
        assert!(verify(Some(&token), Some(&token)));
        assert!(!verify(Some(&token), Some(&new_token())));
        assert!(!verify(None, Some(&token)));
        assert!(!verify(Some(&token), None));
        assert!(!verify(Some(""), Some("")));
        assert!(!verify(Some("short"), Some("short")));
    }

    #[test]
    fn an_existing_token_is_reused_and_a_foreign_one_replaced() {
        let token = new_token();
        assert_eq!(token_for_form(Some(&token)), (token.clone(), false));
        let (fresh, set) = token_for_form(Some("<script>"));
        assert!(set && is_well_formed(&fresh));
        assert!(token_for_form(None).1);
    }

    #[test]
    fn cookies_are_host_only_http_only_and_lax_and_secure_over_https() {
        assert_eq!(
            set_cookie("t", true),
            "__Host-portal_csrf=t; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert_eq!(
            set_cookie("t", false),
            "portal_csrf=t; Path=/; HttpOnly; SameSite=Lax"
        );
        assert!(cookie_header("a", "", Some(0), false).ends_with("; Max-Age=0"));
    }
}
