//! The login and consent pages in a real browser: headless Chromium driven by Playwright
//! (`tests/browser/*.test.mjs`, plain `node --test` scripts) against the portal served by
//! `cargo lambda watch`.
//!
//! Each scenario is one test here with its own client (a loopback redirect URI nothing listens on;
//! the browser catches the redirect itself) and its own patient, passed to the script in its
//! environment. Chromium and the script's `node_modules` are installed by `make test`
//! (`infra/scripts/test.sh`, step "browser test tools"); without them these tests fail, they do
//! not skip. Screenshots of the login and consent pages, in English and German, go to
//! `$PORTAL_TEST_ARTIFACT_DIR` (make test: `$CARGO_TARGET_DIR/artifacts/browser`), named
//! `<page>-<language>[-375px].png`. What the pages say is handed to the scripts from the server's
//! catalogs, in every language.

mod rp_support;

use std::path::PathBuf;

use portal_tests::e2e::E2e;
use rp_support::{common_env, in_workspace, loopback_client, require, run_ok};
use shared::i18n::catalog::message;
use shared::i18n::Locale;
use shared::pages::BAD_CREDENTIALS;
use shared::scope::Scopes;

/// What the scenarios' authorization requests ask for.
const SCOPE: &str = "openid profile email profile_read appointment_read appointment_write";

/// A long app name with markup-significant characters: it must wrap on a phone and be escaped.
const CLIENT_NAME: &str = "Riverside Physiotherapy & Rehabilitation <Booking> Assistant";

const INSTALL_HINT: &str = "`make test` installs it in its step \"browser test tools\" \
     (infra/scripts/test.sh: apt-get install chromium chromium-driver; npm ci --prefix tests/browser)";

fn chromium() -> PathBuf {
    std::env::var_os("PORTAL_TEST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn artifact_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PORTAL_TEST_ARTIFACT_DIR") {
        return PathBuf::from(dir);
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => PathBuf::from(target).join("artifacts/browser"),
        None => in_workspace("tests/browser/artifacts"),
    }
}

/// What the pages say in every language, from the server's own catalogs (see `settings()` in
/// `tests/browser/lib/portal.mjs`).
fn page_texts(client_name: &str) -> serde_json::Value {
    let scopes = Scopes::parse(SCOPE).expect("valid scopes");
    let texts: serde_json::Map<String, serde_json::Value> = Locale::all()
        .map(|locale| {
            let text = |id: &str| message(locale, id, &[]);
            let scopes: Vec<String> = scopes
                .iter()
                .map(|scope| message(locale, &scope.message_id(), &[]))
                .collect();
            let texts = serde_json::json!({
                "loginTitle": text("login-title"),
                "email": text("login-email"),
                "password": text("login-password"),
                "submit": text("login-submit"),
                "consentHeading": message(locale, "consent-heading", &[("client", client_name)]),
                "allow": text("consent-allow"),
                "deny": text("consent-deny"),
                "scopes": scopes,
                "badCredentials": text(BAD_CREDENTIALS),
                "languageName": text("language-name"),
            });
            (locale.tag().to_owned(), texts)
        })
        .collect();
    serde_json::Value::Object(texts)
}

/// What the account pages and the login page's account links say, in English (from the catalogs),
/// and where the portal's mail lands.
fn account_env(e2e: &E2e) -> Vec<(String, String)> {
    let text = |id: &str| message(Locale::ENGLISH, id, &[]);
    let texts = serde_json::json!({
        "registerLink": text("login-register"),
        "forgotLink": text("login-forgot"),
        "registerTitle": text("account-register-title"),
        "registerSubmit": text("account-register-submit"),
        "newPassword": text("account-new-password"),
        "givenName": text("account-given-name"),
        "familyName": text("account-family-name"),
        "birthdate": text("account-birthdate"),
        "checkMail": text("account-check-mail.title"),
        "unverified": text(shared::pages::UNVERIFIED),
        "resend": text("account-resend-submit"),
        "verifySubmit": text("account-verify-submit"),
        "verified": text("account-verified.title"),
        "continue": text("account-continue"),
        "forgotSubmit": text("account-forgot-submit"),
        "resetSubmit": text("account-reset-submit"),
        "passwordChanged": text("account-password-changed.title"),
    });
    let outbox = e2e.portal.data_dir.join("outbox");
    let console = serde_json::json!({
        "title": text("console-title"),
        "appsHeading": text("console-apps-heading"),
        "givenName": text("console-given-name"),
        "profileSubmit": text("console-profile-submit"),
        "profileSaved": text("console-done-profile"),
        "remove": message(Locale::ENGLISH, "console-apps-remove", &[("app", CLIENT_NAME)]),
        "appRemoved": text("console-done-app-removed"),
        "signOut": text("console-sessions-submit"),
        "signedOut": text("console-signed-out-everywhere"),
    });
    let passkeys = serde_json::json!({
        "manage": text("console-passkeys-manage"),
        "title": text("passkeys-title"),
        "name": text("passkeys-name"),
        "add": text("passkeys-add-submit"),
        "none": text("passkeys-none"),
        "signInLink": text("passkey-sign-in-link"),
        "signInTitle": text("passkey-sign-in-title"),
        "signInSubmit": text("passkey-sign-in-submit"),
        "back": text("passkeys-back"),
    });
    vec![
        ("CONSOLE_TEXTS".to_owned(), console.to_string()),
        ("PASSKEY_TEXTS".to_owned(), passkeys.to_string()),
        ("ACCOUNT_TEXTS".to_owned(), texts.to_string()),
        ("OUTBOX_DIR".to_owned(), outbox.display().to_string()),
    ]
}

/// Runs one scenario script with a fresh client and patient on the test run's portal; then each
/// of `screenshots` must be a PNG the script wrote.
async fn scenario(script: &str, screenshots: &[&str]) {
    scenario_on(E2e::new().await, script, screenshots).await;
}

/// [`scenario`] on the portal `e2e`.
async fn scenario_on(e2e: E2e, script: &str, screenshots: &[&str]) {
    let browser_dir = in_workspace("tests/browser");
    let chromium = chromium();
    require(&chromium, "Chromium", INSTALL_HINT);
    require(
        &browser_dir.join("node_modules/playwright-core/package.json"),
        "playwright-core (tests/browser/node_modules)",
        INSTALL_HINT,
    );
    let node = PathBuf::from(std::env::var_os("PORTAL_TEST_NODE").unwrap_or_else(|| "node".into()));

    let client = loopback_client(&e2e, CLIENT_NAME, shared::keys::SigningAlg::RS256).await;
    let patient = e2e.patient().await;
    let mut env = common_env(&e2e, &client, &patient);
    env.extend(
        [
            ("SCOPE", SCOPE.to_owned()),
            ("PAGE_TEXTS", page_texts(CLIENT_NAME).to_string()),
            ("ARTIFACT_DIR", artifact_dir().display().to_string()),
            ("CHROMIUM_PATH", chromium.display().to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    env.extend(account_env(&e2e));
    let started = std::time::SystemTime::now();
    let printed = run_ok(
        &node,
        &["--test", "--test-reporter=spec", script],
        &browser_dir,
        &env,
    )
    .await;
    println!("{printed}");
    for name in screenshots {
        let path = artifact_dir().join(format!("{name}.png"));
        let written = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("no screenshot {}: {e}", path.display()));
        assert!(
            written >= started,
            "{} is left from an earlier run",
            path.display()
        );
        let bytes = std::fs::read(&path).expect("read the screenshot");
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", path.display());
    }
}

/// The browsable documentation: "Authorize" with the documentation's own client, then "Try it
/// out" books an appointment (`api-docs.test.mjs`).
#[tokio::test]
async fn the_api_docs_sign_a_patient_in_and_book_an_appointment_with_try_it_out() {
    let browser_dir = in_workspace("tests/browser");
    let chromium = chromium();
    require(&chromium, "Chromium", INSTALL_HINT);
    require(
        &browser_dir.join("node_modules/playwright-core/package.json"),
        "playwright-core (tests/browser/node_modules)",
        INSTALL_HINT,
    );
    let node = PathBuf::from(std::env::var_os("PORTAL_TEST_NODE").unwrap_or_else(|| "node".into()));

    let e2e = E2e::new().await;
    testkit::catalog::ensure_demo(&e2e.store).await;
    let client_name = e2e.docs_client().await;
    let patient = e2e.patient().await;
    let env: Vec<(String, String)> = [
        ("PORTAL_BASE_URL", e2e.issuer().to_owned()),
        ("CLIENT_NAME", client_name.to_owned()),
        ("PATIENT_EMAIL", patient.email.clone()),
        ("PATIENT_PASSWORD", patient.password.clone()),
        ("PAGE_TEXTS", page_texts(client_name).to_string()),
        // The demo catalog's bookable type (infra/catalog/demo.yaml).
        ("INSURANCE_ID", testkit::catalog::INSURANCE.to_string()),
        ("CATEGORY_ID", testkit::catalog::CATEGORY.to_string()),
        ("TYPE_ID", testkit::catalog::TYPE.to_string()),
        ("ARTIFACT_DIR", artifact_dir().display().to_string()),
        ("CHROMIUM_PATH", chromium.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let printed = run_ok(
        &node,
        &["--test", "--test-reporter=spec", "api-docs.test.mjs"],
        &browser_dir,
        &env,
    )
    .await;
    println!("{printed}");
}

#[tokio::test]
async fn a_patient_signs_in_reads_the_scopes_in_plain_words_and_allows() {
    scenario("sign-in-allow.test.mjs", &["login-en", "consent-en"]).await;
}

#[tokio::test]
async fn a_german_patient_signs_in_with_ui_locales_de_and_switches_language_by_keyboard() {
    scenario("german.test.mjs", &["login-de", "consent-de"]).await;
}

#[tokio::test]
async fn an_app_asking_for_loa2_has_the_patient_set_up_an_authenticator_app_and_sign_in_with_codes()
{
    scenario("totp.test.mjs", &["totp-setup-en", "totp-code-en"]).await;
}

/// Passkeys in Chromium with a CDP virtual authenticator, on the portal whose issuer is
/// `http://localhost:PORT` (browsers refuse WebAuthn on an IP-address origin).
#[tokio::test]
async fn a_patient_adds_a_passkey_and_signs_in_with_it_for_loa2_in_a_browser_and_by_keyboard() {
    scenario_on(
        E2e::on_localhost().await,
        "passkeys.test.mjs",
        &["passkeys-en-375px", "passkey-sign-in-en-375px"],
    )
    .await;
}

#[tokio::test]
async fn account_pages_register_verify_and_reset_in_a_browser_on_a_phone_and_by_keyboard() {
    scenario(
        "accounts.test.mjs",
        &["register-en", "reset-en", "forgot-de-375px"],
    )
    .await;
}

#[tokio::test]
async fn a_patient_edits_the_profile_and_removes_an_app_whose_refresh_then_fails() {
    scenario("account-page.test.mjs", &["account-en-375px"]).await;
}

#[tokio::test]
async fn a_patient_who_denies_returns_to_the_app_with_access_denied() {
    scenario("deny.test.mjs", &[]).await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_error_message() {
    scenario("wrong-password.test.mjs", &[]).await;
}

#[tokio::test]
async fn login_and_consent_work_with_the_keyboard_alone() {
    scenario("keyboard.test.mjs", &[]).await;
}

#[tokio::test]
async fn login_and_consent_fit_a_375_px_wide_screen_in_english_and_german() {
    scenario(
        "narrow-viewport.test.mjs",
        &[
            "login-en-375px",
            "consent-en-375px",
            "login-de-375px",
            "consent-de-375px",
        ],
    )
    .await;
}
