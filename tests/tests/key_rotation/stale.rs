//! An instance that loaded its keys before two (forced) rotations meets keys it has never seen:
//! it reloads its key document, once, and keeps working.

use shared::keys::{self, KeyStore};
use shared::store::now_unix;
use testkit::oauth;

use super::*;

#[tokio::test]
async fn an_instance_two_rotations_behind_reloads_its_keys_once_and_keeps_working() {
    let ctx = TestContext::new();
    let (client, secret) = ctx.client().await;
    let patient = ctx.patient().await;
    let old = Generation::start(&ctx);

    // Forced twice in a row: the keys now in use were not even published when `old` started.
    let store = KeyStore::Local(keys::keys_dir(ctx.data_dir()));
    store.rotate(now_unix(), true).await.unwrap();
    store.rotate(now_unix(), true).await.unwrap();
    let new = Generation::start(&ctx);
    let kid = new.signing_kid();
    assert!(!Generation::keys(&old.userinfo).knows_kid(&kid));

    // A code sealed by a new authorize instance, redeemed at the old token instance.
    let code = oauth::seal(
        &Generation::keys(&new.authorize),
        &oauth::code(
            client.id.as_str(),
            patient.id.as_str(),
            "openid offline_access",
            Some(oauth::CHALLENGE),
        ),
    );
    let exchanged = send(
        &old.token,
        Event::post("/oauth/token")
            .header("authorization", &oauth::basic(client.id.as_str(), &secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", oauth::REDIRECT),
                ("code_verifier", oauth::VERIFIER),
            ]),
    )
    .await;
    assert_eq!(exchanged.status(), 200, "{}", json(&exchanged));
    // Having reloaded, the old token instance signs with the key now active.
    assert_eq!(old.signing_kid(), kid);

    // An access token of the new token instance at the old userinfo instance.
    let tokens = send(
        &new.token,
        Event::post("/oauth/token")
            .header("authorization", &oauth::basic(client.id.as_str(), &secret))
            .form(&[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    json(&exchanged)["refresh_token"].as_str().unwrap(),
                ),
            ]),
    )
    .await;
    assert_eq!(tokens.status(), 200, "{}", json(&tokens));
    let access = json(&tokens)["access_token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let info = send(&old.userinfo, Event::get("/oauth/userinfo").bearer(&access)).await;
        assert_eq!(info.status(), 200, "{}", json(&info));
    }
    // One reload each for the two instances that met new keys; none for the others.
    assert_eq!(old.reloads(), [0, 1, 1, 0, 0]);
    assert_eq!(new.reloads(), [0; 5]);
}
