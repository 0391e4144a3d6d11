//! Login: one message for every failure, CSRF, throttling.

use shared::i18n::catalog::message;
use shared::i18n::Locale;
use shared::pages::{BAD_CREDENTIALS, MISSING_CREDENTIALS, TOO_MANY_ATTEMPTS};

use super::*;

/// The English text of catalog message `id` (pages answer in English without other preferences).
fn english(id: &str) -> String {
    message(Locale::ENGLISH, id, &[])
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_identical_answer() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let (csrf, request) = (page.hidden("csrf_token"), page.hidden("request"));
    let attempt = |email: &'static str, password: &'static str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("request", request.clone()),
            ("email", email.to_owned()),
            ("password", password.to_owned()),
        ]
    };
    let mut replies = Vec::new();
    for (email, password) in [(EMAIL, "wrong password!"), ("nobody@example.org", PASSWORD)] {
        let form = attempt(email, password);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = b.post("/oauth/login", &form).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        assert!(reply.body.contains(&english(BAD_CREDENTIALS)));
        assert!(
            reply
                .body
                .contains(&format!(r#"name="email" value="{email}""#)),
            "the email is kept"
        );
        assert!(reply
            .set_cookies()
            .iter()
            .all(|c| !c.starts_with("portal_session")));
        replies.push(reply.body.replace(email, "EMAIL"));
    }
    assert_eq!(
        replies[0], replies[1],
        "the two pages differ only by the typed email"
    );
}

#[tokio::test]
async fn a_login_without_a_matching_csrf_token_is_forbidden() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let request = page.hidden("request");
    let other = shared::oauth::csrf::new_token();
    for csrf in ["", other.as_str()] {
        let reply = b
            .post(
                "/oauth/login",
                &[
                    ("csrf_token", csrf),
                    ("request", &request),
                    ("email", EMAIL),
                    ("password", PASSWORD),
                ],
            )
            .await;
        reply.assert_error_page(403);
        assert!(reply
            .set_cookies()
            .iter()
            .all(|c| !c.starts_with("portal_session")));
    }
    // The right field but no cookie (a cross-site form cannot set it).
    let reply = send(
        &w.app,
        Event::post("/oauth/login").form(&[
            ("csrf_token", &page.hidden("csrf_token")),
            ("request", &request),
            ("email", EMAIL),
            ("password", PASSWORD),
        ]),
    )
    .await;
    reply.assert_error_page(403);
}

#[tokio::test]
async fn a_consent_without_a_matching_csrf_token_is_forbidden() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let page = b.get(&after_login.next_path()).await;
    let reply = b
        .post(
            "/oauth/consent",
            &[
                ("csrf_token", &shared::oauth::csrf::new_token()),
                ("request", &page.hidden("request")),
                ("decision", "allow"),
            ],
        )
        .await;
    reply.assert_error_page(403);
    let reply = b
        .post(
            "/oauth/consent",
            &[("request", &page.hidden("request")), ("decision", "allow")],
        )
        .await;
    reply.assert_error_page(403);
}

/// Five failed sign-ins with `email`, then a sixth with `password`: the sixth reply.
async fn sixth_attempt(b: &mut Browser<'_>, client: &Client, email: &str, password: &str) -> Reply {
    let reply = b.get(&authorize_path(client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let (csrf, request) = (page.hidden("csrf_token"), page.hidden("request"));
    for attempt in 1..=6 {
        let typed = if attempt == 6 {
            password
        } else {
            "not the password"
        };
        let form = [
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("email", email),
            ("password", typed),
        ];
        let reply = b.post("/oauth/login", &form).await;
        if attempt == 6 {
            return reply;
        }
        assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
    }
    unreachable!()
}

#[tokio::test]
async fn after_five_failures_even_the_right_password_is_throttled() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = sixth_attempt(&mut b, &w.client, EMAIL, PASSWORD).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert!(reply.body.contains(&english(TOO_MANY_ATTEMPTS)));
    assert!(!reply.body.contains(&english(BAD_CREDENTIALS)));
    assert!(reply.headers.contains_key("retry-after"));
    assert!(reply
        .set_cookies()
        .iter()
        .all(|c| !c.starts_with("portal_session")));

    // An account that does not exist locks the same way, with the same page: lockout does not
    // reveal which accounts exist.
    let ghost = "ghost@example.org";
    let mut other = Browser::new(&w);
    let ghost_reply = sixth_attempt(&mut other, &w.client, ghost, PASSWORD).await;
    assert_eq!(ghost_reply.status, 429);
    let strip = |body: &str, email: &str, r: &Reply| {
        body.replace(email, "EMAIL")
            .replace(&r.hidden("csrf_token"), "CSRF")
            .replace(&r.hidden("request"), "REQUEST")
    };
    assert_eq!(
        strip(&reply.body, EMAIL, &reply),
        strip(&ghost_reply.body, ghost, &ghost_reply)
    );
}

#[tokio::test]
async fn an_empty_login_form_asks_for_both_fields() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let reply = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains(&english(MISSING_CREDENTIALS)));
}
