//! The language of the sign-in pages: `ui_locales` beats the patient's choice (the language
//! cookie), which beats `Accept-Language` (q-values honoured, `q=0` excluded), which beats English;
//! the language switch keeps the flow, is remembered, and is stored on a signed-in patient's
//! account; OAuth error descriptions stay English whatever the page language.

use shared::i18n::catalog::message;
use shared::i18n::Locale;
use shared::repo::PatientRepo;

use super::*;

fn de() -> Locale {
    Locale::parse("de").unwrap()
}

impl Reply {
    /// The `lang` of the page's `<html>` element.
    fn lang(&self) -> &str {
        let start = self
            .body
            .find("<html lang=\"")
            .unwrap_or_else(|| panic!("no <html lang> ({}): {}", self.status, self.body))
            + 12;
        let end = self.body[start..].find('"').unwrap() + start;
        &self.body[start..end]
    }

    /// Asserts the page is in `locale`: `<html lang>` and the text of message `id`.
    fn assert_in(&self, locale: Locale, id: &str) {
        assert_eq!(self.lang(), locale.tag(), "{}", self.body);
        let text = message(locale, id, &[]);
        assert!(self.body.contains(&text), "{text:?} not in {}", self.body);
    }
}

/// Signs in on a login page and opens the consent page it leads to.
async fn consent_after(browser: &mut Browser<'_>, login: &Reply) -> Reply {
    let to_consent = browser.submit_login(login, PASSWORD).await;
    browser.consent_page(&to_consent).await
}

/// The language of the login page for these preferences.
async fn login_language(
    world: &World,
    ui_locales: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&'static str>,
) -> String {
    let mut browser = Browser::new(world);
    if let Some(header) = accept_language {
        browser = browser.accepting(header);
    }
    if let Some(cookie) = cookie {
        browser = browser.with_cookie("portal_lang", cookie);
    }
    let extra: Vec<(&str, &str)> = ui_locales.map(|v| ("ui_locales", v)).into_iter().collect();
    let page = browser
        .login_page(&authorize_path(&world.client, &extra))
        .await;
    page.lang().to_owned()
}

#[tokio::test]
async fn ui_locales_beats_the_cookie_which_beats_accept_language_which_beats_english() {
    let w = world().await;
    let lang = |ui, cookie, header| login_language(&w, ui, cookie, header);
    assert_eq!(lang(Some("de"), Some("en"), Some("en")).await, "de");
    assert_eq!(lang(Some("en"), Some("de"), Some("de")).await, "en");
    assert_eq!(lang(None, Some("de"), Some("en")).await, "de");
    assert_eq!(lang(None, Some("en"), Some("de")).await, "en");
    assert_eq!(lang(None, None, Some("de-DE,de;q=0.9")).await, "de");
    assert_eq!(lang(None, None, None).await, "en");
    // Unsupported or unusable values fall through to the next source.
    assert_eq!(lang(Some("fr it"), Some("de"), Some("en")).await, "de");
    assert_eq!(lang(Some("fr"), Some("xx"), Some("de")).await, "de");
    assert_eq!(lang(Some("fr-CA de-AT"), None, None).await, "de");
    assert_eq!(lang(None, None, Some("fr, es;q=0.8")).await, "en");
}

#[tokio::test]
async fn accept_language_honours_q_values_and_excludes_q_zero() {
    let w = world().await;
    let lang = |header| login_language(&w, None, None, Some(header));
    assert_eq!(lang("en;q=0.5, de;q=0.9").await, "de");
    assert_eq!(lang("de;q=0.5, en;q=0.9").await, "en");
    assert_eq!(lang("fr, de;q=0.3, en;q=0.2").await, "de");
    assert_eq!(lang("de;q=0, en;q=0.1").await, "en");
    assert_eq!(lang("de;q=0").await, "en");
}

#[tokio::test]
async fn the_whole_sign_in_stays_in_the_ui_locales_language_and_error_descriptions_stay_english() {
    let w = world().await;
    let mut browser = Browser::new(&w).accepting("en-US,en;q=0.9");
    let login = browser
        .login_page(&authorize_path(&w.client, &[("ui_locales", "de-AT en")]))
        .await;
    login.assert_in(de(), "login-email");
    let consent = consent_after(&mut browser, &login).await;
    consent.assert_in(de(), "consent-allow");
    assert!(consent.body.contains(&message(de(), "scope-profile", &[])));
    // A wrong password answers in German too.
    let login = browser
        .login_page(&authorize_path(
            &w.client,
            &[("ui_locales", "de"), ("prompt", "login")],
        ))
        .await;
    let wrong = browser
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("email", EMAIL),
                ("password", "falsch"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    wrong.assert_in(de(), "login-bad-credentials");

    // What goes back to the app is for its developers: English.
    let mut fresh = Browser::new(&w).accepting("de");
    let reply = fresh
        .get(&authorize_path(
            &w.client,
            &[("ui_locales", "de"), ("prompt", "none")],
        ))
        .await;
    let params: BTreeMap<String, String> = reply.location().query_pairs().into_owned().collect();
    assert_eq!(params["error"], "login_required");
    assert_eq!(params["error_description"], "the patient must sign in");
}

#[tokio::test]
async fn the_login_switch_keeps_the_flow_beats_ui_locales_and_is_remembered() {
    let w = world().await;
    let mut browser = Browser::new(&w).accepting("en");
    let login = browser
        .login_page(&authorize_path(&w.client, &[("ui_locales", "en")]))
        .await;
    login.assert_in(Locale::ENGLISH, "login-email");
    // The switch is a form with the page's state and a `lang` button per other language.
    assert!(login
        .body
        .contains(r#"<button type="submit" name="lang" value="de" lang="de">Deutsch</button>"#));
    let switched = browser
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("lang", "de"),
            ],
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    switched.assert_in(de(), "login-email");
    assert!(
        switched
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("portal_lang=de;") && c.contains("Max-Age=31536000")),
        "{:?}",
        switched.set_cookies()
    );
    assert!(
        !switched
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("portal_session")),
        "switching signs nobody in"
    );
    // The same sign-in goes on in German, although the app asked for English.
    let consent = consent_after(&mut browser, &switched).await;
    consent.assert_in(de(), "consent-allow");
    // A new sign-in without ui_locales: the remembered choice beats Accept-Language.
    let mut later = Browser::new(&w)
        .accepting("en")
        .with_cookie("portal_lang", "de");
    later
        .login_page(&authorize_path(&w.client, &[]))
        .await
        .assert_in(de(), "login-title");
}

#[tokio::test]
async fn the_consent_switch_stores_the_language_on_the_account() {
    let w = world().await;
    let patients = PatientRepo::new(w.ctx.store());
    assert_eq!(
        patients.get(&w.patient.id).await.unwrap().unwrap().locale,
        Locale::ENGLISH
    );
    let mut browser = Browser::new(&w);
    let login = browser.login_page(&authorize_path(&w.client, &[])).await;
    let consent = consent_after(&mut browser, &login).await;
    consent.assert_in(Locale::ENGLISH, "consent-allow");
    let switched = browser
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &consent.hidden("csrf_token")),
                ("request", &consent.hidden("request")),
                ("lang", "de"),
            ],
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    switched.assert_in(de(), "consent-deny");
    assert_eq!(
        patients.get(&w.patient.id).await.unwrap().unwrap().locale,
        de(),
        "mails follow the patient's choice"
    );
    // Deciding afterwards works with the re-sealed request.
    let done = browser
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &switched.hidden("csrf_token")),
                ("request", &switched.hidden("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(done.location().as_str().starts_with(REDIRECT));
}

#[tokio::test]
async fn a_switch_without_the_csrf_token_changes_nothing_but_the_error_page_language() {
    let w = world().await;
    let mut browser = Browser::new(&w);
    let login = browser.login_page(&authorize_path(&w.client, &[])).await;
    let refused = browser
        .post(
            "/oauth/login",
            &[("request", &login.hidden("request")), ("lang", "de")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    refused.assert_in(de(), "error-csrf");
    // Its own switch repeats the same post (request kept), minus nothing it did not have.
    assert!(refused
        .body
        .contains(r#"<form method="post" action="/oauth/login">"#));
    assert_eq!(refused.hidden("request"), login.hidden("request"));
}

#[tokio::test]
async fn error_pages_of_the_authorization_endpoint_speak_ui_locales_and_switch_by_repeating_it() {
    let w = world().await;
    let mut browser = Browser::new(&w).accepting("en");
    let unknown = "/oauth/authorize?client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&ui_locales=de";
    let page = browser.get(unknown).await;
    assert_eq!(page.status, 400);
    page.assert_in(de(), "error-unknown-client.title");
    assert!(page
        .body
        .contains(r#"<form method="get" action="/oauth/authorize">"#));
    assert_eq!(page.hidden("client_id"), "nobody");
    assert_eq!(page.hidden("ui_locales"), "de");
    let english = browser.get(&format!("{unknown}&lang=en")).await;
    assert_eq!(english.status, 400);
    english.assert_in(Locale::ENGLISH, "error-unknown-client.title");
    assert!(english
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("portal_lang=en;")));
    // A refused redirect_uri is left out of the switch, which then shows the same error again.
    let bad = authorize_path(
        &w.client,
        &[
            ("redirect_uri", "https://elsewhere.example/cb"),
            ("ui_locales", "de"),
        ],
    );
    let page = browser.get(&bad).await;
    assert_eq!(page.status, 400, "{}", page.body);
    page.assert_in(de(), "error-bad-redirect-uri.title");
    assert!(!page.body.contains("elsewhere.example"), "{}", page.body);
    let repeated = browser
        .get(&format!(
            "/oauth/authorize?client_id={}&ui_locales=de&lang=en",
            w.client.id.as_str()
        ))
        .await;
    assert_eq!(repeated.status, 400);
    repeated.assert_in(Locale::ENGLISH, "error-bad-redirect-uri.title");
    // A switch on a later error page carries into the flow when the request succeeds.
    let login = browser
        .login_page(&authorize_path(
            &w.client,
            &[("ui_locales", "en"), ("lang", "de")],
        ))
        .await;
    login.assert_in(de(), "login-title");
}

#[tokio::test]
async fn the_logout_question_follows_ui_locales_and_the_cookie() {
    let w = world().await;
    let page = Browser::new(&w)
        .accepting("en")
        .get("/oauth/logout?ui_locales=de")
        .await;
    assert_eq!(page.status, 200);
    page.assert_in(de(), "logout-confirm-heading");
    let page = Browser::new(&w)
        .with_cookie("portal_lang", "de")
        .get("/oauth/logout")
        .await;
    page.assert_in(de(), "logout-confirm-title");
    let page = Browser::new(&w)
        .accepting("de;q=0.2, en;q=0.9")
        .get("/oauth/logout")
        .await;
    page.assert_in(Locale::ENGLISH, "logout-confirm-heading");
}
