//! Client authentication comes first: a client that does not authenticate gets `401
//! invalid_client` whatever else is wrong with its request, so only an authenticated client learns
//! whether a code or refresh token is good. The happy path stays one round trip; refusals before the
//! transaction pay one read of the client.

use super::*;

/// A token request: its form and its `Authorization` header.
struct Request {
    form: Vec<(&'static str, String)>,
    auth: Option<String>,
}

fn request(form: &[(&'static str, &str)], auth: Option<&str>) -> Request {
    Request {
        form: form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        auth: auth.map(str::to_owned),
    }
}

async fn send_request(f: &Fixture, request: &Request) -> Reply {
    let form: Vec<(&str, &str)> = request.form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(&f.app, "/oauth/token", &form, request.auth.as_deref()).await
}

fn assert_invalid_client(reply: &Reply, what: &str) {
    assert_eq!(
        (reply.status.as_u16(), reply.error()),
        (401, "invalid_client"),
        "{what}: {:?}",
        reply.body
    );
    assert!(
        reply.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm="),
        "{what}"
    );
    let text = reply.body.to_string();
    for leak in ["code", "refresh", "grant", "verifier", "redirect_uri"] {
        assert!(
            !text.contains(leak),
            "{what}: the answer mentions {leak}: {text}"
        );
    }
}

/// An authorization code request's form.
fn code<'a>(code: &'a str, verifier: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn a_client_that_fails_authentication_never_learns_what_else_is_wrong() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh = tokens.str("refresh_token");
    let expired = f.seal(&AuthorizationCode {
        expires_at: shared::store::now_unix() - 1,
        ..f.code(&f.confidential, "openid", Some(CHALLENGE))
    });
    let others_code = f.seal(&f.code(&f.other, "openid", Some(CHALLENGE)));
    let good_code = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    let wrong = basic(f.confidential.id.as_str(), "not-the-secret");
    let wrong = Some(wrong.as_str());
    let unknown = basic("no-such-client", "whatever");
    let unknown = Some(unknown.as_str());
    let public_with_secret = basic(f.public.id.as_str(), "a-secret-it-does-not-have");
    let confidential_id = f.confidential.id.as_str();
    let public_id = f.public.id.as_str();
    let bad_verifier = "x".repeat(43);
    let code_by_id = |id: &str| {
        request(
            &[
                ("grant_type", "authorization_code"),
                ("code", "bogus"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", id),
            ],
            None,
        )
    };
    let cases = [
        (
            "wrong secret + bogus code",
            request(&code("bogus", VERIFIER), wrong),
        ),
        (
            "wrong secret + expired code",
            request(&code(&expired, VERIFIER), wrong),
        ),
        (
            "wrong secret + another client's code",
            request(&code(&others_code, VERIFIER), wrong),
        ),
        (
            "wrong secret + wrong PKCE verifier",
            request(&code(&good_code, &bad_verifier), wrong),
        ),
        (
            "wrong secret + missing code",
            request(&[("grant_type", "authorization_code")], wrong),
        ),
        (
            "wrong secret + unsupported grant type",
            request(&[("grant_type", "password")], wrong),
        ),
        (
            "wrong secret + no grant type",
            request(&[("code", "bogus")], wrong),
        ),
        (
            "unknown client + bogus refresh token",
            request(
                &[("grant_type", "refresh_token"), ("refresh_token", "bogus")],
                unknown,
            ),
        ),
        (
            "unknown client + another client's refresh token",
            request(
                &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
                unknown,
            ),
        ),
        (
            "wrong secret + refresh token widening its scope",
            request(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh),
                    ("scope", "openid appointment_write"),
                ],
                wrong,
            ),
        ),
        (
            "confidential client without its secret + bogus code",
            code_by_id(confidential_id),
        ),
        (
            "confidential client without its secret + bogus refresh token",
            request(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "bogus"),
                    ("client_id", confidential_id),
                ],
                None,
            ),
        ),
        (
            "public client presenting a secret + bogus code",
            request(&code("bogus", VERIFIER), Some(&public_with_secret)),
        ),
        (
            "public client presenting a secret in the body + bogus refresh token",
            request(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "bogus"),
                    ("client_id", public_id),
                    ("client_secret", "x"),
                ],
                None,
            ),
        ),
    ];
    for (what, request) in &cases {
        f.ctx.counter.take();
        let reply = send_request(&f, request).await;
        assert_invalid_client(&reply, what);
        assert!(
            f.ctx.counter.take() <= 1,
            "{what}: a refusal costs at most one read"
        );
    }
    // None of the refused requests burnt the good code or the refresh token.
    assert_eq!(f.exchange(&good_code).await.status, 200);
    assert_eq!(f.refresh(&refresh, None).await.status, 200);
}

#[tokio::test]
async fn an_authenticated_client_hears_what_is_wrong_with_its_grant() {
    let f = fixture().await;
    // The confidential client with its secret, and the public client with its id alone (a
    // secret-less request is how a public client authenticates).
    let public_id = f.public.id.as_str();
    let basic = f.basic();
    let cases = [
        (
            "confidential + bogus code",
            request(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "bogus"),
                    ("redirect_uri", REDIRECT),
                ],
                Some(&basic),
            ),
            "invalid_grant",
        ),
        (
            "public + bogus code",
            request(
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "bogus"),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                    ("client_id", public_id),
                ],
                None,
            ),
            "invalid_grant",
        ),
        (
            "public + bogus refresh token",
            request(
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "bogus"),
                    ("client_id", public_id),
                ],
                None,
            ),
            "invalid_grant",
        ),
        (
            "public + unsupported grant type",
            request(
                &[("grant_type", "password"), ("client_id", public_id)],
                None,
            ),
            "unsupported_grant_type",
        ),
    ];
    for (what, request, expected) in &cases {
        f.ctx.counter.take();
        let reply = send_request(&f, request).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (400, *expected),
            "{what}: {:?}",
            reply.body
        );
        assert_eq!(f.ctx.counter.take(), 1, "{what}: one read of the client");
    }
}

#[tokio::test]
async fn refusals_by_the_transaction_need_no_second_look_at_the_client() {
    let f = fixture().await;
    let sealed = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    f.ctx.counter.take();
    let wrong = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &sealed),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some(&basic(f.confidential.id.as_str(), "not-the-secret")),
    )
    .await;
    assert_invalid_client(&wrong, "wrong secret + good code");
    assert_eq!(f.ctx.counter.take(), 1, "the transaction alone refused it");
    assert_eq!(f.exchange(&sealed).await.status, 200);
    assert_eq!(f.ctx.counter.take(), 1, "the exchange is one round trip");
}

#[tokio::test]
async fn introspection_is_for_clients_with_a_secret_only() {
    let f = fixture().await;
    let code = f.seal(&f.code(&f.public, "openid offline_access", Some(CHALLENGE)));
    let public_id = f.public.id.as_str();
    let tokens = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", public_id),
        ],
        None,
    )
    .await;
    assert_eq!(tokens.status, 200, "{:?}", tokens.body);
    f.ctx.counter.take();
    for token in [tokens.str("access_token"), tokens.str("refresh_token")] {
        for auth in [None, Some(basic(public_id, ""))] {
            let mut form = vec![("token", token.as_str())];
            if auth.is_none() {
                form.push(("client_id", public_id));
            }
            let reply = post(&f.app, "/oauth/introspect", &form, auth.as_deref()).await;
            assert_eq!(
                (reply.status.as_u16(), reply.error()),
                (401, "invalid_client"),
                "{:?}",
                reply.body
            );
            assert!(reply.headers.contains_key("www-authenticate"));
            assert!(reply.body.get("active").is_none());
        }
    }
    assert_eq!(f.ctx.counter.take(), 0, "refused without a read");
    // A confidential client still introspects its own tokens.
    let own = f.tokens("openid").await;
    assert_eq!(
        f.introspect(&own.str("access_token")).await.body["active"],
        true
    );
}
