//! The sealed authorization request the pages carry: tampered or missing, a page to start again.

use super::*;

#[tokio::test]
async fn a_tampered_or_missing_request_gets_a_400_start_again_page() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b.get(&authorize_path(&w.client, &[])).await;
    let page = b.get(&reply.next_path()).await;
    let sealed = page.hidden("request");
    let mut tampered = sealed.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).unwrap();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for path in [
        format!("/oauth/login?request={}", enc(&tampered)),
        "/oauth/login?request=garbage".to_owned(),
        "/oauth/login".to_owned(),
        format!("/oauth/consent?request={}", enc(&tampered)),
    ] {
        let reply = b.get(&path).await;
        reply.assert_error_page(400);
        assert!(reply.body.contains("start again"), "{}", reply.body);
    }
    let reply = b
        .post(
            "/oauth/login",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &tampered),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    reply.assert_error_page(400);
    // An authorization code is sealed for another purpose: it is not a request.
    let code = w
        .ctx
        .keys()
        .sealer(AuthorizationCode::PURPOSE)
        .seal_json(&json!({}))
        .unwrap();
    b.get(&format!("/oauth/login?request={}", enc(&code)))
        .await
        .assert_error_page(400);
}
