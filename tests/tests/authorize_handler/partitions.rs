//! The authorize function's IAM role may touch only the partitions in `AUTHORIZE_KEY_PREFIXES`
//! (`dynamodb:LeadingKeys` in `template.yaml`): a whole sign-in life stays inside them.

use shared::store::layout::AUTHORIZE_KEY_PREFIXES;

use super::*;

#[tokio::test]
async fn a_whole_sign_in_life_touches_only_the_partitions_its_role_may_use() {
    let w = world().await;
    w.ctx.counter.take_partitions();
    let mut b = Browser::new(&w);

    // A wrong password (throttle), sign-in, the language switch on the consent page (stored on the
    // account), consent, a silent re-authorization, and logout by hint.
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
    let hint = id_token(&w, w.client.id.as_str(), 300);
    let bye = b
        .get(&format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            url::form_urlencoded::byte_serialize(LOGOUT_REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(bye.status, 302, "{}", bye.body);

    let touched = w.ctx.counter.take_partitions();
    for prefix in AUTHORIZE_KEY_PREFIXES {
        assert!(
            touched.iter().any(|pk| pk.starts_with(prefix)),
            "{prefix} is listed but this life never touched it: {touched:?}"
        );
    }
    for pk in &touched {
        assert!(
            AUTHORIZE_KEY_PREFIXES.iter().any(|p| pk.starts_with(p)),
            "authorize touched {pk}, which its role may not"
        );
    }
}
