//! The account pages: registration, verification (and its link sent again), the unverified
//! sign-in, and registration turned off. The mails are read from the outbox folder, as a
//! developer reads them under `make run`.

use shared::domain::patient::Email;
use shared::repo::PatientRepo;
use testkit::forms::decode_entities;
use testkit::TestContext;

use super::*;

const NEW_EMAIL: &str = "new.patient@example.org";
const NEW_PASSWORD: &str = "a long and unusual passphrase";

/// Path and query of the first link to `path` in a mail.
pub(super) fn link_in(mail: &str, path: &str) -> String {
    let needle = format!("{ISSUER}{path}");
    let start = mail
        .find(&needle)
        .unwrap_or_else(|| panic!("no link to {path} in {mail}"))
        + ISSUER.len();
    let end = mail[start..]
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .map_or(mail.len(), |n| start + n);
    decode_entities(&mail[start..end])
}

/// The `href` of the first link to `path` on a page.
pub(super) fn href(page: &Reply, path: &str) -> String {
    let needle = format!("href=\"{path}");
    let start = page
        .body
        .find(&needle)
        .unwrap_or_else(|| panic!("no link to {path}: {}", page.body))
        + "href=\"".len();
    let end = start + page.body[start..].find('"').unwrap();
    decode_entities(&page.body[start..end])
}

/// The registration form's fields for `email`.
fn registration<'a>(page: &'a Reply, email: &'a str, request: &'a str) -> Vec<(&'a str, String)> {
    vec![
        ("csrf_token", page.hidden("csrf_token")),
        ("request", request.to_owned()),
        ("email", email.to_owned()),
        ("password", NEW_PASSWORD.to_owned()),
        ("given_name", "Nina".to_owned()),
        ("family_name", "Neu".to_owned()),
        ("birthdate", "1990-04-01".to_owned()),
        ("phone_number", String::new()),
    ]
}

pub(super) async fn post_owned(b: &mut Browser<'_>, path: &str, form: &[(&str, String)]) -> Reply {
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &form).await
}

/// From the app's authorization request through the login page's link to the registration
/// form: the form and the sealed request it carries.
pub(super) async fn registration_page(b: &mut Browser<'_>, w: &World) -> (Reply, String) {
    let login = b.login_page(&authorize_path(&w.client, &[])).await;
    let link = href(&login, "/account/register");
    let page = b.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let request = page.hidden("request");
    assert_eq!(
        request,
        login.hidden("request"),
        "the sign-in survives the detour"
    );
    (page, request)
}

/// Registers `email` from the app's sign-in; returns the verification link (path and query).
pub(super) async fn register(b: &mut Browser<'_>, w: &World, email: &str) -> String {
    let (page, request) = registration_page(b, w).await;
    let done = post_owned(
        b,
        "/account/register",
        &registration(&page, email, &request),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let mail = w.ctx.mails_to(email).pop().expect("a verification mail");
    link_in(&mail, "/account/verify?token=")
}

#[tokio::test]
async fn a_registered_patient_verifies_by_post_only_and_continues_to_the_app() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let link = register(&mut b, &w, NEW_EMAIL).await;
    let mail = w.ctx.mails_to(NEW_EMAIL).pop().unwrap();
    assert!(mail.contains("Content-Language: en"), "{mail}");
    let patients = PatientRepo::new(w.ctx.store());
    let email = Email::parse(NEW_EMAIL).unwrap();
    let stored = patients
        .credentials_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.email_verified);

    // Not verified yet: the password is right, but no session and no code.
    let login = b.login_page(&authorize_path(&w.client, &[])).await;
    let refused = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("email", NEW_EMAIL),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(
        refused.body.contains("action=\"/account/verify/resend\""),
        "{}",
        refused.body
    );
    assert!(
        b.session_cookie().is_none(),
        "no session before verification"
    );

    // A GET (a mail scanner) shows the button and changes nothing.
    let shown = b.get(&link).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.body.contains(NEW_EMAIL));
    assert!(
        !patients
            .credentials_by_email(&email)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );

    let token = shown.hidden("token");
    let form = [
        ("csrf_token", shown.hidden("csrf_token")),
        ("token", token.clone()),
    ];
    let forged = b
        .post(
            "/account/verify",
            &[("token", &token), ("csrf_token", "forged")],
        )
        .await;
    forged.assert_error_page(403);
    let verified = post_owned(&mut b, "/account/verify", &form).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert!(
        patients
            .credentials_by_email(&email)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    let again = post_owned(&mut b, "/account/verify", &form).await;
    assert_eq!(again.status, 200, "a second use finds the address verified");

    // The link back into the app's sign-in: sign in, allow, and the code says verified.
    let next = href(&verified, &format!("{ISSUER}/oauth/login?request="));
    let next = next.strip_prefix(ISSUER).unwrap();
    let login = b.get(next).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let signed_in = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &login.hidden("csrf_token")),
                ("request", &login.hidden("request")),
                ("email", NEW_EMAIL),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;
    let done = b.answer_consent(&signed_in, "allow").await;
    let code = open_code(&w, &done);
    assert_eq!(code.patient_id, stored.patient_id.as_str());
    assert_eq!(code.claims.email_verified, Some(true));
    assert_eq!(done.redirect_params()["state"], "st-123");
}

#[tokio::test]
async fn a_taken_address_gets_the_same_answer_and_its_owner_a_notice() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let (page, request) = registration_page(&mut b, &w).await;
    let new = post_owned(
        &mut b,
        "/account/register",
        &registration(&page, NEW_EMAIL, &request),
    )
    .await;
    let taken = post_owned(
        &mut b,
        "/account/register",
        &registration(&page, &EMAIL.to_uppercase(), &request),
    )
    .await;
    assert_eq!((new.status, &new.body), (taken.status, &taken.body));
    let notices = w.ctx.mails_to(EMAIL);
    assert_eq!(notices.len(), 1, "the owner is told");
    assert!(
        notices[0].contains("/account/password/forgot"),
        "{}",
        notices[0]
    );
    assert!(
        !notices[0].contains("/account/verify"),
        "no verification link"
    );
    let patients = PatientRepo::new(w.ctx.store());
    let owner = patients
        .credentials_by_email(&Email::parse(EMAIL).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.patient_id, w.patient.id, "the account is untouched");
}

#[tokio::test]
async fn a_bad_form_is_shown_again_with_every_problem_and_nothing_is_stored() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let (page, request) = registration_page(&mut b, &w).await;
    let mut form = registration(&page, "not an address", &request);
    for (name, value) in form.iter_mut() {
        match *name {
            "password" => *value = "password123".into(),
            "birthdate" => *value = "2999-01-01".into(),
            "phone_number" => *value = "12".into(),
            _ => {}
        }
    }
    let refused = post_owned(&mut b, "/account/register", &form).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    for id in [
        "email-error",
        "password-error",
        "birthdate-error",
        "phone_number-error",
    ] {
        assert!(
            refused
                .body
                .contains(&format!("role=\"alert\" id=\"{id}\"")),
            "{id}: {}",
            refused.body
        );
    }
    assert!(refused.body.contains("value=\"Nina\""), "typed values stay");
    assert!(!refused.body.contains("password123"), "never the password");
    assert_eq!(refused.hidden("request"), request);
    assert!(w.ctx.outbox_mails().is_empty());

    let no_csrf: Vec<_> = registration(&page, NEW_EMAIL, &request)
        .into_iter()
        .filter(|(name, _)| *name != "csrf_token")
        .collect();
    post_owned(&mut b, "/account/register", &no_csrf)
        .await
        .assert_error_page(403);
    assert!(PatientRepo::new(w.ctx.store())
        .credentials_by_email(&Email::parse(NEW_EMAIL).unwrap())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn registrations_for_one_address_are_throttled() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let (page, request) = registration_page(&mut b, &w).await;
    let form = registration(&page, NEW_EMAIL, &request);
    for _ in 0..3 {
        let reply = post_owned(&mut b, "/account/register", &form).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let throttled = post_owned(&mut b, "/account/register", &form).await;
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert!(throttled.body.contains("role=\"alert\""));
}

#[tokio::test]
async fn the_verification_link_is_sent_again_only_to_unverified_accounts() {
    let w = world().await;
    let mut b = Browser::new(&w);
    register(&mut b, &w, NEW_EMAIL).await;
    let form_page = b.get("/account/verify/resend").await;
    assert_eq!(form_page.status, 200, "{}", form_page.body);
    let ask = |email: &'static str| {
        vec![
            ("csrf_token", form_page.hidden("csrf_token")),
            ("email", email.to_owned()),
        ]
    };
    let unverified = post_owned(&mut b, "/account/verify/resend", &ask(NEW_EMAIL)).await;
    let verified = post_owned(&mut b, "/account/verify/resend", &ask(EMAIL)).await;
    let unknown = post_owned(&mut b, "/account/verify/resend", &ask("nobody@example.org")).await;
    assert_eq!(unverified.status, 200, "{}", unverified.body);
    assert_eq!(
        (&verified.status, &verified.body),
        (&unknown.status, &unknown.body)
    );
    assert_eq!(
        (&unverified.status, &unverified.body),
        (&unknown.status, &unknown.body)
    );
    assert_eq!(
        w.ctx.mails_to(NEW_EMAIL).len(),
        2,
        "registration and the new link"
    );
    assert!(w.ctx.mails_to(EMAIL).is_empty());
    assert!(w.ctx.mails_to("nobody@example.org").is_empty());
    let bad = post_owned(&mut b, "/account/verify/resend", &ask("not an address")).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[tokio::test]
async fn a_forged_link_shows_a_way_to_ask_again() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let verify = b.get("/account/verify?token=forged").await;
    verify.assert_error_page(400);
    assert_eq!(
        href(&verify, "/account/verify/resend"),
        "/account/verify/resend"
    );
    let reset = b.get("/account/password/reset?token=").await;
    reset.assert_error_page(400);
    assert_eq!(
        href(&reset, "/account/password/forgot"),
        "/account/password/forgot"
    );
}

#[tokio::test]
async fn turned_off_registration_is_404_and_the_login_page_does_not_offer_it() {
    let ctx = TestContext::with_env(&[("PORTAL_SELF_REGISTRATION", "off")]);
    let w = world_with(ctx, None).await;
    let mut b = Browser::new(&w);
    let login = b.login_page(&authorize_path(&w.client, &[])).await;
    assert!(!login.body.contains("/account/register"), "{}", login.body);
    assert!(login.body.contains("/account/password/forgot"));
    assert_eq!(b.get("/account/register").await.status, 404);
    assert_eq!(
        b.post("/account/register", &[("email", NEW_EMAIL)])
            .await
            .status,
        404
    );
}
