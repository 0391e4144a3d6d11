//! Re-authentication: `max_age=0`, `prompt=login`, consent without a session.

use super::*;

#[tokio::test]
async fn max_age_zero_forces_a_new_sign_in() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    // The session is at least a second old before asking again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let path = authorize_path(&w.client, &[("max_age", "0")]);
    let reply = b.get(&path).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/login");
    let after = b.sign_in(&path, PASSWORD).await;
    assert_eq!(
        after.status, 302,
        "a fresh sign-in satisfies max_age=0: {}",
        after.body
    );
    assert!(after.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn prompt_login_forces_a_new_sign_in() {
    let w = world().await;
    let mut b = Browser::new(&w);
    b.authorize_fully(&authorize_path(&w.client, &[])).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let path = authorize_path(&w.client, &[("prompt", "login")]);
    let after = b.sign_in(&path, PASSWORD).await;
    assert_eq!(after.status, 302, "{}", after.body);
    let code = open_code(&w, &after);
    assert!(
        code.auth_time >= now_unix() - 1,
        "auth_time is the new sign-in"
    );
}

#[tokio::test]
async fn the_consent_page_sends_a_patient_who_is_not_signed_in_to_login() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let after_login = b.sign_in(&authorize_path(&w.client, &[]), PASSWORD).await;
    let consent_path = after_login.next_path();
    let reply = send(&w.app, Event::get(&consent_path)).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.location().path(), "/oauth/login");
}
