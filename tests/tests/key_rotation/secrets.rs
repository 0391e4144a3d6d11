//! The deployed layout on Secrets Manager (moto): `portal-admin`'s operations write the operator's
//! secret and one per function; each function starts from its own secret only, and a warm instance
//! picks up a rotation from it.

use shared::config::{Config, KEYS_SECRETS_VAR, KEY_DOCUMENTS};
use shared::crypto::random_id;
use shared::jwt::TYP_ACCESS_TOKEN;
use shared::keys::{KeyError, KeyStore, SECRET_ARN_VAR};
use shared::store::now_unix;
use std::collections::BTreeMap;

use super::*;

/// Fresh, empty secrets (as a new stack creates them) for every key document: name -> ARN.
async fn empty_secrets(endpoint: &str) -> BTreeMap<String, String> {
    let aws = shared::aws::Aws::load(Some(endpoint)).await;
    let client = aws_sdk_secretsmanager::Client::new(aws.config());
    let stack = format!("keys-test-{}", random_id(10));
    let mut arns = BTreeMap::new();
    for name in KEY_DOCUMENTS {
        let created = client
            .create_secret()
            .name(format!("{stack}/{name}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("cannot create a secret on moto: {e:?}"));
        arns.insert(name.to_owned(), created.arn().unwrap().to_owned());
    }
    arns
}

fn config(data_dir: &std::path::Path, endpoint: &str, vars: &[(&str, &str)]) -> Config {
    let data_dir = data_dir.display().to_string();
    Config::from_lookup(|name| match name {
        "PORTAL_DATA_DIR" => Some(data_dir.clone()),
        "PORTAL_AWS_ENDPOINT" => Some(endpoint.to_owned()),
        _ => vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned()),
    })
    .unwrap()
}

#[tokio::test]
async fn each_function_starts_from_its_own_secret_and_follows_a_rotation_there() {
    let endpoint = portal_tests::moto::moto_endpoint();
    let arns = empty_secrets(&endpoint).await;
    let data = tempfile::tempdir().unwrap();
    let all: Vec<String> = arns.iter().map(|(n, a)| format!("{n}={a}")).collect();
    let admin_config = config(
        data.path(),
        &endpoint,
        &[(KEYS_SECRETS_VAR, &all.join(","))],
    );
    let store = KeyStore::from_config(&admin_config).await.unwrap();

    // A fresh stack: the functions refuse to start until `keys init`.
    let booking_vars = [
        (SECRET_ARN_VAR, arns["booking"].as_str()),
        ("PORTAL_ASAP_DISPATCH", "stream"),
    ];
    let error = shared::boot::start(config(data.path(), &endpoint, &booking_vars), Role::Booking)
        .await
        .err()
        .expect("no keys yet")
        .to_string();
    assert!(error.contains("keys init"), "{error}");

    store.init(now_unix()).await.unwrap();
    assert!(matches!(
        store.init(now_unix()).await,
        Err(KeyError::Exists(_))
    ));
    let mut started = BTreeMap::new();
    for role in Role::ALL {
        let vars = [
            (SECRET_ARN_VAR, arns[role.name()].as_str()),
            ("PORTAL_ASAP_DISPATCH", "stream"),
        ];
        let context = shared::boot::start(config(data.path(), &endpoint, &vars), role)
            .await
            .unwrap_or_else(|e| panic!("{role} does not start from its secret: {e}"));
        let keys = context.keys.current();
        assert_eq!(keys.roles(), [role]);
        assert_eq!(keys.active_kid().is_some(), role == Role::Token, "{role}");
        started.insert(role, context);
    }

    // Another function's secret, or the operator's, is refused by name.
    for (arn, what) in [
        (&arns["token"], "token function"),
        (&arns["admin"], "function key document"),
    ] {
        let vars = [
            (SECRET_ARN_VAR, arn.as_str()),
            ("PORTAL_ASAP_DISPATCH", "stream"),
        ];
        let error = shared::boot::start(config(data.path(), &endpoint, &vars), Role::Booking)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains(what), "{error}");
    }
    // Deployed, booking cannot send the ASAP emails itself: it holds no unsubscribe-link key.
    let vars = [
        (SECRET_ARN_VAR, arns["booking"].as_str()),
        ("PORTAL_ASAP_DISPATCH", "inline"),
    ];
    let error = shared::boot::start(config(data.path(), &endpoint, &vars), Role::Booking)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("PORTAL_ASAP_DISPATCH=stream"), "{error}");

    // Two forced rotations: the warm userinfo instance meets a token signed with a key it never
    // saw, re-reads its secret once, and accepts it.
    store.rotate(now_unix(), true).await.unwrap();
    store.rotate(now_unix(), true).await.unwrap();
    let token = shared::boot::start(
        config(
            data.path(),
            &endpoint,
            &[
                (SECRET_ARN_VAR, arns["token"].as_str()),
                ("PORTAL_ASAP_DISPATCH", "stream"),
            ],
        ),
        Role::Token,
    )
    .await
    .unwrap();
    let claims = testkit::tokens::access_claims(&admin_config, "Patient1", "openid profile_read");
    let access = token
        .keys
        .current()
        .sign_jwt(TYP_ACCESS_TOKEN, &claims)
        .unwrap();
    let userinfo = &started[&Role::Userinfo];
    let request = Event::get("/api/portal/v1/profile")
        .bearer(&access)
        .request();
    let checked = userinfo
        .authenticate(&request, &["profile_read"], false)
        .await;
    assert!(checked.is_ok(), "{checked:?}");
    assert_eq!(userinfo.keys.reloads(), 1);

    // `keys sync` rewrites every function's secret from the operator's.
    assert!(store.sync(now_unix()).await.is_ok());
}
