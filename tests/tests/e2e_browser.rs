//! The login and consent pages in a real browser: headless Chromium driven by Playwright
//! (`tests/browser/*.test.mjs`, plain `node --test` scripts) against the portal served by
//! `cargo lambda watch`.
//!
//! Each scenario is one test here with its own client (a loopback redirect URI nothing listens on;
//! the browser catches the redirect itself) and its own patient, passed to the script in its
//! environment. Chromium and the script's `node_modules` are installed by `make test`
//! (`infra/scripts/test.sh`, step "browser test tools"); without them these tests fail, they do
//! not skip. Screenshots go to `$PORTAL_TEST_ARTIFACT_DIR` (make test:
//! `$CARGO_TARGET_DIR/artifacts/browser`).

mod rp_support;

use std::path::PathBuf;

use portal_tests::e2e::E2e;
use rp_support::{common_env, in_workspace, loopback_client, require, run_ok};
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

/// Runs one scenario script with a fresh client and patient.
async fn scenario(script: &str) {
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
    let client = loopback_client(&e2e, CLIENT_NAME).await;
    let patient = e2e.patient().await;
    let descriptions: Vec<&str> = Scopes::parse(SCOPE)
        .expect("valid scopes")
        .iter()
        .map(|s| s.description())
        .collect();
    let mut env = common_env(&e2e, &client, &patient);
    env.extend(
        [
            ("SCOPE", SCOPE.to_owned()),
            (
                "SCOPE_DESCRIPTIONS",
                serde_json::to_string(&descriptions).expect("JSON"),
            ),
            ("BAD_CREDENTIALS_MESSAGE", BAD_CREDENTIALS.to_owned()),
            ("ARTIFACT_DIR", artifact_dir().display().to_string()),
            ("CHROMIUM_PATH", chromium.display().to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let printed = run_ok(
        &node,
        &["--test", "--test-reporter=spec", script],
        &browser_dir,
        &env,
    )
    .await;
    println!("{printed}");
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
    e2e.ensure_demo_catalog().await;
    let client_name = e2e.docs_client().await;
    let patient = e2e.patient().await;
    let env: Vec<(String, String)> = [
        ("PORTAL_BASE_URL", e2e.issuer().to_owned()),
        ("CLIENT_NAME", client_name.to_owned()),
        ("PATIENT_EMAIL", patient.email.clone()),
        ("PATIENT_PASSWORD", patient.password.clone()),
        // The demo catalog's bookable type (infra/catalog/demo.yaml).
        ("INSURANCE_ID", "136".to_owned()),
        ("CATEGORY_ID", "53".to_owned()),
        ("TYPE_ID", "198".to_owned()),
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
    scenario("sign-in-allow.test.mjs").await;
}

#[tokio::test]
async fn a_patient_who_denies_returns_to_the_app_with_access_denied() {
    scenario("deny.test.mjs").await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_error_message() {
    scenario("wrong-password.test.mjs").await;
}

#[tokio::test]
async fn login_and_consent_work_with_the_keyboard_alone() {
    scenario("keyboard.test.mjs").await;
}

#[tokio::test]
async fn login_and_consent_fit_a_375_px_wide_screen() {
    scenario("narrow-viewport.test.mjs").await;
}
