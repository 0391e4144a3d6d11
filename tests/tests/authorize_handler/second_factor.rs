//! The second factor: setting up an authenticator app on `/account/mfa/totp` (wrong code, recovery
//! codes once, status, removal), the code page after the password (wrong code, replay, recovery
//! code once), and `acr`: `acr_values` and a client's requirement step a password session up or
//! send a patient without an app to set one up, `prompt=none` that cannot be met is
//! `interaction_required`, and `prompt=login` asks for both factors again.

use shared::domain::assurance::{Acr, Amr};
use shared::domain::client::{Client, RedirectUri};
use shared::domain::totp::TotpSecret;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::now_unix;

use super::*;

const LOA2: &str = "urn:mypatientportal:loa:2";

/// The secret the setup page shows (base32, in groups of four).
fn shown_secret(page: &Reply) -> TotpSecret {
    let marker = "id=\"totp-secret\" class=\"secret\">";
    let start = page.body.find(marker).expect("the secret is shown") + marker.len();
    let end = start + page.body[start..].find("</code>").unwrap();
    TotpSecret::from_base32(&page.body[start..end].replace(' ', "")).unwrap()
}

/// The recovery codes a page lists.
fn shown_codes(page: &Reply) -> Vec<String> {
    let list_start = page
        .body
        .find("id=\"recovery-codes\"")
        .expect("codes listed");
    let list = &page.body[list_start..page.body[list_start..].find("</ul>").unwrap() + list_start];
    list.split("<code class=\"secret\">")
        .skip(1)
        .map(|rest| rest[..rest.find("</code>").unwrap()].to_owned())
        .collect()
}

/// A code of the step after the current one: accepted (one step of drift) and never the step of
/// a code used just before.
fn next_code(secret: &TotpSecret) -> String {
    secret.code_at(now_unix() + 30)
}

/// Posts the setup form of `page` with `code`.
async fn confirm(browser: &mut Browser<'_>, page: &Reply, code: &str) -> Reply {
    browser
        .post(
            "/account/mfa/totp",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("enrolment", &page.hidden("enrolment")),
                ("code", code),
                ("action", "confirm"),
            ],
        )
        .await
}

/// Signs in with the password (consenting to the world's client) and sets up an authenticator
/// app: its secret and the recovery codes.
async fn enrolled(world: &World, browser: &mut Browser<'_>) -> (TotpSecret, Vec<String>) {
    let mut reply = browser
        .sign_in(&authorize_path(&world.client, &[]), PASSWORD)
        .await;
    if reply.status == 303 {
        reply = browser.answer_consent(&reply, "allow").await;
    }
    assert_eq!(reply.status, 302, "{}", reply.body);
    let page = browser.get("/account/mfa/totp").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = shown_secret(&page);
    let done = confirm(browser, &page, &secret.code_at(now_unix())).await;
    assert_eq!(done.status, 200, "{}", done.body);
    (secret, shown_codes(&done))
}

/// Signs in with the password on a fresh browser: the code page.
async fn code_page<'a>(world: &'a World, authorize: &str) -> (Browser<'a>, Reply) {
    let mut browser = Browser::new(world);
    let page = browser.sign_in(authorize, PASSWORD).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"code\""), "{}", page.body);
    (browser, page)
}

async fn submit_code(browser: &mut Browser<'_>, page: &Reply, code: &str) -> Reply {
    browser
        .post(
            "/oauth/mfa",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("pending", &page.hidden("pending")),
                ("code", code),
            ],
        )
        .await
}

#[tokio::test]
async fn setting_up_an_app_needs_a_session_and_a_right_code_and_shows_ten_codes_once() {
    let world = world().await;
    let mut stranger = Browser::new(&world);
    let to_sign_in = stranger.get("/account/mfa/totp").await;
    assert_eq!(to_sign_in.status, 303, "{}", to_sign_in.body);
    assert_eq!(to_sign_in.location().path(), "/oauth/login");

    let mut browser = Browser::new(&world);
    browser
        .authorize_fully(&authorize_path(&world.client, &[]))
        .await;
    let page = browser.get("/account/mfa/totp").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = shown_secret(&page);
    let uri = format!(
        "otpauth://totp/MyPatientPortal:anna.muster%40example.org?secret={}",
        secret.to_base32()
    );
    assert!(page.body.contains(&uri), "{}", page.body);
    assert!(page.body.contains("<svg"), "QR code inline");
    assert!(!page.body.contains("<script"), "no script");
    assert!(page.body.contains("<label for=\"code\">"));

    let wrong = confirm(&mut browser, &page, "000000").await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("role=\"alert\""));
    assert_eq!(
        shown_secret(&wrong),
        secret,
        "the same secret is offered again"
    );

    let done = confirm(&mut browser, &wrong, &secret.code_at(now_unix())).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = shown_codes(&done);
    assert_eq!(codes.len(), 10, "{codes:?}");

    let status = browser.get("/account/mfa/totp").await;
    assert_eq!(status.status, 200);
    assert!(
        status.body.contains("Recovery codes left: 10"),
        "{}",
        status.body
    );
    assert!(
        !status.body.contains(&codes[0]),
        "codes are shown once only"
    );
}

#[tokio::test]
async fn with_an_app_the_password_leads_to_the_code_page_and_a_right_code_to_loa2() {
    let world = world().await;
    let (secret, _) = enrolled(&world, &mut Browser::new(&world)).await;
    let authorize = authorize_path(&world.client, &[("nonce", "n1")]);
    let (mut browser, page) = code_page(&world, &authorize).await;
    assert!(
        browser.session_cookie().is_none(),
        "no session before the code"
    );

    let wrong = submit_code(&mut browser, &page, "123456").await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(browser.session_cookie().is_none());

    let code = next_code(&secret);
    let done = submit_code(&mut browser, &wrong, &code).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(browser.session_cookie().is_some());
    let issued = open_code(&world, &done);
    assert_eq!(issued.amr, Amr::password_and_code());
    assert_eq!(issued.amr.acr(), Acr::Loa2);

    // The same code again (another browser, within its 30 seconds) is refused.
    let (mut other, page) = code_page(&world, &authorize).await;
    let replayed = submit_code(&mut other, &page, &code).await;
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    assert!(replayed.body.contains("already used"), "{}", replayed.body);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let world = world().await;
    let mut owner = Browser::new(&world);
    let (_, codes) = enrolled(&world, &mut owner).await;
    let authorize = authorize_path(&world.client, &[]);

    let (mut browser, page) = code_page(&world, &authorize).await;
    let typed = codes[3].to_lowercase().replace('-', " ");
    let done = submit_code(&mut browser, &page, &typed).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(open_code(&world, &done).amr, Amr::password_and_code());

    let (mut again, page) = code_page(&world, &authorize).await;
    let refused = submit_code(&mut again, &page, &codes[3]).await;
    assert_eq!(refused.status, 401, "{}", refused.body);

    let status = owner.get("/account/mfa/totp").await;
    assert!(
        status.body.contains("Recovery codes left: 9"),
        "{}",
        status.body
    );
}

#[tokio::test]
async fn removing_the_app_needs_a_current_code_or_the_password_and_a_recovery_code() {
    let world = world().await;
    let mut browser = Browser::new(&world);
    let (_, codes) = enrolled(&world, &mut browser).await;
    let status = browser.get("/account/mfa/totp").await;
    let csrf = status.hidden("csrf_token");
    let remove = |code: &str, password: &str, recovery: &str| {
        [
            ("csrf_token", csrf.clone()),
            ("action", "remove".to_owned()),
            ("code", code.to_owned()),
            ("password", password.to_owned()),
            ("recovery_code", recovery.to_owned()),
        ]
    };
    for (code, password, recovery) in [
        ("000000", "", ""),
        ("", PASSWORD, "AAAA-AAAA-AAAA-AAAA"),
        ("", "wrong password!", codes[0].as_str()),
        ("", "", codes[0].as_str()),
    ] {
        let form = remove(code, password, recovery);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let refused = browser.post("/account/mfa/totp", &pairs).await;
        assert_eq!(refused.status, 401, "{code} {password}: {}", refused.body);
        assert!(refused.body.contains("role=\"alert\""));
    }
    let form = remove("", PASSWORD, &codes[0]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let removed = browser.post("/account/mfa/totp", &pairs).await;
    assert_eq!(removed.status, 200, "{}", removed.body);

    // Signing in needs the password only again, and the page offers a new setup.
    let mut fresh = Browser::new(&world);
    let reply = fresh
        .sign_in(&authorize_path(&world.client, &[]), PASSWORD)
        .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    assert_eq!(open_code(&world, &reply).amr, Amr::password());
    let page = browser.get("/account/mfa/totp").await;
    assert!(page.body.contains("id=\"totp-secret\""), "{}", page.body);
}

#[tokio::test]
async fn loa2_sends_a_patient_without_an_app_to_set_one_up_and_then_on_to_the_client() {
    let world = world().await;
    let mut browser = Browser::new(&world);
    browser
        .authorize_fully(&authorize_path(&world.client, &[]))
        .await;
    let asked = browser
        .get(&authorize_path(&world.client, &[("acr_values", LOA2)]))
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    assert_eq!(asked.location().path(), "/oauth/mfa");
    let to_setup = browser.get(&asked.next_path()).await;
    assert_eq!(to_setup.status, 303, "{}", to_setup.body);
    assert_eq!(to_setup.location().path(), "/account/mfa/totp");

    let page = browser.get(&to_setup.next_path()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let secret = shown_secret(&page);
    let done = confirm(&mut browser, &page, &secret.code_at(now_unix())).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let back = done.hidden("request");
    assert!(!back.is_empty(), "Continue returns to the sign-in");
    let reply = browser
        .get(&format!(
            "/oauth/mfa?request={}",
            url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(reply.status, 302, "{}", reply.body);
    let issued = open_code(&world, &reply);
    assert_eq!(issued.amr.acr(), Acr::Loa2);
}

#[tokio::test]
async fn a_password_session_steps_up_with_a_code_and_prompt_none_cannot() {
    let world = world().await;
    // This browser signs in before the app is set up (elsewhere): a password-only session.
    let mut weak = Browser::new(&world);
    weak.authorize_fully(&authorize_path(&world.client, &[]))
        .await;
    let (secret, _) = enrolled(&world, &mut Browser::new(&world)).await;

    let silent = weak
        .get(&authorize_path(
            &world.client,
            &[("acr_values", LOA2), ("prompt", "none"), ("state", "s1")],
        ))
        .await;
    silent.assert_error_redirect(REDIRECT, "interaction_required", Some("s1"));
    let plain = weak.get(&authorize_path(&world.client, &[])).await;
    assert_eq!(plain.status, 302, "loa:1 is enough without acr_values");
    assert_eq!(open_code(&world, &plain).amr, Amr::password());

    let asked = weak
        .get(&authorize_path(&world.client, &[("acr_values", LOA2)]))
        .await;
    assert_eq!(asked.location().path(), "/oauth/mfa");
    let page = weak.get(&asked.next_path()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.hidden("pending"), "", "a step-up, not a new sign-in");
    let done = submit_code(&mut weak, &page, &next_code(&secret)).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(open_code(&world, &done).amr, Amr::password_and_code());
    // The session now has both factors: prompt=none with loa:2 passes.
    let silent = weak
        .get(&authorize_path(
            &world.client,
            &[("acr_values", LOA2), ("prompt", "none")],
        ))
        .await;
    assert_eq!(silent.status, 302);
    assert_eq!(open_code(&world, &silent).amr.acr(), Acr::Loa2);
}

#[tokio::test]
async fn a_client_registered_to_require_loa2_gets_two_factors_whatever_it_sends() {
    let world = world().await;
    let uri = RedirectUri::parse(REDIRECT).unwrap();
    let (strict, _) = Client::new_confidential("Lab results", vec![uri], Scopes::all()).unwrap();
    let strict = strict.with_required_acr(Some(Acr::Loa2));
    ClientRepo::new(world.ctx.store())
        .create(&strict)
        .await
        .unwrap();
    let mut browser = Browser::new(&world);
    browser
        .authorize_fully(&authorize_path(&world.client, &[]))
        .await;
    for extra in [&[][..], &[("acr_values", "urn:mypatientportal:loa:1")][..]] {
        let reply = browser.get(&authorize_path(&strict, extra)).await;
        assert_eq!(reply.status, 303, "{extra:?}: {}", reply.body);
        assert_eq!(reply.location().path(), "/oauth/mfa", "{extra:?}");
    }
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_both_factors_again() {
    let world = world().await;
    let mut browser = Browser::new(&world);
    let (secret, codes) = enrolled(&world, &mut browser).await;
    for (extra, code) in [
        (("prompt", "login"), next_code(&secret)),
        (("max_age", "0"), codes[0].clone()),
    ] {
        let page = browser
            .sign_in(&authorize_path(&world.client, &[extra]), PASSWORD)
            .await;
        assert_eq!(page.status, 200, "{extra:?}: {}", page.body);
        assert!(!page.hidden("pending").is_empty(), "{extra:?}");
        let done = submit_code(&mut browser, &page, &code).await;
        assert_eq!(done.status, 302, "{extra:?}: {}", done.body);
        let issued = open_code(&world, &done);
        assert_eq!(issued.amr, Amr::password_and_code());
        assert!(issued.auth_time >= now_unix() - 5);
    }
}

#[tokio::test]
async fn wrong_codes_count_toward_the_sign_in_throttle() {
    let world = world().await;
    let (secret, _) = enrolled(&world, &mut Browser::new(&world)).await;
    let (mut browser, mut page) = code_page(&world, &authorize_path(&world.client, &[])).await;
    for attempt in 1..=5 {
        page = submit_code(&mut browser, &page, "000000").await;
        assert_eq!(page.status, 401, "attempt {attempt}: {}", page.body);
    }
    let locked = submit_code(&mut browser, &page, &next_code(&secret)).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.headers.contains_key("retry-after"));
    assert!(browser.session_cookie().is_none());
}

#[tokio::test]
async fn the_account_page_sign_in_asks_for_the_code_and_the_page_shows_the_app() {
    let world = world().await;
    let (_, codes) = enrolled(&world, &mut Browser::new(&world)).await;
    let mut browser = Browser::new(&world);
    let login = browser.get("/oauth/login?return=account").await;
    assert_eq!(login.status, 200, "{}", login.body);
    let page = browser
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("return", "account"),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.hidden("return"), "account");
    assert!(
        browser.session_cookie().is_none(),
        "no session before the code"
    );
    let done = browser
        .post(
            "/oauth/mfa",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("return", "account"),
                ("pending", &page.hidden("pending")),
                ("code", &codes[0]),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location().path(), "/account");
    let account = browser.get("/account").await;
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(
        account.body.contains("Recovery codes left: 9"),
        "{}",
        account.body
    );
    assert!(account.body.contains("href=\"/account/mfa/totp\""));
}
