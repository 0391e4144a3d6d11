//! The token function's IAM role may touch only the partitions in `TOKEN_KEY_PREFIXES`
//! (`dynamodb:LeadingKeys` in `template.yaml`): a whole token life stays inside them.

use shared::store::layout::TOKEN_KEY_PREFIXES;

use super::*;

#[tokio::test]
async fn a_whole_token_life_touches_only_the_partitions_its_role_may_use() {
    let f = fixture().await;
    f.ctx.counter.take_partitions();

    // Exchange, refresh, reuse of a rotated refresh token (reuse detection), a code replay.
    let code = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let first = f.exchange(&code).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let second = f.refresh(&first.str("refresh_token"), None).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(
        f.refresh(&first.str("refresh_token"), None).await.status,
        400
    );
    assert_eq!(f.exchange(&code).await.status, 400);

    // Introspection and revocation of both kinds of token; a failed client authentication.
    let third = f.tokens(FULL_SCOPE).await;
    f.introspect(&third.str("access_token")).await;
    f.introspect(&third.str("refresh_token")).await;
    assert_eq!(f.revoke(&third.str("access_token"), None).await.status, 200);
    assert_eq!(
        f.revoke(&third.str("refresh_token"), None).await.status,
        200
    );
    let wrong = basic(f.confidential.id.as_str(), "not-the-secret");
    let refused = post(&f.app, "/oauth/introspect", &[("token", "x")], Some(&wrong)).await;
    assert_eq!(refused.status, 401);

    let touched = f.ctx.counter.take_partitions();
    for prefix in TOKEN_KEY_PREFIXES {
        assert!(
            touched.iter().any(|pk| pk.starts_with(prefix)),
            "{prefix} is listed but this life never touched it: {touched:?}"
        );
    }
    for pk in &touched {
        assert!(
            TOKEN_KEY_PREFIXES.iter().any(|p| pk.starts_with(p)),
            "token touched {pk}, which its role may not"
        );
    }
}
