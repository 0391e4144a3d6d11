//! Server-rendered pages of the authorization server: login, consent, and messages (errors,
//! signed out), the ASAP unsubscribe page, and the API documentation's sign-in return page.
//! Templates live in `shared/templates/` and are compiled in by askama, which HTML-escapes every
//! value, so client names, hints and messages can never inject markup.
//!
//! Every page is written in one language ([`Tr`], chosen by [`crate::i18n::negotiate`]), names it
//! in `<html lang>`, and carries a [`LanguageSwitch`] to the others (except the sign-in return page,
//! which closes itself at once). The pages work without JavaScript (the return page aside: it is
//! Swagger UI's), load nothing from elsewhere (the CSP allows only inline styles), are usable on a
//! phone, and label every field for screen readers.

pub mod account;
pub mod console;
pub mod language;
pub mod mfa;
pub mod passkey;

use askama::Template;

pub use language::LanguageSwitch;

use crate::i18n::Tr;
use crate::scope::Scopes;

/// Message id of the one answer to a failed login, whether the email is unknown or the password
/// wrong, so the page never reveals which accounts exist.
pub const BAD_CREDENTIALS: &str = "login-bad-credentials";

/// Message id of the answer while an account or address is locked after too many failures. The
/// same for every account (existing or not) and for both kinds of lock.
pub const TOO_MANY_ATTEMPTS: &str = "login-too-many-attempts";
/// Login error: the password was right but the address is not verified yet.
pub const UNVERIFIED: &str = "login-unverified";

/// Message id of the answer to a login form with an empty field.
pub const MISSING_CREDENTIALS: &str = "login-missing-credentials";

/// The login form.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a POST to the login page with the same request and CSRF token).
    pub switch: LanguageSwitch,
    /// The app the patient signs in to.
    pub client_name: &'a str,
    /// Pre-filled email (login hint, or what was typed before a failed attempt).
    pub email: &'a str,
    /// Message id of a failed attempt, shown in an alert.
    pub error: Option<&'static str>,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed authorization request for the hidden field.
    pub request: &'a str,
    /// A sign-in to the account page (no app): the form returns there instead of carrying a
    /// request (see [`console::ACCOUNT_RETURN`]).
    pub account: bool,
    /// Whether patients may register (the page links to `/account/register`).
    pub register: bool,
    /// The password was right but the address is not verified: the page offers to send the
    /// verification link again.
    pub unverified: bool,
    /// Whether the portal offers passkeys (the page links to the passkey sign-in).
    pub passkeys: bool,
}

impl<'a> LoginPage<'a> {
    /// The login page of a sign-in to the account page, which no app started.
    pub fn for_account(tr: Tr, csrf_token: &'a str) -> Self {
        let (field, value) = console::ACCOUNT_RETURN;
        Self {
            tr,
            switch: LanguageSwitch::post("login", &[("csrf_token", csrf_token), (field, value)]),
            client_name: "",
            email: "",
            error: None,
            csrf_token,
            request: "",
            account: true,
            register: false,
            unverified: false,
            passkeys: false,
        }
    }

    /// The login page in `tr`'s language, with an empty email field and no error.
    pub fn new(tr: Tr, client_name: &'a str, csrf_token: &'a str, request: &'a str) -> Self {
        Self {
            tr,
            switch: LanguageSwitch::post(
                "login",
                &[("csrf_token", csrf_token), ("request", request)],
            ),
            client_name,
            email: "",
            error: None,
            csrf_token,
            request,
            account: false,
            register: false,
            unverified: false,
            passkeys: false,
        }
    }

    /// The same page linking to the passkey sign-in.
    pub fn with_passkeys(mut self, passkeys: bool) -> Self {
        self.passkeys = passkeys;
        self
    }

    /// The same page linking to the registration page.
    pub fn with_register(mut self, register: bool) -> Self {
        self.register = register;
        self
    }

    /// The same page saying the address is not verified yet, with the "send the link again"
    /// button.
    pub fn unverified(mut self) -> Self {
        self.error = Some(UNVERIFIED);
        self.unverified = true;
        self
    }

    /// The same page with `email` pre-filled.
    pub fn with_email(mut self, email: &'a str) -> Self {
        self.email = email;
        self
    }

    /// The same page with the alert of message `error`.
    pub fn with_error(mut self, error: &'static str) -> Self {
        self.error = Some(error);
        self
    }
}

/// The consent form.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a POST to the consent page with the same request and CSRF token).
    pub switch: LanguageSwitch,
    /// The app asking for access.
    pub client_name: &'a str,
    /// Message ids of the plain-words description of every requested scope.
    pub scopes: Vec<String>,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed authorization request for the hidden field.
    pub request: &'a str,
}

impl<'a> ConsentPage<'a> {
    /// The consent page for `scopes`, each described in plain words.
    pub fn new(
        tr: Tr,
        client_name: &'a str,
        scopes: &Scopes,
        csrf_token: &'a str,
        request: &'a str,
    ) -> Self {
        Self {
            tr,
            switch: LanguageSwitch::post(
                "consent",
                &[("csrf_token", csrf_token), ("request", request)],
            ),
            client_name,
            scopes: scopes.iter().map(|s| s.message_id()).collect(),
            csrf_token,
            request,
        }
    }
}

/// A page with a heading and one message (errors, signed out, unsubscribed).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// Heading (and title).
    pub heading: String,
    /// The message.
    pub message: String,
    /// Whether the message is an error (announced to screen readers as an alert).
    pub alert: bool,
}

impl MessagePage {
    /// The page of catalog message `id`: its `.title` attribute is the heading, its value (with
    /// `args`) the message.
    pub fn new(
        tr: Tr,
        switch: LanguageSwitch,
        id: &str,
        args: &[(&str, &str)],
        alert: bool,
    ) -> Self {
        Self {
            heading: tr.t(&format!("{id}.title")),
            message: crate::i18n::catalog::message(tr.locale(), id, args),
            alert,
            tr,
            switch,
        }
    }

    /// An error page of message `id` (see [`MessagePage::new`]).
    pub fn error(tr: Tr, switch: LanguageSwitch, id: &str) -> Self {
        Self::new(tr, switch, id, &[], true)
    }

    /// A page that tells what happened, not an error.
    pub fn notice(tr: Tr, switch: LanguageSwitch, id: &str) -> Self {
        Self::new(tr, switch, id, &[], false)
    }
}

/// The question a logout request that proves nothing (no `id_token_hint`, no session cookie) gets
/// instead of being acted on silently: a button that posts the same request back, confirmed, from
/// this origin (so the browser sends its session cookie along).
#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a POST showing this page again in another language).
    pub switch: LanguageSwitch,
    /// CSRF token for the hidden field.
    pub csrf_token: String,
    /// The request's own parameters (`post_logout_redirect_uri`, `client_id`, `state`,
    /// `ui_locales`), repeated as hidden fields.
    pub hidden: Vec<(String, String)>,
}

impl LogoutConfirmPage {
    /// The page for a request with parameters `hidden`.
    pub fn new(tr: Tr, csrf_token: &str, hidden: Vec<(String, String)>) -> Self {
        let mut pairs: Vec<(&str, &str)> = vec![("csrf_token", csrf_token)];
        pairs.extend(hidden.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        Self {
            tr,
            switch: LanguageSwitch::post("logout", &pairs),
            csrf_token: csrf_token.to_owned(),
            hidden,
        }
    }
}

/// The confirmation page of an ASAP unsubscribe link (a GET never unsubscribes: mail scanners
/// follow links; the button POSTs, as RFC 8058 one-click clients do).
#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub struct UnsubscribePage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// The appointment type.
    pub type_name: &'a str,
    /// When the appointment is, for people.
    pub current: &'a str,
    /// Where the form posts (the link itself).
    pub action: &'a str,
}

/// The page of an ASAP address confirmation link: which app asked which institution, and two
/// buttons (confirm, "this wasn't me") that POST to the link; a GET never acts (mail scanners
/// follow links).
#[derive(Template)]
#[template(path = "asap_confirm.html")]
pub struct ConfirmPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// The address to confirm.
    pub email: &'a str,
    /// Who asked for what (catalog message `confirm-explanation`).
    pub explanation: String,
    /// Where the form posts (the link itself).
    pub action: &'a str,
}

/// The page the API documentation's sign-in popup returns to (`GET /api-docs/oauth2-redirect`):
/// Swagger UI's script hands the code to the documentation page and closes the window, so the page
/// only says what is happening (no language switch: it is gone in an instant). Its one script is
/// `?file={script}` of the same route.
#[derive(Template)]
#[template(path = "docs_redirect.html")]
pub struct DocsRedirectPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The file name of Swagger UI's redirect script.
    pub script: &'a str,
}

/// Renders a page. Rendering only fails if writing to a `String` fails, which it does not; should it
/// ever, a fixed page in both languages is returned rather than a panic.
pub fn render(page: &impl Template) -> String {
    page.render().unwrap_or_else(|error| {
        tracing::error!(cause = %error, "page did not render");
        "<!doctype html><html lang=\"en\"><title>Error</title><p>Something went wrong. Please try again.</p><p lang=\"de\">Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.</p></html>"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog::checked;
    use crate::i18n::Locale;

    fn english() -> Tr {
        Tr::new(Locale::ENGLISH)
    }

    #[test]
    fn the_login_page_labels_its_fields_and_escapes_what_it_shows() {
        let html = render(
            &LoginPage::new(english(), "<script>alert(1)</script>", "tok", "sealed.req")
                .with_email("a\"onfocus=\"x@example.org")
                .with_error(BAD_CREDENTIALS),
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("\"onfocus=\""), "{html}");
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains(r#"<label for="email">"#));
        assert!(html.contains(r#"<label for="password">"#));
        assert!(html.contains(r#"type="email" id="email" name="email""#));
        assert!(html.contains(r#"type="password" id="password" name="password""#));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
        assert!(html.contains(r#"name="request" value="sealed.req""#));
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("The email or password is incorrect."));
        assert!(html.contains("name=\"viewport\""));
        assert!(!html.contains("<script"), "no scripts at all");
        // The inline favicon's SVG namespace is an identifier, not a fetch.
        assert!(
            !["href=\"http", "src=\"http", "url(http", "@import"]
                .iter()
                .any(|external| html.contains(external)),
            "no external assets"
        );
    }

    #[test]
    fn the_consent_page_lists_every_scope_and_both_decisions() {
        let scopes = Scopes::parse("openid email appointment_write").unwrap();
        let html = render(&ConsentPage::new(
            english(),
            "Demo & Co",
            &scopes,
            "tok",
            "req",
        ));
        for scope in scopes.iter() {
            assert!(html.contains(&scope.description()), "{}", scope.as_str());
        }
        assert!(
            html.contains("Demo &#38; Co") || html.contains("Demo &amp; Co"),
            "{html}"
        );
        assert!(html.contains(r#"name="decision" value="allow""#));
        assert!(html.contains(r#"name="decision" value="deny""#));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
    }

    #[test]
    fn a_message_page_has_a_heading_and_marks_errors_as_alerts() {
        let switch = || LanguageSwitch::get("logout", &[]);
        let html = render(&MessagePage::error(english(), switch(), "error-csrf"));
        assert!(
            html.contains("<h1>This form could not be accepted</h1>")
                && html.contains(r#"role="alert""#)
        );
        let html = render(&MessagePage::notice(english(), switch(), "signed-out"));
        assert!(html.contains("You are signed out") && !html.contains("role=\"alert\""));
    }

    #[test]
    fn the_logout_question_posts_the_request_back_confirmed_in_both_languages() {
        for (locale, submit) in [("en", "Sign out</button>"), ("de", "Abmelden</button>")] {
            let tr = Tr::new(Locale::parse(locale).unwrap());
            let hidden = vec![("state".to_owned(), "a\"b".to_owned())];
            let (html, problems) = checked(|| render(&LogoutConfirmPage::new(tr, "tok", hidden)));
            assert!(problems.is_empty(), "{problems:?}");
            let form = &html[html.find("<main").unwrap_or(0)..];
            assert!(
                form.contains(r#"<form method="post" action="logout">"#),
                "{html}"
            );
            assert!(form.contains(r#"name="confirm" value="yes""#));
            assert!(form.contains(r#"name="csrf_token" value="tok""#));
            assert!(!form.contains(r#"value="a"b""#), "escaped: {html}");
            assert!(form.contains(submit), "{html}");
        }
    }

    #[test]
    fn a_german_page_says_so_and_offers_english_with_the_same_hidden_state() {
        let german = Tr::new(Locale::parse("de").unwrap());
        let (html, problems) =
            checked(|| render(&LoginPage::new(german, "Praxis", "tok", "sealed")));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(html.contains(r#"<html lang="de">"#), "{html}");
        assert!(html.contains("<h1>Anmelden</h1>"), "{html}");
        let switch = &html[html.find("<nav").unwrap()..];
        assert!(
            switch.contains(r#"<form method="post" action="login">"#),
            "{switch}"
        );
        assert!(switch.contains(r#"name="request" value="sealed""#));
        assert!(switch.contains(r#"name="csrf_token" value="tok""#));
        assert!(
            switch.contains(r#"name="lang" value="en" lang="en">English</button>"#),
            "{switch}"
        );
    }
}
