//! The account page (`/account`) and its forms: the sign-in that returns there, freshness, CSRF,
//! profile, password, language, connected apps and "remove access" (refresh and introspection
//! end), "sign out everywhere", and that another patient's data never shows.

use std::time::Duration;

use shared::domain::patient::Email;
use shared::repo::{PatientRepo, SessionRepo};
use shared::scope::Scopes;
use shared::store::now_unix;
use testkit::events::Event;
use testkit::oauth::{token_call, VERIFIER};
use testkit::patients;

use super::*;

/// A browser signed in to the account page through its own sign-in.
pub(super) async fn signed_in(world: &World) -> Browser<'_> {
    let mut browser = Browser::new(world);
    let to_login = browser.get("/account").await;
    assert_eq!(to_login.status, 303, "{}", to_login.body);
    assert_eq!(to_login.next_path(), "/oauth/login?return=account");
    let page = browser.get(&to_login.next_path()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let back = browser
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("return", "account"),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(back.status, 303, "{}", back.body);
    assert_eq!(back.next_path(), "/account?");
    assert!(browser.session_cookie().is_some());
    browser
}

/// The account page, which must be there.
pub(super) async fn account_page(browser: &mut Browser<'_>) -> Reply {
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// Posts a form of the account page with its CSRF token.
pub(super) async fn post_form(
    browser: &mut Browser<'_>,
    path: &str,
    fields: &[(&str, &str)],
) -> Reply {
    let page = account_page(browser).await;
    let token = page.hidden("csrf_token");
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(fields);
    browser.post(path, &form).await
}

#[tokio::test]
async fn the_account_page_signs_in_without_an_app_and_returns_there_only() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let page = b.get("/oauth/login?return=account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.hidden("return"), "account");
    assert!(
        hidden_field(&page.body, "request").is_none(),
        "no app's request"
    );
    let wrong = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("return", "account"),
                ("email", EMAIL),
                ("password", "not the password at all"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("role=\"alert\""));
    assert_eq!(wrong.hidden("return"), "account");
    // Any other target is no target: the page never sends anyone elsewhere.
    let elsewhere = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("return", "https://evil.example/"),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    elsewhere.assert_error_page(400);
    assert!(b.session_cookie().is_none());

    let mut b = signed_in(&w).await;
    let page = account_page(&mut b).await;
    assert!(page.body.contains(EMAIL), "{}", page.body);
    assert!(page.body.contains("value=\"Anna\""), "{}", page.body);
    assert!(
        page.body.contains("id=\"two-factor\""),
        "the two-factor slot"
    );
    assert!(page.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert!(page.headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_session_older_than_half_an_hour_signs_in_again() {
    let w = world().await;
    let credentials = PatientRepo::new(w.ctx.store())
        .credentials_by_email(&Email::parse(EMAIL).unwrap())
        .await
        .unwrap()
        .unwrap();
    let sessions = SessionRepo::new(w.ctx.store());
    let stale = sessions
        .create(
            &credentials,
            now_unix() - 31 * 60,
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let mut b = Browser::new(&w).with_cookie("portal_session", &stale);
    let page = b.get("/account").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.next_path(), "/oauth/login?return=account");
    let form = b.get("/oauth/login?return=account").await;
    let post = b
        .post(
            "/account/sessions/end",
            &[("csrf_token", &form.hidden("csrf_token"))],
        )
        .await;
    assert_eq!(post.status, 303, "a change needs a fresh session too");
    assert!(
        sessions.get(&stale).await.unwrap().is_some(),
        "nothing ended"
    );
}

#[tokio::test]
async fn every_form_needs_the_pages_csrf_token() {
    let w = world().await;
    let mut b = signed_in(&w).await;
    for path in [
        "/account/profile",
        "/account/password",
        "/account/language",
        "/account/apps/revoke",
        "/account/sessions/end",
        "/account/delete",
    ] {
        let reply = b.post(path, &[("csrf_token", "forged-token-value")]).await;
        reply.assert_error_page(403);
        let reply = b.post(path, &[]).await;
        reply.assert_error_page(403);
    }
    assert!(b.session_cookie().is_some());
    let wrong_method = b.send(Event::new("GET", "/account/delete")).await;
    assert_eq!(wrong_method.status, 405);
}

#[tokio::test]
async fn the_profile_is_saved_and_a_bad_value_comes_back_beside_its_field() {
    let w = world().await;
    let mut b = signed_in(&w).await;
    let bad = post_form(
        &mut b,
        "/account/profile",
        &[
            ("given_name", "Anne-Marie"),
            ("family_name", "Muster"),
            ("birthdate", "2999-01-01"),
            ("phone_number", ""),
        ],
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("id=\"birthdate-error\""), "{}", bad.body);
    assert!(bad.body.contains("aria-invalid=\"true\""));
    assert!(
        bad.body.contains("value=\"Anne-Marie\""),
        "what was typed stays"
    );
    let stored = PatientRepo::new(w.ctx.store());
    assert_eq!(
        stored
            .get(&w.patient.id)
            .await
            .unwrap()
            .unwrap()
            .first_name
            .as_str(),
        "Anna",
        "nothing saved"
    );

    let done = post_form(
        &mut b,
        "/account/profile",
        &[
            ("given_name", "Anne-Marie"),
            ("family_name", "Beispiel"),
            ("birthdate", "1990-07-01"),
            ("phone_number", ""),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.next_path(), "/account?done=profile");
    let page = b.get(&done.next_path()).await;
    assert!(page.body.contains("role=\"status\""), "{}", page.body);
    let patient = stored.get(&w.patient.id).await.unwrap().unwrap();
    assert_eq!(patient.first_name.as_str(), "Anne-Marie");
    assert_eq!(patient.last_name.as_str(), "Beispiel");
    assert_eq!(patient.birth_date.to_string(), "1990-07-01");
    assert_eq!(patient.phone, None, "an empty phone removes it");
    assert_eq!(
        patient.email, w.patient.email,
        "the address is not a profile field"
    );
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_ends_the_other_sessions() {
    let w = world().await;
    let mut elsewhere = signed_in(&w).await;
    let mut b = signed_in(&w).await;
    let cases = [
        ("wrong current password", "correct horse battery stable"),
        ("too short", "short"),
        ("too common", "password123"),
    ];
    for (what, new) in cases {
        let current = if what == "wrong current password" {
            "not my password!"
        } else {
            PASSWORD
        };
        let reply = post_form(
            &mut b,
            "/account/password",
            &[("current_password", current), ("new_password", new)],
        )
        .await;
        assert_eq!(reply.status, 400, "{what}: {}", reply.body);
        assert!(reply.body.contains("role=\"alert\""), "{what}");
    }
    let new = "a new and much longer passphrase";
    let done = post_form(
        &mut b,
        "/account/password",
        &[("current_password", PASSWORD), ("new_password", new)],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.next_path(), "/account?done=password");
    account_page(&mut b).await;
    let out = elsewhere.get("/account").await;
    assert_eq!(out.status, 303, "the other browser is signed out");

    let repo = PatientRepo::new(w.ctx.store());
    let credentials = repo
        .credentials_by_email(&w.patient.email)
        .await
        .unwrap()
        .unwrap();
    assert!(shared::domain::password::verify_password(
        &credentials.password_hash,
        new
    ));
    assert!(!shared::domain::password::verify_password(
        &credentials.password_hash,
        PASSWORD
    ));
    let notices: Vec<_> = w
        .ctx
        .mails_to(EMAIL)
        .into_iter()
        .filter(|mail| mail.contains("Subject: Your MyPatientPortal password was changed"))
        .collect();
    assert_eq!(notices.len(), 1, "one notice, after the change only");
    assert!(
        notices[0].contains("Content-Language: en"),
        "{}",
        notices[0]
    );
    assert!(
        notices[0].contains(&format!("{ISSUER}/account/password/forgot")),
        "the way out if it was not the patient: {}",
        notices[0]
    );
}

#[tokio::test]
async fn the_password_changed_notice_speaks_the_patients_language() {
    let w = world().await;
    let mut b = signed_in(&w).await;
    let german = post_form(&mut b, "/account/language", &[("lang", "de")]).await;
    assert_eq!(german.status, 303, "{}", german.body);
    let done = post_form(
        &mut b,
        "/account/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "eine neue und viel längere Passphrase"),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let mails = w.ctx.mails_to(EMAIL);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("Content-Language: de"), "{}", mails[0]);
    assert!(
        mails[0].contains("/account/password/forgot"),
        "{}",
        mails[0]
    );
}

#[tokio::test]
async fn the_language_is_stored_for_mails_and_remembered_for_pages() {
    let w = world().await;
    let mut b = signed_in(&w).await;
    let unknown = post_form(&mut b, "/account/language", &[("lang", "xx")]).await;
    unknown.assert_error_page(400);
    let done = post_form(&mut b, "/account/language", &[("lang", "de")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("portal_lang=de")));
    let page = b.get(&done.next_path()).await;
    assert!(page.body.contains("<html lang=\"de\">"), "{}", page.body);
    assert!(page.body.contains("Ihr Konto"));
    let patient = PatientRepo::new(w.ctx.store())
        .get(&w.patient.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patient.locale.tag(), "de");
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session() {
    let w = world().await;
    let mut elsewhere = signed_in(&w).await;
    let mut b = signed_in(&w).await;
    let bye = post_form(&mut b, "/account/sessions/end", &[]).await;
    assert_eq!(bye.status, 200, "{}", bye.body);
    assert!(bye
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("portal_session=;") && c.contains("Max-Age=0")));
    assert_eq!(b.get("/account").await.status, 303);
    assert_eq!(elsewhere.get("/account").await.status, 303);
}

/// The token function of the world.
pub(super) fn token_app(world: &World) -> token_fn::App {
    token_fn::App::new(world.ctx.function(shared::keys::Role::Token))
}

/// The token endpoint's answer for a code the world's patient approved for `app` with `scope`
/// (sign-in, consent and the code exchange with PKCE): an app with a live grant.
pub(super) async fn granted(
    b: &mut Browser<'_>,
    world: &World,
    app: &shared::domain::client::Client,
    secret: &str,
    scope: &str,
) -> serde_json::Value {
    let done = b
        .authorize_fully(&oauth::authorize_path(
            app.id.as_str(),
            REDIRECT,
            scope,
            &[],
        ))
        .await;
    let code = done.redirect_params().remove("code").expect("a code");
    let (status, issued) = token_call(
        &token_app(world),
        "/oauth/token",
        app,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, 200, "{issued}");
    issued
}

#[tokio::test]
async fn removing_an_apps_access_ends_its_refresh_and_introspection_and_forgets_the_consent() {
    let w = world().await;
    let (app, secret) = w.ctx.client_named("Praxis & <Termine>", REDIRECT).await;
    let tokens = token_app(&w);
    let mut b = Browser::new(&w);
    let issued = granted(
        &mut b,
        &w,
        &app,
        &secret,
        "openid profile appointment_read offline_access",
    )
    .await;
    let refresh = issued["refresh_token"].as_str().unwrap().to_owned();
    let access = issued["access_token"].as_str().unwrap().to_owned();
    let (status, refreshed) = token_call(
        &tokens,
        "/oauth/token",
        &app,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let refresh = refreshed["refresh_token"].as_str().unwrap().to_owned();

    // The sign-in above is fresh: the account page opens with the same session.
    let page = account_page(&mut b).await;
    assert!(
        page.body.contains("Praxis &#38; &#60;Termine&#62;")
            || page.body.contains("Praxis &amp; &lt;Termine&gt;"),
        "{}",
        page.body
    );
    let english = |id: &str| shared::i18n::catalog::message(shared::i18n::Locale::ENGLISH, id, &[]);
    assert!(page.body.contains(&english("scope-appointment_read")));
    assert!(page.body.contains(&app.id.to_string()));
    assert!(
        !page.body.contains(&english("console-apps-never")),
        "refreshed once"
    );

    let removed = post_form(
        &mut b,
        "/account/apps/revoke",
        &[("client_id", app.id.as_str())],
    )
    .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(removed.next_path(), "/account?done=app-removed");
    let page = b.get(&removed.next_path()).await;
    assert!(!page.body.contains(app.id.as_str()), "{}", page.body);

    let (status, error) = token_call(
        &tokens,
        "/oauth/token",
        &app,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    for token in [&access, &refresh] {
        let (status, answer) = token_call(
            &tokens,
            "/oauth/introspect",
            &app,
            &secret,
            &[("token", token)],
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(answer, serde_json::json!({"active": false}));
    }
    // The consent is forgotten: the app has to ask again.
    let again = b
        .get(&oauth::authorize_path(
            app.id.as_str(),
            REDIRECT,
            "openid",
            &[],
        ))
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location().path(), "/oauth/consent");

    let bad = post_form(&mut b, "/account/apps/revoke", &[("client_id", "")]).await;
    bad.assert_error_page(400);
}

/// Removing an app's access and approving it again at once (within the same second) gives a
/// working code and refresh token; a code issued before the removal stays refused.
#[tokio::test]
async fn an_app_removed_and_approved_again_at_once_works_and_an_older_code_does_not() {
    let w = world().await;
    let (app, secret) = w.ctx.client_named("Praxis", REDIRECT).await;
    let tokens = token_app(&w);
    let mut b = Browser::new(&w);
    let authorize = oauth::authorize_path(
        app.id.as_str(),
        REDIRECT,
        "openid appointment_read offline_access",
        &[],
    );
    let before = b.authorize_fully(&authorize).await;
    let old_code = before.redirect_params().remove("code").expect("a code");
    account_page(&mut b).await;
    // Start the removal at the beginning of a second, so the new approval lands in the same one.
    let into_second = shared::store::now_unix_ms().rem_euclid(1000);
    tokio::time::sleep(Duration::from_millis((1000 - into_second) as u64)).await;
    let removed = post_form(
        &mut b,
        "/account/apps/revoke",
        &[("client_id", app.id.as_str())],
    )
    .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let to_consent = b.get(&authorize).await;
    let again = b.answer_consent(&to_consent, "allow").await;
    let new_code = again.redirect_params().remove("code").expect("a code");

    let exchange = |code: String| {
        let (tokens, app, secret) = (&tokens, &app, &secret);
        async move {
            token_call(
                tokens,
                "/oauth/token",
                app,
                secret,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await
        }
    };
    let (status, error) = exchange(old_code).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (400, Some("invalid_grant")),
        "issued before the removal: {error}"
    );
    let (status, issued) = exchange(new_code).await;
    assert_eq!(status, 200, "approved again after the removal: {issued}");
    let refresh = issued["refresh_token"].as_str().unwrap();
    let (status, refreshed) = token_call(
        &tokens,
        "/oauth/token",
        &app,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
}

#[tokio::test]
async fn another_patients_apps_and_data_never_show_and_cannot_be_removed() {
    let w = world().await;
    let (app, _) = w.ctx.client_named("Only Bea's App", REDIRECT).await;
    let mut bea = patients::patient("bea@example.org", None);
    bea.email_verified = true;
    patients::register(&w.ctx.store(), &bea, Some(PASSWORD)).await;
    shared::repo::ConsentRepo::new(w.ctx.store())
        .grant(&bea.id, &app.id, &Scopes::parse("openid").unwrap())
        .await
        .unwrap();

    let mut b = signed_in(&w).await;
    let page = account_page(&mut b).await;
    assert!(!page.body.contains("Only Bea"), "{}", page.body);
    assert!(!page.body.contains("bea@example.org"));
    let removed = post_form(
        &mut b,
        "/account/apps/revoke",
        &[("client_id", app.id.as_str())],
    )
    .await;
    assert_eq!(removed.status, 303);
    let consent = shared::repo::ConsentRepo::new(w.ctx.store())
        .get(&bea.id, &app.id)
        .await
        .unwrap();
    assert!(
        consent.is_some_and(|scopes| !scopes.is_empty()),
        "Bea's consent is untouched"
    );
}

/// Dates and times on the account page are in the portal's zone (`PORTAL_TIME_ZONE`), with the
/// zone named, in the page's language: never UTC.
#[tokio::test]
async fn the_account_page_shows_times_in_the_portals_time_zone_and_language() {
    use shared::i18n::{datetime, Locale};
    use shared::repo::ConsentRepo;
    let ctx = TestContext::with_env(&[("PORTAL_TIME_ZONE", "Asia/Tokyo")]);
    let w = world_with(ctx, None).await;
    let (app, _) = w.ctx.client_named("Tokyo App", REDIRECT).await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&oauth::authorize_path(
        app.id.as_str(),
        REDIRECT,
        "openid appointment_read",
        &[],
    ))
    .await;
    let granted = ConsentRepo::new(w.ctx.store())
        .of_patient(&w.patient.id)
        .await
        .unwrap()
        .into_iter()
        .find(|record| record.client_id == app.id)
        .and_then(|record| record.updated_at)
        .expect("the consent's time");
    let tokyo = chrono_tz::Asia::Tokyo;
    let page = account_page(&mut b).await;
    let english = datetime::long(Locale::ENGLISH, tokyo, granted);
    assert!(english.ends_with("(JST)"), "{english}");
    assert!(page.body.contains(&english), "{english}: {}", page.body);
    assert!(!page.body.contains("(UTC)"), "{}", page.body);

    let german = post_form(&mut b, "/account/language", &[("lang", "de")]).await;
    assert_eq!(german.status, 303, "{}", german.body);
    let page = account_page(&mut b).await;
    let text = datetime::long(Locale::parse("de").unwrap(), tokyo, granted);
    assert!(text.contains("Uhr"), "{text}");
    assert!(page.body.contains(&text), "{text}: {}", page.body);
}
