//! Tests of the operator's document: life cycle, rotation rules, and what each function's document
//! holds.

use super::*;
use crate::keys::test_support::admin;
use crate::keys::timing::{PUBLICATION_DELAY_SECS, SIGNING_RETENTION_SECS};
use crate::keys::KeySet;

const T0: i64 = 1_700_000_000;

fn states(keys: &[StoredSigningKey]) -> Vec<KeyState> {
    keys.iter().map(|k| k.life.state()).collect()
}

#[test]
fn fresh_keys_have_an_active_and_a_next_key_in_every_family() {
    let keys = AdminKeys::generate(T0).unwrap();
    keys.check().unwrap();
    assert_eq!(
        states(&keys.token_signing),
        [KeyState::Active, KeyState::Next]
    );
    assert_eq!(
        states(&keys.video_signing),
        [KeyState::Active, KeyState::Next]
    );
    assert!(keys
        .token_signing
        .iter()
        .all(|k| k.alg == SigningAlg::RS256));
    assert!(keys
        .video_signing
        .iter()
        .chain(&keys.id_token_signing)
        .all(|k| k.alg == SigningAlg::ES256));
    assert_eq!(
        states(&keys.id_token_signing),
        [KeyState::Active, KeyState::Next]
    );
    let text = keys.to_json().unwrap();
    assert_eq!(AdminKeys::from_json(&text, T0).unwrap(), (keys, false));
}

#[test]
fn a_document_from_before_es256_id_tokens_gets_their_keys_and_publishes_them() {
    let keys = AdminKeys::generate(T0).unwrap();
    let mut old: serde_json::Value = serde_json::from_str(&keys.to_json().unwrap()).unwrap();
    old.as_object_mut().unwrap().remove("id_token_signing");
    let (upgraded, changed) = AdminKeys::from_json(&old.to_string(), T0 + 10).unwrap();
    assert!(changed);
    assert_eq!(upgraded.token_signing, keys.token_signing);
    assert_eq!(
        states(&upgraded.id_token_signing),
        [KeyState::Active, KeyState::Next]
    );
    let token = upgraded.document(Role::Token, T0 + 10).unwrap();
    let es256 = token.id_token_signing.expect("token signs ES256 id_tokens");
    assert_eq!(es256.alg, SigningAlg::ES256);
    let published: Vec<&str> = token.token_keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(published.contains(&es256.kid.as_str()));
    // Only `token` holds it; every function publishes (and so verifies) it.
    for role in [Role::Authorize, Role::Userinfo, Role::Booking, Role::Asap] {
        let document = upgraded.document(role, T0 + 10).unwrap();
        assert!(document.id_token_signing.is_none(), "{role}");
        assert_eq!(document.token_keys, token.token_keys, "{role}");
    }
}

#[test]
fn the_es256_id_token_key_rotates_with_the_others() {
    let mut keys = AdminKeys::generate(T0).unwrap();
    let next = keys.id_token_signing[1].kid().to_owned();
    let rotation = keys.rotate(keys.earliest_rotation(), false).unwrap();
    assert_eq!(rotation.activated_id_token_kid, next);
    assert_eq!(
        states(&keys.id_token_signing),
        [KeyState::Retired, KeyState::Active, KeyState::Next]
    );
    assert!(keys.id_token_signing[0].pkcs8_der_b64.is_none());
}

#[test]
fn a_rotation_activates_the_key_published_by_the_previous_one() {
    let mut keys = AdminKeys::generate(T0).unwrap();
    let published_next = keys.token_kids(KeyState::Next)[0].to_owned();
    let old_active = keys.token_kids(KeyState::Active)[0].to_owned();
    let next_sealing = keys.sealing[1].id.clone();

    let t1 = T0 + PUBLICATION_DELAY_SECS;
    let rotation = keys.rotate(t1, false).unwrap();
    assert_eq!(rotation.activated_kid, published_next);
    assert_eq!(rotation.retired_kid, old_active);
    assert_eq!(rotation.activated_sealing_id, next_sealing);
    assert_eq!(keys.token_kids(KeyState::Active), [published_next.as_str()]);
    assert_eq!(
        keys.token_kids(KeyState::Next),
        [rotation.next_kid.as_str()]
    );
    assert_eq!(keys.token_kids(KeyState::Retired), [old_active.as_str()]);
    // The retired private key is gone from storage; its public half is still published.
    let retired = keys
        .token_signing
        .iter()
        .find(|k| k.kid() == old_active)
        .unwrap();
    assert!(retired.pkcs8_der_b64.is_none());
    let jwks = keys.document(Role::Userinfo, t1).unwrap().token_keys;
    // The RS256 family's three, beside the ES256 id_token family's three.
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == "RSA")
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 3);
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 6);
    for kid in [&old_active, &published_next, &rotation.next_kid] {
        assert!(kids.contains(&kid.as_str()), "{kid} published");
    }
}

#[test]
fn a_rotation_before_the_publication_delay_is_refused_unless_forced() {
    let mut keys = AdminKeys::generate(T0).unwrap();
    let before = keys.clone();
    let err = keys
        .rotate(T0 + PUBLICATION_DELAY_SECS - 1, false)
        .unwrap_err();
    assert!(matches!(err, KeyError::TooSoon { .. }));
    let message = err.to_string();
    assert!(
        message.contains("2 h") && message.contains("--force"),
        "{message}"
    );
    assert!(message.contains("in 1 min"), "{message}");
    assert_eq!(keys, before, "a refused rotation changes nothing");
    keys.rotate(T0 + 1, true).unwrap();
    // The key just published by the forced rotation resets the clock.
    assert!(keys.rotate(T0 + PUBLICATION_DELAY_SECS, false).is_err());
    assert!(keys.rotate(T0 + 1 + PUBLICATION_DELAY_SECS, false).is_ok());
}

#[test]
fn retired_keys_are_kept_for_their_retention_and_then_dropped() {
    let mut keys = AdminKeys::generate(T0).unwrap();
    let first_kid = keys.token_kids(KeyState::Active)[0].to_owned();
    let first_root = keys.sealing[0].id.clone();
    let t1 = T0 + PUBLICATION_DELAY_SECS;
    keys.rotate(t1, false).unwrap();
    // Within the signing retention the retired key is published; after it, dropped.
    assert!(keys.prune(t1 + SIGNING_RETENTION_SECS).is_empty());
    let removed = keys.prune(t1 + SIGNING_RETENTION_SECS + 1);
    assert!(removed.contains(&first_kid), "{removed:?}");
    // The sealing root outlives it: refresh tokens (30 days) and mailed links (up to a year).
    assert!(keys.sealing.iter().any(|r| r.id == first_root));
    let booking_then = |keys: &AdminKeys, at: i64| {
        keys.document(Role::Asap, at).unwrap().sealing[&Purpose::AsapUnsubscribe]
            .keys
            .iter()
            .any(|k| k.id == first_root)
    };
    assert!(booking_then(&keys, t1 + 300 * 24 * 3600));
    // Availability ids live an hour: their retired key leaves the documents long before the root.
    let availability = keys
        .document(Role::Booking, t1 + 2 * 24 * 3600)
        .unwrap()
        .sealing[&Purpose::Availability]
        .keys
        .iter()
        .any(|k| k.id == first_root);
    assert!(!availability);
    let removed = keys.prune(t1 + Purpose::AsapUnsubscribe.retention_secs() + 1);
    assert!(removed.contains(&first_root), "{removed:?}");
    // Active and next keys survive any amount of time.
    keys.prune(i64::MAX);
    keys.check().unwrap();
}

#[test]
fn each_function_document_holds_exactly_what_that_function_uses() {
    let keys = admin();
    let now = chrono::Utc::now().timestamp();
    for role in Role::ALL {
        let document = keys.document(role, now).unwrap();
        assert_eq!(document.role, role);
        assert_eq!(
            document.token_signing.is_some(),
            role == Role::Token,
            "{role}"
        );
        assert_eq!(
            document.video_signing.is_some(),
            role == Role::Booking,
            "{role}"
        );
        assert_eq!(
            document.video_keys.is_some(),
            matches!(role, Role::Userinfo | Role::Booking),
            "{role}"
        );
        let purposes: Vec<Purpose> = document.sealing.keys().copied().collect();
        assert_eq!(purposes, role.purposes(), "{role}");
        // Never a sealing root, never a retired or next private key.
        let text = document.to_json().unwrap();
        for root in &keys.sealing {
            assert!(!text.contains(&root.root_b64), "{role} holds a root");
        }
        for key in keys.token_signing.iter().chain(&keys.video_signing) {
            if let Some(private) = &key.pkcs8_der_b64 {
                let held = text.contains(&private[..60]);
                let expected = key.life.state() == KeyState::Active
                    && ((role == Role::Token && key.alg == SigningAlg::RS256)
                        || (role == Role::Booking && key.alg == SigningAlg::ES256));
                assert_eq!(held, expected, "{role}: {:?}", key.life.state());
            }
        }
    }
    assert!(!keys.document(Role::Userinfo, now).unwrap().holds_secrets());
}

#[test]
fn sealing_keys_are_derived_per_purpose_and_deterministic() {
    let keys = admin();
    let root = &keys.sealing[0];
    let code = root.derive(Purpose::AuthorizationCode).unwrap();
    assert_eq!(code, root.derive(Purpose::AuthorizationCode).unwrap());
    let mut all: Vec<[u8; 32]> = Purpose::ALL
        .iter()
        .map(|p| root.derive(*p).unwrap())
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), Purpose::ALL.len(), "one key per purpose");
    assert_ne!(
        code,
        keys.sealing[1].derive(Purpose::AuthorizationCode).unwrap()
    );
    // The documents of the two functions that share a purpose carry the same derived key.
    let now = chrono::Utc::now().timestamp();
    let authorize = keys.document(Role::Authorize, now).unwrap();
    let token = keys.document(Role::Token, now).unwrap();
    assert_eq!(
        authorize.sealing[&Purpose::AuthorizationCode],
        token.sealing[&Purpose::AuthorizationCode]
    );
}

#[test]
fn broken_documents_are_refused_with_a_clear_message() {
    let good = admin();

    let mut two_active = good.clone();
    two_active.token_signing[1].life.activated_at = Some(T0);
    let err = two_active.check().unwrap_err().to_string();
    assert!(
        err.contains("token signing keys") && err.contains("Active"),
        "{err}"
    );

    let mut no_private = good.clone();
    no_private.video_signing[0].pkcs8_der_b64 = None;
    assert!(no_private
        .check()
        .unwrap_err()
        .to_string()
        .contains("no private key"));

    let mut short_root = good.clone();
    short_root.sealing[0].root_b64 = STANDARD.encode([0u8; 16]);
    assert!(short_root.check().unwrap_err().to_string().contains("32"));

    let mut wrong_alg = good.clone();
    wrong_alg.token_signing[0].alg = SigningAlg::ES256;
    assert!(wrong_alg.check().unwrap_err().to_string().contains("RS256"));

    let mut other_format = good;
    other_format.format = 1;
    assert!(other_format
        .check()
        .unwrap_err()
        .to_string()
        .contains("format 1"));
    assert!(AdminKeys::from_json("{", T0).is_err());
}

#[test]
fn debug_output_never_contains_key_material() {
    let keys = admin();
    let now = chrono::Utc::now().timestamp();
    let token = keys.document(Role::Token, now).unwrap();
    let set = KeySet::from_documents(std::slice::from_ref(&token)).unwrap();
    let private = keys.token_signing[0].pkcs8_der_b64.clone().unwrap();
    let sealing = &token.sealing[&Purpose::RefreshToken].keys[0].key_b64;
    for text in [
        format!("{keys:?}"),
        format!("{token:?}"),
        format!("{set:?}"),
    ] {
        assert!(text.contains(keys.token_signing[0].kid()), "{text}");
        assert!(!text.contains(&private[..40]), "{text}");
        assert!(!text.contains(sealing.as_str()), "{text}");
        assert!(!text.contains(&keys.sealing[0].root_b64), "{text}");
    }
}
