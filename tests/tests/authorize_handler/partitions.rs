//! The authorize function's IAM role may touch only the partitions in `AUTHORIZE_KEY_PREFIXES`
//! and query only the index partitions in `AUTHORIZE_INDEX_PREFIXES` (`dynamodb:LeadingKeys` in
//! `template.yaml`): a whole sign-in life and a whole account life stay inside them.

use shared::repo::{ClientCheck, Grant, GrantId, GrantRepo};
use shared::store::layout::{AUTHORIZE_INDEX_PREFIXES, AUTHORIZE_KEY_PREFIXES};

use super::accounts::{link_in, register};
use super::*;

#[tokio::test]
async fn a_whole_sign_in_life_and_account_life_touch_only_the_partitions_its_role_may_use() {
    let w = world().await;
    let grant = Grant::new(
        GrantId::generate(),
        w.public.id.clone(),
        w.patient.id.clone(),
        Scopes::parse("openid offline_access").unwrap(),
        now_unix(),
        now_unix() + 3600,
    );
    GrantRepo::new(w.ctx.store())
        .create_with_client_check(&grant, ClientCheck::Public)
        .await
        .unwrap();
    w.ctx.counter.take_partitions();
    let mut b = Browser::new(&w);

    // A wrong password (throttle), sign-in, the language switch on the consent page (stored on the
    // account), consent, a silent re-authorization, the passkey sign-in page, and logout by hint.
    let page = b.login_page(&authorize_path(&w.client, &[])).await;
    let refused = b.submit_login(&page, "not the password").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    let after_login = b.submit_login(&refused, PASSWORD).await;
    let consent = b.consent_page(&after_login).await;
    let switched = b
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
    let done = b
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
    let silent = b
        .get(&authorize_path(&w.client, &[("prompt", "none")]))
        .await;
    assert_eq!(silent.status, 302, "{}", silent.body);
    // The passkey sign-in page offers a challenge (stored until it is answered).
    let offered = b.get("/oauth/passkey?return=account").await;
    assert_eq!(offered.status, 200, "{}", offered.body);
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let bye = b
        .get(&format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(LOGOUT_REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(bye.status, 302, "{}", bye.body);

    // The account life: a registration and its verification, then a password reset of the
    // patient that also signs out every app.
    let mut other = Browser::new(&w);
    let link = register(&mut other, &w, "new.patient@example.org").await;
    let shown = other.get(&link).await;
    let verified = other
        .post(
            "/account/verify",
            &[
                ("csrf_token", &shown.hidden("csrf_token")),
                ("token", &shown.hidden("token")),
            ],
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    let forgot = other.get("/account/password/forgot").await;
    let asked = other
        .post(
            "/account/password/forgot",
            &[
                ("csrf_token", &forgot.hidden("csrf_token")),
                ("email", EMAIL),
            ],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let mail = w.ctx.mails_to(EMAIL).pop().unwrap();
    let page = other
        .get(&link_in(&mail, "/account/password/reset?token="))
        .await;
    let reset = other
        .post(
            "/account/password/reset",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("token", &page.hidden("token")),
                ("password", "a brand new passphrase"),
                ("sign_out_apps", "yes"),
            ],
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);

    let touched = w.ctx.counter.take_partitions();
    for prefix in AUTHORIZE_INDEX_PREFIXES {
        assert!(
            touched.iter().any(|pk| pk.starts_with(prefix)),
            "index {prefix} is listed but these lives never queried it: {touched:?}"
        );
    }
    for prefix in AUTHORIZE_KEY_PREFIXES {
        assert!(
            touched.iter().any(|pk| pk.starts_with(prefix)),
            "{prefix} is listed but these lives never touched it: {touched:?}"
        );
    }
    for pk in &touched {
        assert!(
            AUTHORIZE_KEY_PREFIXES
                .iter()
                .chain(&AUTHORIZE_INDEX_PREFIXES)
                .any(|p| pk.starts_with(p)),
            "authorize touched {pk}, which its role may not"
        );
    }
}
