//! An unavailable store is a 503, never a 500; the round trips each path costs.

use std::future::Future;
use std::pin::Pin;

use shared::store::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};

use super::*;

/// A store that is down: every call fails as an unreachable DynamoDB would.
struct DownStore;

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

fn down<'a, T: 'a>() -> Fut<'a, T> {
    Box::pin(async { Err(StoreError::Unavailable("connection refused".into())) })
}

impl Store for DownStore {
    fn get<'l0, 'l1, 'at>(&'l0 self, _key: &'l1 Key) -> Fut<'at, Option<Item>>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn get_many<'l0, 'l1, 'at>(&'l0 self, _keys: &'l1 [Key]) -> Fut<'at, Vec<Option<Item>>>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn put<'l0, 'at>(&'l0 self, _item: Item, _condition: Condition) -> Fut<'at, Option<Item>>
    where
        'l0: 'at,
        Self: 'at,
    {
        down()
    }
    fn update<'l0, 'l1, 'at>(
        &'l0 self,
        _key: &'l1 Key,
        _update: Update,
        _condition: Condition,
    ) -> Fut<'at, Item>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn delete<'l0, 'l1, 'at>(
        &'l0 self,
        _key: &'l1 Key,
        _condition: Condition,
    ) -> Fut<'at, Option<Item>>
    where
        'l0: 'at,
        'l1: 'at,
        Self: 'at,
    {
        down()
    }
    fn transact<'l0, 'at>(&'l0 self, _writes: Vec<Write>) -> Fut<'at, ()>
    where
        'l0: 'at,
        Self: 'at,
    {
        down()
    }
    fn query<'l0, 'at>(&'l0 self, _query: Query) -> Fut<'at, Page>
    where
        'l0: 'at,
        Self: 'at,
    {
        down()
    }
}

#[tokio::test]
async fn an_unavailable_store_is_a_503_temporarily_unavailable_never_a_500() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let app = App::new(f.ctx.function_over(Role::Token, Arc::new(DownStore)));
    let code = f.seal(&f.code(&f.confidential, FULL_SCOPE, Some(CHALLENGE)));
    let attempts: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "/oauth/token",
            vec![
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        ),
        (
            "/oauth/token",
            vec![
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    tokens.body["refresh_token"].as_str().unwrap(),
                ),
            ],
        ),
        (
            "/oauth/revoke",
            vec![("token", tokens.body["access_token"].as_str().unwrap())],
        ),
        (
            "/oauth/introspect",
            vec![("token", tokens.body["access_token"].as_str().unwrap())],
        ),
    ];
    for (path, form) in attempts {
        let reply = post(&app, path, &form, Some(&f.basic())).await;
        assert_eq!(
            (reply.status.as_u16(), reply.error()),
            (503, "temporarily_unavailable"),
            "{path}"
        );
        assert!(reply.headers.contains_key("retry-after"));
        assert!(!reply.body.to_string().contains("connection refused"));
    }
}

#[tokio::test]
async fn the_other_paths_cost_the_round_trips_their_documentation_states() {
    let f = fixture().await;
    let tokens = f.tokens(FULL_SCOPE).await;
    let access_token = tokens.str("access_token");
    let refresh_token = tokens.str("refresh_token");
    let count = |what: &str, expected: u64| {
        assert_eq!(f.ctx.counter.take(), expected, "{what}");
    };
    f.ctx.counter.take();

    // Refusals before the transaction authenticate the client: one read each.
    f.exchange("garbage").await;
    f.refresh(&refresh_token, Some("appointment_write")).await;
    count("refusals before the transaction: the client, twice", 2);

    f.introspect(&access_token).await;
    count(
        "introspect an access token: client + revocation list + grant",
        3,
    );
    f.introspect(&refresh_token).await;
    count("introspect a refresh token: client + grant", 2);
    f.revoke(&access_token, None).await;
    count("revoke an access token: client + revocation record", 2);

    let rotated = f.refresh(&refresh_token, None).await;
    count("refresh", 1);
    f.refresh(&refresh_token, None).await;
    count(
        "refresh token reuse: failed rotation + revoking the grant",
        2,
    );
    f.revoke(&rotated.str("refresh_token"), None).await;
    count("revoke a refresh token: client + grant", 2);

    let sealed = f.seal(&f.code(&f.confidential, "openid", Some(CHALLENGE)));
    f.exchange(&sealed).await;
    count("code exchange", 1);
    f.exchange(&sealed).await;
    count("code replay: failed creation + revoking the grant", 2);
}
