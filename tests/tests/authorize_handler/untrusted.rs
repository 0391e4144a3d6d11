//! Requests that cannot be trusted (unknown client, unregistered redirect URI): a page, never a
//! redirect.

use super::*;

#[tokio::test]
async fn an_unknown_or_missing_client_gets_a_400_page_and_no_redirect() {
    let w = world().await;
    for path in [
        "/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid",
        "/oauth/authorize?response_type=code&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid",
        "/oauth/authorize?response_type=code&client_id=bad%20id%3C&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
    ] {
        let reply = send(&w.app, Event::get(path)).await;
        reply.assert_error_page(400);
        assert!(reply.body.contains("not registered"), "{}", reply.body);
    }
    let repeated = format!(
        "/oauth/authorize?response_type=code&client_id={0}&client_id={0}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid",
        w.client.id
    );
    send(&w.app, Event::get(&repeated))
        .await
        .assert_error_page(400);
}

#[tokio::test]
async fn an_unregistered_missing_or_slightly_different_redirect_uri_gets_a_400_page() {
    let w = world().await;
    for redirect in [
        "https://evil.example/cb",
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://APP.example/cb",
        "",
    ] {
        let reply = send(
            &w.app,
            Event::get(&authorize_path(&w.client, &[("redirect_uri", redirect)])),
        )
        .await;
        reply.assert_error_page(400);
        assert!(
            reply.body.contains("redirect_uri"),
            "{redirect}: {}",
            reply.body
        );
    }
    let twice = format!(
        "{}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
        authorize_path(&w.client, &[])
    );
    send(&w.app, Event::get(&twice))
        .await
        .assert_error_page(400);
}
