//! The login throttle under concurrency, through the `authorize` handler on both stores: 30
//! parallel wrong passwords for one account from one address, and no more than the limit of them
//! reach argon2.
//!
//! A test binary of its own because it counts argon2 verifications process-wide
//! ([`shared::domain::password::verifications`]): no other test may sign in at the same time.

use authorize_fn::App;
use futures_util::future::join_all;
use portal_tests::stores::dynamo_store;
use shared::boot::Handler;
use shared::domain::client::{Client, RedirectUri};
use shared::domain::password::verifications;
use shared::repo::throttle::MAX_PAIR_ATTEMPTS;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::SharedStore;
use testkit::forms::hidden_field;
use testkit::patients;
use testkit::{oauth, Event, TestContext};

const REDIRECT: &str = "https://app.example/cb";
const EMAIL: &str = "anna.muster@example.org";

/// Cookie pairs (`name=value`) a response sets.
fn cookies(response: &lambda_http::Response<lambda_http::Body>) -> Vec<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next()?.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

fn body(response: &lambda_http::Response<lambda_http::Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

/// Thirty concurrent wrong passwords on the account of a fresh world over `store`: the statuses,
/// and how many argon2 verifications they caused.
async fn thirty_parallel_guesses(ctx: &TestContext, store: SharedStore) -> (Vec<u16>, u64) {
    let (client, _) = Client::new_confidential(
        "App",
        vec![RedirectUri::parse(REDIRECT).unwrap()],
        Scopes::all(),
    )
    .unwrap();
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .unwrap();
    let mut patient = patients::patient(EMAIL, None);
    patient.email_verified = true;
    patients::register(&store, &patient, Some("the right password")).await;
    let app = App::new(ctx.with_store(store));

    let authorize = oauth::authorize_path(client.id.as_str(), REDIRECT, "openid", &[]);
    let to_login = app.handle(Event::get(&authorize).request()).await;
    let location = to_login.headers()["location"].to_str().unwrap().to_owned();
    let jar = cookies(&to_login);
    let path = location.split_once("://").unwrap().1;
    let path = &path[path.find('/').unwrap()..];
    let mut event = Event::get(path);
    for (name, value) in &jar {
        event = event.cookie(name, value);
    }
    let page = app.handle(event.request()).await;
    let mut jar = jar;
    jar.extend(cookies(&page));
    let html = body(&page);
    let csrf = hidden_field(&html, "csrf_token").expect("a CSRF field");
    let request = hidden_field(&html, "request").expect("a request field");

    let before = verifications();
    let guesses = (0..30).map(|i| {
        let mut event = Event::post("/oauth/login").form(&[
            ("csrf_token", csrf.as_str()),
            ("request", request.as_str()),
            ("email", EMAIL),
            ("password", &format!("wrong guess {i}")),
        ]);
        for (name, value) in &jar {
            event = event.cookie(name, value);
        }
        let app = &app;
        async move { app.handle(event.request()).await.status().as_u16() }
    });
    let statuses = join_all(guesses).await;
    (statuses, verifications() - before)
}

fn check(store: &str, statuses: &[u16], checked: u64) {
    let rejected = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        rejected + throttled,
        30,
        "{store}: only 401 and 429: {statuses:?}"
    );
    assert!(
        checked <= MAX_PAIR_ATTEMPTS as u64,
        "{store}: {checked} passwords verified, the limit is {MAX_PAIR_ATTEMPTS}"
    );
    assert_eq!(checked, rejected as u64, "{store}: each 401 had its check");
    assert!(rejected >= 1, "{store}: the first guess is checked");
}

#[tokio::test]
async fn thirty_parallel_wrong_passwords_reach_argon2_at_most_the_limit_on_both_stores() {
    let ctx = TestContext::new();
    let (statuses, checked) = thirty_parallel_guesses(&ctx, ctx.store()).await;
    check("sqlite", &statuses, checked);

    let ctx = TestContext::new();
    let (statuses, checked) = thirty_parallel_guesses(&ctx, dynamo_store().await).await;
    check("dynamodb", &statuses, checked);
}
