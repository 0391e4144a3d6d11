//! The account page (`/account`): the signed-in patient's profile, password, language, two-factor
//! methods, connected apps, recent access by apps, "sign out everywhere" and account deletion.
//! Every section is its own form posting to its own `/account/…` route with the CSRF token; a
//! refused form comes back with its alert beside the field, and a done one as a notice
//! (`role=status`) at the top. Works without JavaScript, keyboard only, on 375 px screens.

use askama::Template;
use chrono_tz::Tz;

use super::LanguageSwitch;
use crate::account::apps::ConnectedApp;
use crate::account::overview::Overview;
use crate::account::Rejected;
use crate::i18n::{datetime, Locale, Tr};

/// The hidden field and value of a login form that returns to the account page: a fixed value,
/// never a URL, so the login page cannot be made to send anyone elsewhere.
pub const ACCOUNT_RETURN: (&str, &str) = ("return", "account");

/// Path the page's forms post their language to (the switch and the language section).
pub const LANGUAGE_ACTION: &str = "/account/language";

/// What the page's notice reports (`/account?done=…` after a form was acted on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    /// The profile was saved.
    Profile,
    /// The password was changed.
    Password,
    /// The language was stored.
    Language,
    /// An app's access was removed.
    AppRemoved,
    /// The link confirming a new address was sent.
    EmailSent,
}

impl Done {
    /// Every notice.
    pub const ALL: [Done; 4] = [
        Done::Profile,
        Done::Password,
        Done::Language,
        Done::AppRemoved,
    ];

    /// Its name in `?done=`.
    pub fn name(self) -> &'static str {
        match self {
            Done::Profile => "profile",
            Done::Password => "password",
            Done::Language => "language",
            Done::AppRemoved => "app-removed",
            Done::EmailSent => "email-sent",
        }
    }

    /// The notice named `name`; anything else shows none (nothing from the URL is ever shown).
    pub fn parse(name: &str) -> Option<Done> {
        Done::ALL.into_iter().find(|done| done.name() == name)
    }

    fn message_id(self) -> String {
        format!("console-done-{}", self.name())
    }
}

/// The profile form's values: the stored ones, or what the patient typed into a refused form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileValues {
    /// `given_name`.
    pub given_name: String,
    /// `family_name`.
    pub family_name: String,
    /// `birthdate`, `YYYY-MM-DD`.
    pub birthdate: String,
    /// `phone_number`.
    pub phone_number: String,
}

/// One connected app as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppView {
    /// The client id (the hidden field of its "remove access" form).
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// What it may do, in plain words.
    pub scopes: Vec<String>,
    /// When it was allowed, for people (or "unknown").
    pub granted: String,
    /// When it last refreshed its access, for people (or "not yet").
    pub last_used: String,
}

/// One access record as the page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessView {
    /// When, for people.
    pub at: String,
    /// The app's name.
    pub app: String,
    /// The route (`GET /api/portal/v1/appointments/{id}`).
    pub route: String,
    /// Answered, or refused and how (`4xx not_found`), for people.
    pub outcome: String,
}

/// The account page.
#[derive(Template)]
#[template(path = "console.html")]
pub struct ConsolePage {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (a POST storing the patient's choice).
    pub switch: LanguageSwitch,
    /// CSRF token for every form.
    pub csrf_token: String,
    /// The account's address.
    pub email: String,
    /// The profile form's values.
    pub profile: ProfileValues,
    /// Connected apps.
    pub apps: Vec<AppView>,
    /// Recent access by apps, newest first.
    pub access: Vec<AccessView>,
    /// A refused form's field and message.
    pub error: Option<Rejected>,
    /// A done form's notice.
    pub done: Option<Done>,
    /// The languages to choose from, as (tag, name, chosen).
    pub languages: Vec<(&'static str, String, bool)>,
    /// The authenticator app, when set up: recovery codes left.
    pub totp_recovery_left: Option<usize>,
    /// How many passkeys the patient has.
    pub passkeys: usize,
}

impl ConsolePage {
    /// The page of `overview` in `tr`'s language, its dates and times in `tz` (the portal's
    /// configured zone, `PORTAL_TIME_ZONE`), each with the zone named.
    pub fn new(tr: Tr, csrf_token: &str, overview: &Overview, tz: Tz) -> Self {
        let locale = tr.locale();
        let when = |at: Option<i64>, none: &str| match at {
            Some(at) => datetime::long(locale, tz, at),
            None => tr.t(none),
        };
        let patient = &overview.patient;
        Self {
            tr,
            switch: LanguageSwitch::post(LANGUAGE_ACTION, &[("csrf_token", csrf_token)]),
            csrf_token: csrf_token.to_owned(),
            email: patient.email.as_str().to_owned(),
            profile: ProfileValues {
                given_name: patient.first_name.as_str().to_owned(),
                family_name: patient.last_name.as_str().to_owned(),
                birthdate: patient.birth_date.to_string(),
                phone_number: patient
                    .phone
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            },
            apps: overview
                .apps
                .iter()
                .map(|app: &ConnectedApp| AppView {
                    client_id: app.client_id.to_string(),
                    name: app.name.clone(),
                    scopes: app.scopes.iter().map(|s| tr.t(&s.message_id())).collect(),
                    granted: when(app.granted_at, "console-apps-unknown"),
                    last_used: when(app.last_used_at, "console-apps-never"),
                })
                .collect(),
            access: overview
                .recent_access
                .iter()
                .map(|(record, app)| AccessView {
                    at: datetime::long(locale, tz, record.at_ms.div_euclid(1000)),
                    app: app.clone(),
                    route: record.route.clone(),
                    outcome: if record.error.is_none() && record.status_class == "2xx" {
                        tr.t("console-access-answered")
                    } else {
                        tr.t1("console-access-refused", "outcome", record.outcome())
                    },
                })
                .collect(),
            error: None,
            done: None,
            totp_recovery_left: overview.totp_recovery_left,
            passkeys: overview.passkeys,
            languages: Locale::all()
                .map(|choice| {
                    let name = Tr::new(choice).t("language-name");
                    (choice.tag(), name, choice == locale)
                })
                .collect(),
        }
    }

    /// The same page with a refused form's alert (and, for the profile, what was typed).
    pub fn with_error(mut self, error: Rejected, typed: Option<ProfileValues>) -> Self {
        self.error = Some(error);
        if let Some(typed) = typed {
            self.profile = typed;
        }
        self
    }

    /// The same page with the notice of `done`.
    pub fn with_done(mut self, done: Option<Done>) -> Self {
        self.done = done;
        self
    }

    /// The alert for `field`, if the refused form was about it.
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.error
            .filter(|error| error.field == field)
            .map(|error| self.tr.t(error.message))
    }

    /// The notice's text.
    pub fn notice(&self) -> Option<String> {
        self.done.map(|done| self.tr.t(&done.message_id()))
    }
}

/// The page of an email-change link: which address would become the account's, and a button that
/// POSTs the link (a GET never changes anything: mail scanners follow links).
#[derive(Template)]
#[template(path = "console_email_confirm.html")]
pub struct EmailConfirmPage<'a> {
    /// The page's language.
    pub tr: Tr,
    /// The language switch (the link's GET again).
    pub switch: LanguageSwitch,
    /// The new address.
    pub email: &'a str,
    /// CSRF token for the hidden field.
    pub csrf_token: &'a str,
    /// The link's token, posted back.
    pub token: &'a str,
}
