//! Server-rendered pages of the authorization server: login, consent, and messages (errors,
//! signed out). Templates live in `shared/templates/` and are compiled in by askama, which
//! HTML-escapes every value, so client names, hints and messages can never inject markup.
//!
//! The pages work without JavaScript, load nothing from elsewhere (the CSP allows only inline
//! styles), are usable on a phone, and label every field for screen readers.

use askama::Template;

use crate::scope::Scopes;

/// The one answer to a failed login, whether the email is unknown or the password wrong, so the
/// page never reveals which accounts exist.
pub const BAD_CREDENTIALS: &str = "The email or password is incorrect.";

/// The answer while an account or address is locked after too many failures. The same for every
/// account (existing or not) and for both kinds of lock.
pub const TOO_MANY_ATTEMPTS: &str =
    "Too many unsuccessful sign-in attempts. Please wait 15 minutes and try again.";

/// The answer to a login form with an empty field.
pub const MISSING_CREDENTIALS: &str = "Enter your email address and password.";

/// The login form.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    /// The app the patient signs in to.
    pub client_name: &'a str,
    /// Pre-filled email (login hint, or what was typed before a failed attempt).
    pub email: &'a str,
    /// Message of a failed attempt, shown in an alert.
    pub error: Option<&'a str>,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed authorization request for the hidden field.
    pub request: &'a str,
}

/// The consent form.
#[derive(Template)]
#[template(path = "consent.html")]
pub struct ConsentPage<'a> {
    /// The app asking for access.
    pub client_name: &'a str,
    /// Plain-words description of every requested scope.
    pub scopes: Vec<&'static str>,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed authorization request for the hidden field.
    pub request: &'a str,
}

impl<'a> ConsentPage<'a> {
    /// The consent page for `scopes`, each described in plain words.
    pub fn new(
        client_name: &'a str,
        scopes: &Scopes,
        csrf_token: &'a str,
        request: &'a str,
    ) -> Self {
        Self {
            client_name,
            scopes: scopes.iter().map(|s| s.description()).collect(),
            csrf_token,
            request,
        }
    }
}

/// A page with a heading and one message (errors, signed out).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    /// Heading (and title).
    pub heading: &'a str,
    /// The message.
    pub message: &'a str,
    /// Whether the message is an error (announced to screen readers as an alert).
    pub alert: bool,
}

impl<'a> MessagePage<'a> {
    /// An error page.
    pub fn error(heading: &'a str, message: &'a str) -> Self {
        Self {
            heading,
            message,
            alert: true,
        }
    }

    /// The page after a logout that does not return to an app.
    pub fn signed_out() -> Self {
        Self {
            heading: "You are signed out",
            message: "You have been signed out of MyPatientPortal. You can close this window.",
            alert: false,
        }
    }
}

/// The confirmation page of an ASAP unsubscribe link (a GET never unsubscribes: mail scanners
/// follow links; the button POSTs, as RFC 8058 one-click clients do).
#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub struct UnsubscribePage<'a> {
    /// The appointment type.
    pub type_name: &'a str,
    /// When the appointment is, for people.
    pub current: &'a str,
    /// Where the form posts (the link itself).
    pub action: &'a str,
}

/// Renders a page. Rendering only fails if writing to a `String` fails, which it does not; should it
/// ever, a fixed page is returned rather than a panic.
pub fn render(page: &impl Template) -> String {
    page.render().unwrap_or_else(|error| {
        tracing::error!(cause = %error, "page did not render");
        "<!doctype html><html lang=\"en\"><title>Error</title><p>Something went wrong. Please try again.</p></html>"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_page_labels_its_fields_and_escapes_what_it_shows() {
        let html = render(&LoginPage {
            client_name: "<script>alert(1)</script>",
            email: "a\"onfocus=\"x@example.org",
            error: Some(BAD_CREDENTIALS),
            csrf_token: "tok",
            request: "sealed.req",
        });
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("\"onfocus=\""), "{html}");
        assert!(html.contains(r#"<label for="email">"#));
        assert!(html.contains(r#"<label for="password">"#));
        assert!(html.contains(r#"type="email" id="email" name="email""#));
        assert!(html.contains(r#"type="password" id="password" name="password""#));
        assert!(html.contains(r#"name="csrf_token" value="tok""#));
        assert!(html.contains(r#"name="request" value="sealed.req""#));
        assert!(html.contains(r#"role="alert""#));
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
        let html = render(&ConsentPage::new("Demo & Co", &scopes, "tok", "req"));
        for scope in scopes.iter() {
            assert!(html.contains(scope.description()), "{}", scope.as_str());
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
        let html = render(&MessagePage::error("Oops", "It broke."));
        assert!(html.contains("<h1>Oops</h1>") && html.contains(r#"role="alert""#));
        let html = render(&MessagePage::signed_out());
        assert!(html.contains("You are signed out") && !html.contains("role=\"alert\""));
    }
}
