//! Security headers and cookies (`__Host-` over https).

use super::*;

#[tokio::test]
async fn pages_carry_the_security_headers_and_no_cors_headers() {
    let w = world().await;
    let mut b = Browser::new(&w);
    let reply = b
        .send(Event::get(&authorize_path(&w.client, &[])).header("origin", "https://evil.example"))
        .await;
    let login = b
        .send(Event::get(&reply.next_path()).header("origin", "https://evil.example"))
        .await;
    let error = send(
        &w.app,
        Event::get("/oauth/authorize?client_id=nobody").header("origin", "https://evil.example"),
    )
    .await;
    for page in [&login, &error] {
        let h = &page.headers;
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-frame-options"], "DENY");
    }
    for reply in [&reply, &login, &error] {
        assert!(
            reply
                .headers
                .keys()
                .all(|k| !k.as_str().starts_with("access-control-")),
            "{:?}",
            reply.headers
        );
    }
}

#[tokio::test]
async fn over_https_the_cookies_are_host_prefixed_and_secure() {
    let ctx = TestContext::new();
    let data_dir = ctx.dir.path().display().to_string();
    let config = Config::from_lookup(|name| match name {
        "PORTAL_DATA_DIR" => Some(data_dir.clone()),
        "PORTAL_ISSUER" => Some("https://portal.example".to_owned()),
        _ => None,
    })
    .unwrap();
    let w = world_with(ctx, Some(config)).await;
    let reply = send(&w.app, Event::get(&authorize_path(&w.client, &[]))).await;
    let location = reply.location();
    assert!(location
        .as_str()
        .starts_with("https://portal.example/oauth/login?request="));
    let path = format!("{}?{}", location.path(), location.query().unwrap());
    let page = send(&w.app, Event::get(&path)).await;
    let csrf = page.set_cookies().into_iter().next().unwrap();
    assert!(
        csrf.starts_with("__Host-portal_csrf=") && csrf.contains("; Secure"),
        "{csrf}"
    );
    let token = page.hidden("csrf_token");
    let after = send(
        &w.app,
        Event::post("/oauth/login")
            .cookie("__Host-portal_csrf", &token)
            .form(&[
                ("csrf_token", &token),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
                ("password", PASSWORD),
            ]),
    )
    .await;
    assert_eq!(after.status, 303, "{}", after.body);
    let session = after
        .set_cookies()
        .into_iter()
        .find(|c| c.contains("portal_session"))
        .unwrap();
    assert!(session.starts_with("__Host-portal_session="), "{session}");
    assert!(
        session.contains("; Secure") && session.contains("HttpOnly") && session.contains("Path=/")
    );
    // The development cookie name means nothing over https.
    let dev = send(
        &w.app,
        Event::post("/oauth/login")
            .cookie("portal_csrf", &token)
            .form(&[
                ("csrf_token", &token),
                ("request", &page.hidden("request")),
                ("email", EMAIL),
                ("password", PASSWORD),
            ]),
    )
    .await;
    dev.assert_error_page(403);
}
