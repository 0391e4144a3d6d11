//! The pages of registration, verification and password recovery (served by `authorize`). Like
//! the login page: no script, every field labelled, problems in `role=alert` and linked to their
//! field with `aria-describedby`, and every form carrying the CSRF token and the sealed sign-in
//! request the patient came from (empty when they came from nowhere).

use askama::Template;

use super::LanguageSwitch;
use crate::account::FieldError;
use crate::i18n::Tr;

/// What the registration form shows again after a refused attempt (never the password).
#[derive(Clone, Copy, Debug, Default)]
pub struct RegisterValues<'a> {
    /// `email`.
    pub email: &'a str,
    /// `given_name`.
    pub given_name: &'a str,
    /// `family_name`.
    pub family_name: &'a str,
    /// `birthdate`.
    pub birthdate: &'a str,
    /// `phone_number`.
    pub phone_number: &'a str,
}

/// `/account/register`.
#[derive(Template)]
#[template(path = "account_register.html")]
pub struct RegisterPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed sign-in request, or empty.
    pub request: &'a str,
    /// The fields as typed before.
    pub values: RegisterValues<'a>,
    /// The fields' problems.
    pub errors: Vec<FieldError>,
    /// A message about the whole form (too many attempts), shown as an alert.
    pub alert: Option<&'static str>,
    /// A reset link's token when the form replaces a never-verified account: the form posts to
    /// `/account/password/reset` with it, and the address is the link's (shown, not editable).
    pub token: Option<&'a str>,
}

impl RegisterPage<'_> {
    /// The catalog message of `field`'s problem, if it has one.
    pub fn error_of(&self, field: &str) -> Option<&'static str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }
}

/// A form with one email field: "forgot password" (`/account/password/forgot`) and "send the
/// verification link again" (`/account/verify/resend`).
#[derive(Template)]
#[template(path = "account_email_form.html")]
pub struct EmailFormPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// Catalog prefix of the page's words (`account-forgot`, `account-resend`): `-title`,
    /// `-intro`, `-submit`.
    pub words: &'static str,
    /// Where the form posts.
    pub action: &'a str,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The sealed sign-in request, or empty.
    pub request: &'a str,
    /// The address, as typed before.
    pub email: &'a str,
    /// A problem, shown as an alert.
    pub error: Option<&'static str>,
}

impl EmailFormPage<'_> {
    /// The page's word `part` (`title`, `intro`, `submit`).
    pub fn word(&self, part: &str) -> String {
        self.tr.t(&format!("{}-{part}", self.words))
    }
}

/// The page of a mailed verification link (GET): one button that POSTs the link.
#[derive(Template)]
#[template(path = "account_verify.html")]
pub struct VerifyPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// The address being verified.
    pub email: &'a str,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The link's token.
    pub token: &'a str,
}

/// The page of a mailed reset link: the new password and "sign out all apps".
#[derive(Template)]
#[template(path = "account_reset.html")]
pub struct ResetPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The link's token.
    pub token: &'a str,
    /// The password's problem, shown as an alert.
    pub error: Option<&'static str>,
}

/// A page that says what happened, with at most one way on (a link).
#[derive(Template)]
#[template(path = "account_notice.html")]
pub struct NoticePage {
    /// The page's language.
    pub tr: Tr,
    /// The language switch.
    pub switch: LanguageSwitch,
    /// Catalog message: `.title` is the heading, the value the text.
    pub id: &'static str,
    /// Whether it reports a problem (an alert).
    pub alert: bool,
    /// Where to go on, and the catalog message of the link's text.
    pub link: Option<(String, &'static str)>,
}

impl NoticePage {
    /// The heading: the message's `.title`.
    pub fn heading(&self) -> String {
        self.tr.t(&format!("{}.title", self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalog::checked;
    use crate::i18n::Locale;
    use crate::pages::render;

    fn both() -> [Tr; 2] {
        [
            Tr::new(Locale::ENGLISH),
            Tr::new(Locale::parse("de").unwrap()),
        ]
    }

    #[test]
    fn the_registration_form_labels_every_field_and_ties_errors_to_them() {
        for tr in both() {
            let page = RegisterPage {
                tr,
                switch: LanguageSwitch::get("/account/register", &[]),
                csrf_token: "tok",
                request: "sealed",
                values: RegisterValues {
                    email: "a\"b@example.org",
                    ..RegisterValues::default()
                },
                errors: vec![FieldError {
                    field: "password",
                    message: "account-error-password-length",
                }],
                alert: None,
                token: None,
            };
            let (html, problems) = checked(|| render(&page));
            assert!(problems.is_empty(), "{problems:?}");
            for field in [
                "email",
                "password",
                "given_name",
                "family_name",
                "birthdate",
                "phone_number",
            ] {
                assert!(
                    html.contains(&format!("<label for=\"{field}\"")),
                    "{field}: {html}"
                );
                assert!(
                    html.contains(&format!("id=\"{field}\" name=\"{field}\"")),
                    "{field}"
                );
            }
            assert!(
                html.contains("role=\"alert\" id=\"password-error\""),
                "{html}"
            );
            assert!(
                html.contains("aria-describedby=\"password-rules password-error\""),
                "{html}"
            );
            assert!(html.contains(r#"name="request" value="sealed""#));
            assert!(!html.contains("value=\"a\"b"), "escaped");
            assert!(!html.contains("<script"));
        }
    }

    #[test]
    fn the_link_pages_post_their_token_and_the_notice_links_on() {
        for tr in both() {
            let switch = || LanguageSwitch::get("/account/verify", &[]);
            let (html, problems) = checked(|| {
                render(&VerifyPage {
                    tr,
                    switch: switch(),
                    email: "anna@example.org",
                    csrf_token: "tok",
                    token: "t.1",
                })
            });
            assert!(problems.is_empty(), "{problems:?}");
            assert!(
                html.contains(r#"<form method="post" action="/account/verify">"#),
                "{html}"
            );
            assert!(html.contains(r#"name="token" value="t.1""#));
            let (html, problems) = checked(|| {
                render(&ResetPage {
                    tr,
                    switch: switch(),
                    csrf_token: "tok",
                    token: "t.2",
                    error: Some("account-error-password-common"),
                })
            });
            assert!(problems.is_empty(), "{problems:?}");
            assert!(html.contains(r#"<label for="password">"#));
            assert!(html.contains(r#"type="checkbox" id="sign_out_apps" name="sign_out_apps""#));
            assert!(html.contains("role=\"alert\""));
            let (html, problems) = checked(|| {
                render(&NoticePage {
                    tr,
                    switch: switch(),
                    id: "account-link-invalid",
                    alert: true,
                    link: Some(("/account/password/forgot".into(), "account-forgot-title")),
                })
            });
            assert!(problems.is_empty(), "{problems:?}");
            assert!(
                html.contains(r#"href="/account/password/forgot">"#),
                "{html}"
            );
            for words in ["account-forgot", "account-resend"] {
                let (html, problems) = checked(|| {
                    render(&EmailFormPage {
                        tr,
                        switch: switch(),
                        words,
                        action: "/account/password/forgot",
                        csrf_token: "tok",
                        request: "",
                        email: "",
                        error: Some("account-error-email"),
                    })
                });
                assert!(problems.is_empty(), "{words}: {problems:?}");
                assert!(html.contains(r#"<label for="email">"#));
            }
        }
    }
}
