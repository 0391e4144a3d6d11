//! Password recovery: the same answer for every address, a reset link that works once, ends
//! every session (and with "sign out all apps" every grant), and mails a notice.

use shared::domain::patient::Email;
use shared::repo::{ClientCheck, Grant, GrantId, GrantRepo, PatientRepo, SessionRepo};
use shared::scope::Scopes;

use super::accounts::{href, link_in, post_owned, register};
use super::*;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The "forgot password" page reached from the app's sign-in.
async fn forgot_page(b: &mut Browser<'_>, w: &World) -> Reply {
    let login = b.login_page(&authorize_path(&w.client, &[])).await;
    let page = b.get(&href(&login, "/account/password/forgot")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.hidden("request"), login.hidden("request"));
    page
}

/// Asks for a reset link for `email` from the app's sign-in; returns the reply.
async fn forgot(b: &mut Browser<'_>, w: &World, email: &str) -> Reply {
    let page = forgot_page(b, w).await;
    ask(b, &page, email).await
}

async fn ask(b: &mut Browser<'_>, page: &Reply, email: &str) -> Reply {
    b.post(
        "/account/password/forgot",
        &[
            ("csrf_token", &page.hidden("csrf_token")),
            ("request", &page.hidden("request")),
            ("email", email),
        ],
    )
    .await
}

/// The reset link of the last reset mail to the world's patient.
fn reset_link(w: &World) -> String {
    let mail = w
        .ctx
        .mails_to(EMAIL)
        .into_iter()
        .rev()
        .find(|m| m.contains("/account/password/reset?token="))
        .expect("a reset mail");
    link_in(&mail, "/account/password/reset?token=")
}

async fn submit_reset(b: &mut Browser<'_>, page: &Reply, password: &str, apps: bool) -> Reply {
    let mut form = vec![
        ("csrf_token", page.hidden("csrf_token")),
        ("token", page.hidden("token")),
        ("password", password.to_owned()),
    ];
    if apps {
        form.push(("sign_out_apps", "yes".to_owned()));
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post("/account/password/reset", &form).await
}

#[tokio::test]
async fn forgot_answers_the_same_for_known_and_unknown_addresses() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let page = forgot_page(&mut b, &w).await;
    let known = ask(&mut b, &page, EMAIL).await;
    let unknown = ask(&mut b, &page, "nobody@example.org").await;
    assert_eq!(known.status, 200, "{}", known.body);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!(w.ctx.mails_to(EMAIL).len(), 1);
    assert!(w.ctx.mails_to("nobody@example.org").is_empty());
    let bad = forgot(&mut b, &w, "not an address").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("role=\"alert\""));
}

#[tokio::test]
async fn a_reset_sets_the_password_once_ends_every_session_and_the_app_continues() {
    let w = world().await;
    let sessions = SessionRepo::new(w.ctx.store());
    // Signed in on another device, and in this browser.
    let mut elsewhere = Browser::new(&w);
    elsewhere
        .authorize_fully(&authorize_path(&w.client, &[]))
        .await;
    let other_sid = elsewhere.session_cookie().unwrap();
    let mut here = Browser::new(&w);
    let signed_in = here
        .sign_in(&authorize_path(&w.client, &[]), PASSWORD)
        .await;
    assert_eq!(
        signed_in.status, 302,
        "consent remembered: {}",
        signed_in.body
    );
    let here_sid = here.session_cookie().unwrap();
    assert!(sessions.get(&other_sid).await.unwrap().is_some());

    // A browser that forgot the password, coming from the app's sign-in.
    let mut b = Browser::new(&w);
    let answer = forgot(&mut b, &w, EMAIL).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let link = reset_link(&w);
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"sign_out_apps\""));

    let common = submit_reset(&mut b, &page, "1234567890", false).await;
    assert_eq!(common.status, 400, "{}", common.body);
    assert!(common.body.contains("role=\"alert\""));
    let done = submit_reset(&mut b, &page, NEW_PASSWORD, false).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.set_cookies()
            .iter()
            .any(|c| c.starts_with("portal_session=;")),
        "{:?}",
        done.set_cookies()
    );
    for sid in [&other_sid, &here_sid] {
        assert!(
            sessions.get(sid).await.unwrap().is_none(),
            "every session ended"
        );
    }
    let notice = w.ctx.mails_to(EMAIL).pop().unwrap();
    assert!(
        !notice.contains("/account/password/reset?token="),
        "the changed notice"
    );

    // Used: the link shows the page with a way to ask again.
    let reused = submit_reset(&mut b, &page, "another new passphrase", false).await;
    reused.assert_error_page(400);
    href(&reused, "/account/password/forgot");
    b.get(&link).await.assert_error_page(400);

    // Back into the app's sign-in: the old password no longer works, the new one does.
    let next = href(&done, &format!("{ISSUER}/oauth/login?request="));
    let login = b.get(next.strip_prefix(ISSUER).unwrap()).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let old = b.submit_login(&login, PASSWORD).await;
    assert_eq!(old.status, 401, "{}", old.body);
    let new = b.submit_login(&old, NEW_PASSWORD).await;
    assert_eq!(new.status, 302, "consent remembered: the code {}", new.body);
    assert_eq!(new.redirect_params()["state"], "st-123");
}

#[tokio::test]
async fn sign_out_all_apps_revokes_every_grant_and_without_it_apps_keep_access() {
    let w = world().await;
    let grants = GrantRepo::new(w.ctx.store());
    let grant = || {
        Grant::new(
            GrantId::generate(),
            w.public.id.clone(),
            w.patient.id.clone(),
            Scopes::parse("openid offline_access").unwrap(),
            now_unix(),
            now_unix() + 3600,
        )
    };
    let (kept, revoked) = (grant(), grant());
    grants
        .create_with_client_check(&kept, ClientCheck::Public)
        .await
        .unwrap();
    let mut b = Browser::new(&w);
    forgot(&mut b, &w, EMAIL).await;
    let page = b.get(&reset_link(&w)).await;
    submit_reset(&mut b, &page, NEW_PASSWORD, false).await;
    assert!(!grants.get(&kept.id).await.unwrap().unwrap().revoked);

    grants
        .create_with_client_check(&revoked, ClientCheck::Public)
        .await
        .unwrap();
    forgot(&mut b, &w, EMAIL).await;
    let page = b.get(&reset_link(&w)).await;
    let done = submit_reset(&mut b, &page, "yet another passphrase", true).await;
    assert_eq!(done.status, 200, "{}", done.body);
    for id in [&kept.id, &revoked.id] {
        assert!(grants.get(id).await.unwrap().unwrap().revoked);
    }
    let email = Email::parse(EMAIL).unwrap();
    let credentials = PatientRepo::new(w.ctx.store())
        .credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert!(credentials.email_verified);
}

/// Someone registers the owner's address first (and cannot verify it); the owner's "forgot
/// password" link must not hand them that account with the squatter's data: it opens the
/// registration form for the address, and the owner's own details replace the unverified account.
#[tokio::test]
async fn a_reset_link_of_a_never_verified_account_registers_the_owner_afresh() {
    const OWNER: &str = "owner@example.org";
    let w = world().await;
    let patients = PatientRepo::new(w.ctx.store());
    let email = Email::parse(OWNER).unwrap();
    let mut squatter = Browser::new(&w);
    let squatter_link = register(&mut squatter, &w, OWNER).await;
    let squatted = patients
        .credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert!(!squatted.email_verified);

    let mut b = Browser::new(&w);
    forgot(&mut b, &w, OWNER).await;
    let link = {
        let mail = w.ctx.mails_to(OWNER).pop().expect("a reset mail");
        link_in(&mail, "/account/password/reset?token=")
    };
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"given_name\""), "{}", page.body);
    assert!(!page.body.contains("name=\"sign_out_apps\""));
    assert!(page.body.contains(OWNER), "the link's address is shown");

    // The plain reset form's answer adopts nothing: the registration form comes back.
    let adopt = submit_reset(&mut b, &page, NEW_PASSWORD, false).await;
    assert_eq!(adopt.status, 200, "{}", adopt.body);
    assert!(adopt.body.contains("name=\"given_name\""), "{}", adopt.body);
    let unchanged = patients.credentials_by_email(&email).await.unwrap();
    assert_eq!(unchanged.as_ref(), Some(&squatted), "nothing adopted");

    let claim = |birthdate: &'static str| {
        vec![
            ("csrf_token", page.hidden("csrf_token")),
            ("token", page.hidden("token")),
            // Ignored: the account is for the link's address.
            ("email", "someone.else@example.org".to_owned()),
            ("password", NEW_PASSWORD.to_owned()),
            ("given_name", "Olga".to_owned()),
            ("family_name", "Owner".to_owned()),
            ("birthdate", birthdate.to_owned()),
            ("phone_number", String::new()),
        ]
    };
    let bad = post_owned(&mut b, "/account/password/reset", &claim("1970-02-30")).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("id=\"birthdate-error\""), "{}", bad.body);
    assert_eq!(
        patients
            .credentials_by_email(&email)
            .await
            .unwrap()
            .as_ref(),
        Some(&squatted)
    );

    let done = post_owned(&mut b, "/account/password/reset", &claim("1970-01-01")).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let owned = patients
        .credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert!(owned.email_verified);
    assert_ne!(owned.patient_id, squatted.patient_id, "a fresh account");
    let profile = patients.get(&owned.patient_id).await.unwrap().unwrap();
    assert_eq!(
        (
            profile.first_name.as_str(),
            profile.last_name.as_str(),
            profile.birth_date.to_string(),
            profile.phone,
            profile.email.as_str(),
        ),
        ("Olga", "Owner", "1970-01-01".to_owned(), None, OWNER),
        "only what the owner entered"
    );
    assert!(
        patients.get(&squatted.patient_id).await.unwrap().is_none(),
        "the squatter's account is gone"
    );

    // Spent: the link, and the squatter's verification link, do nothing more.
    post_owned(&mut b, "/account/password/reset", &claim("1970-01-01"))
        .await
        .assert_error_page(400);
    let shown = squatter.get(&squatter_link).await;
    if shown.status == 200 {
        let verified = squatter
            .post(
                "/account/verify",
                &[
                    ("csrf_token", &shown.hidden("csrf_token")),
                    ("token", &shown.hidden("token")),
                ],
            )
            .await;
        verified.assert_error_page(400);
    }
    let owned_id = owned.patient_id.clone();
    assert_eq!(
        patients.credentials_by_email(&email).await.unwrap(),
        Some(owned)
    );

    // The owner signs in with their password and continues to the app.
    let next = href(&done, &format!("{ISSUER}/oauth/login?request="));
    let login = b.get(next.strip_prefix(ISSUER).unwrap()).await;
    let signed_in = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("email", OWNER),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    let code = open_code(&w, &b.answer_consent(&signed_in, "allow").await);
    assert_eq!(code.patient_id, owned_id.as_str());
    assert_eq!(code.claims.email_verified, Some(true));
}
