//! Tests of reloading: unknown kids and sealing ids, the rate limit, and the maximum age.

use std::sync::Mutex;

use super::*;
use crate::jwt::TYP_ACCESS_TOKEN;
use crate::keys::{file, KeyDocument, KeyStore, Role};

struct Portal {
    _data: tempfile::TempDir,
    dir: std::path::PathBuf,
    store: KeyStore,
}

async fn portal() -> Portal {
    let data = tempfile::tempdir().unwrap();
    let dir = file::keys_dir(data.path());
    let store = KeyStore::Local(dir.clone());
    store.init(now()).await.unwrap();
    Portal {
        _data: data,
        dir,
        store,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A clock the test moves on.
#[derive(Clone)]
struct TestClock(Arc<Mutex<Instant>>);

impl TestClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn reader(&self) -> impl Fn() -> Instant + Send + Sync + 'static {
        let clock = self.0.clone();
        move || *clock.lock().unwrap()
    }
}

fn source(portal: &Portal, role: Role) -> KeySource {
    KeySource::LocalFiles {
        dir: portal.dir.clone(),
        roles: vec![role],
    }
}

/// What the `token` function, started now, signs with.
fn token_function(portal: &Portal) -> KeySet {
    let document: KeyDocument = file::read_document(&portal.dir, Role::Token)
        .unwrap()
        .unwrap();
    KeySet::from_documents(&[document]).unwrap()
}

fn access_token(keys: &KeySet) -> String {
    keys.sign_jwt(TYP_ACCESS_TOKEN, &serde_json::json!({ "sub": "p" }))
        .unwrap()
}

/// A token naming a well-formed `kid` nobody published.
fn made_up_kid_token(n: usize) -> String {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.AAAA",
        b64(serde_json::json!({ "alg": "RS256", "typ": "at+jwt", "kid": format!("made-up-{n}") })),
        b64(serde_json::json!({ "sub": "p" }))
    )
}

#[tokio::test]
async fn a_token_signed_with_a_key_activated_after_start_reloads_once_for_everyone() {
    let portal = portal().await;
    let userinfo = Keys::load(source(&portal, Role::Userinfo)).await.unwrap();
    // Two rotations (forced, so at once): the token function now signs with a key that was not
    // even published when this instance started.
    portal.store.rotate(now(), true).await.unwrap();
    portal.store.rotate(now(), true).await.unwrap();
    let token = access_token(&token_function(&portal));
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(!userinfo.current().knows_kid(&kid));

    let sets = futures_util::future::join_all((0..20).map(|_| userinfo.for_token(&token))).await;
    assert!(sets.iter().all(|set| set.knows_kid(&kid)));
    assert_eq!(userinfo.reloads(), 1, "twenty callers, one reload");

    // Made-up kids cannot make it reload again within the interval.
    for n in 0..10 {
        userinfo.for_token(&made_up_kid_token(n)).await;
    }
    assert_eq!(userinfo.reloads(), 1);
    // Tokens without a kid, or not JWTs at all, never reload.
    userinfo.for_token("not a jwt").await;
    assert_eq!(userinfo.reloads(), 1);
}

#[tokio::test]
async fn unknown_kids_reload_at_most_once_per_interval() {
    let portal = portal().await;
    let clock = TestClock::new();
    let keys = Keys::load(source(&portal, Role::Booking))
        .await
        .unwrap()
        .with_clock(clock.reader());
    keys.for_token(&made_up_kid_token(0)).await;
    assert_eq!(keys.reloads(), 1, "the first unknown kid reloads");
    clock.advance(Duration::from_secs(59));
    keys.for_token(&made_up_kid_token(1)).await;
    assert_eq!(keys.reloads(), 1, "within the minute: no reload");
    clock.advance(Duration::from_secs(1));
    keys.for_token(&made_up_kid_token(2)).await;
    assert_eq!(keys.reloads(), 2, "a minute later: one more");
}

#[tokio::test]
async fn a_value_sealed_with_a_key_activated_after_start_reloads_the_keys() {
    let portal = portal().await;
    let token_instance = Keys::load(source(&portal, Role::Token)).await.unwrap();
    portal.store.rotate(now(), true).await.unwrap();
    portal.store.rotate(now(), true).await.unwrap();
    let authorize = Keys::load(source(&portal, Role::Authorize)).await.unwrap();
    let code = authorize
        .current()
        .sealer(Purpose::AuthorizationCode)
        .seal(b"code")
        .unwrap();
    assert!(!token_instance
        .current()
        .sealer(Purpose::AuthorizationCode)
        .knows_key_of(&code));
    let keys = token_instance
        .for_sealed(Purpose::AuthorizationCode, &code)
        .await;
    assert_eq!(
        keys.sealer(Purpose::AuthorizationCode).open(&code).unwrap(),
        b"code"
    );
    assert_eq!(token_instance.reloads(), 1);
    // A known key or garbage does not reload.
    token_instance
        .for_sealed(Purpose::AuthorizationCode, &code)
        .await;
    token_instance
        .for_sealed(Purpose::AuthorizationCode, "garbage")
        .await;
    assert_eq!(token_instance.reloads(), 1);
}

#[tokio::test]
async fn an_old_copy_is_reloaded_and_a_failed_reload_keeps_the_keys() {
    let portal = portal().await;
    let clock = TestClock::new();
    let keys = Keys::load(source(&portal, Role::Token))
        .await
        .unwrap()
        .with_clock(clock.reader());
    let before = keys.current().active_kid().unwrap().to_owned();
    clock.advance(Duration::from_secs(15 * 60));
    keys.refresh_if_stale().await;
    assert_eq!(keys.reloads(), 0, "15 minutes old is young enough");

    portal.store.rotate(now(), true).await.unwrap();
    clock.advance(Duration::from_secs(1));
    keys.refresh_if_stale().await;
    assert_eq!(keys.reloads(), 1);
    let after = keys.current().active_kid().unwrap().to_owned();
    assert_ne!(after, before, "signs with the key the rotation activated");

    // The document disappears: the instance keeps serving with what it has.
    std::fs::remove_file(file::document_path(&portal.dir, Role::Token)).unwrap();
    clock.advance(Duration::from_secs(16 * 60));
    keys.refresh_if_stale().await;
    assert_eq!(keys.reloads(), 1);
    assert_eq!(keys.current().active_kid(), Some(after.as_str()));
    // Fixed keys never reload.
    let booking = file::read_document(&portal.dir, Role::Booking)
        .unwrap()
        .unwrap();
    let fixed = Keys::fixed(KeySet::from_documents(&[booking]).unwrap());
    fixed.for_token(&made_up_kid_token(0)).await;
    assert_eq!(fixed.reloads(), 0);
}
