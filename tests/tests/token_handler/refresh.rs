//! Refresh-token rotation (RFC 9700 §4.14): scope narrowing, reuse detection, stolen tokens and
//! concurrent redemptions.

use shared::oauth::access::IdTokenClaims;

use super::*;

#[tokio::test]
async fn a_refresh_rotates_the_token_in_exactly_one_round_trip() {
    let f = fixture().await;
    let first = f.tokens(FULL_SCOPE).await;
    let old = first.str("refresh_token");
    f.ctx.counter.take();
    let second = f.refresh(&old, None).await;
    assert_eq!(f.ctx.counter.take(), 1, "a refresh is one round trip");
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["scope"], FULL_SCOPE);
    let newer = second.str("refresh_token");
    assert_ne!(newer, old);
    let claims = f.access_claims(&second.str("access_token"));
    assert_eq!(claims.gid, f.access_claims(&first.str("access_token")).gid);
    let id: IdTokenClaims = jwt::verify(
        &f.ctx.keys(),
        &second.str("id_token"),
        jwt::TYP_ID_TOKEN,
        &f.issuer(),
        f.confidential.id.as_str(),
    )
    .unwrap();
    assert!(id.nonce.is_none(), "no nonce on refresh");
    assert_eq!(id.at_hash, jwt::at_hash(&second.str("access_token")));
    // The new token works in turn; the old one introspects inactive.
    assert_eq!(f.introspect(&old).await.body["active"], false);
    let introspected = f.introspect(&newer).await;
    assert_eq!(introspected.body["active"], true);
    assert_eq!(introspected.body["token_type"], "refresh_token");
    assert_eq!(f.refresh(&newer, None).await.status, 200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_is_invalid_grant_and_revokes_the_newest_token() {
    let f = fixture().await;
    let first = f.tokens(FULL_SCOPE).await;
    let old = first.str("refresh_token");
    let second = f.refresh(&old, None).await;
    assert_eq!(second.status, 200);
    let newest = second.str("refresh_token");
    let newest_access = second.str("access_token");

    let replay = f.refresh(&old, None).await;
    assert_eq!(
        (replay.status.as_u16(), replay.error()),
        (400, "invalid_grant")
    );
    let after = f.refresh(&newest, None).await;
    assert_eq!(
        (after.status.as_u16(), after.error()),
        (400, "invalid_grant")
    );
    assert_eq!(f.introspect(&newest).await.body["active"], false);
    assert_eq!(f.introspect(&newest_access).await.body["active"], false);
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let f = fixture().await;
    let first = f.tokens(FULL_SCOPE).await;
    let narrow = f
        .refresh(&first.str("refresh_token"), Some("profile_read"))
        .await;
    assert_eq!(narrow.status, 200, "{:?}", narrow.body);
    assert_eq!(narrow.body["scope"], "profile_read");
    assert!(
        narrow.body.get("id_token").is_none(),
        "no openid, no id_token"
    );
    assert_eq!(
        f.access_claims(&narrow.str("access_token")).scope,
        "profile_read"
    );
    // The new refresh token keeps the grant's scope (RFC 6749 §6).
    let full_again = f.refresh(&narrow.str("refresh_token"), None).await;
    assert_eq!(full_again.body["scope"], FULL_SCOPE);

    for scope in ["appointment_write", "profile_read admin"] {
        let wider = f
            .refresh(&full_again.str("refresh_token"), Some(scope))
            .await;
        assert_eq!(
            (wider.status.as_u16(), wider.error()),
            (400, "invalid_scope"),
            "{scope}"
        );
    }
    // Refused scopes did not use the token up.
    assert_eq!(
        f.refresh(&full_again.str("refresh_token"), None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_refresh_token_of_another_client_or_a_forged_one_is_invalid_grant() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let stolen = post(
        &f.app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
        Some(&basic(f.other.id.as_str(), &f.other_secret)),
    )
    .await;
    assert_eq!(
        (stolen.status.as_u16(), stolen.error()),
        (400, "invalid_grant")
    );
    let as_code = f.exchange(&refresh_token).await;
    assert_eq!(as_code.error(), "invalid_grant");
    let access_as_refresh = f.refresh(&tokens.str("access_token"), None).await;
    assert_eq!(access_as_refresh.error(), "invalid_grant");
    // None of that touched the legitimate token.
    assert_eq!(f.refresh(&refresh_token, None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_redemptions_of_one_code_give_exactly_one_200() {
    let f = Arc::new(fixture().await);
    let sealed = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let f = f.clone();
            let sealed = sealed.clone();
            tokio::spawn(async move { f.exchange(&sealed).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status.as_u16() {
            200 => ok += 1,
            400 => assert_eq!(reply.error(), "invalid_grant"),
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!(ok, 1, "exactly one redemption wins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_refreshes_of_one_token_give_at_most_one_200_and_no_5xx() {
    let f = Arc::new(fixture().await);
    let refresh_token = f.tokens(FULL_SCOPE).await.str("refresh_token");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let f = f.clone();
            let token = refresh_token.clone();
            tokio::spawn(async move { f.refresh(&token, None).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        assert!(reply.status.as_u16() < 500, "{:?}", reply.body);
        match reply.status.as_u16() {
            200 => ok += 1,
            _ => assert_eq!(reply.error(), "invalid_grant"),
        }
    }
    assert!(ok <= 1, "{ok} refreshes succeeded");
}
