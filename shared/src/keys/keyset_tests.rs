//! Tests of the key set a function parses from its document.

use super::*;
use crate::jwt::{self, JwtError, TYP_ACCESS_TOKEN};
use crate::keys::signing::PRIVATE_KEY_PARSES;
use crate::keys::test_support::{admin, keyset, keyset_of};
use crate::keys::AdminKeys;

const ISS: &str = "https://portal.example";
const AUD: &str = "https://portal.example/api/portal/v1";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn access_claims() -> Value {
    serde_json::json!({ "iss": ISS, "sub": "patient-1", "aud": AUD, "exp": now() + 300,
                        "iat": now(), "scope": "profile_read appointment_write", "jti": "j" })
}

#[test]
fn only_the_token_functions_keys_can_sign_an_access_token() {
    let token_keys = keyset_of(&[Role::Token]);
    let access = token_keys
        .sign_jwt(TYP_ACCESS_TOKEN, &access_claims())
        .unwrap();
    for role in [Role::Authorize, Role::Userinfo, Role::Booking, Role::Asap] {
        let keys = keyset_of(&[role]);
        assert!(keys.active_kid().is_none(), "{role}");
        assert!(
            matches!(
                keys.sign_jwt(TYP_ACCESS_TOKEN, &access_claims()),
                Err(KeyError::NotHeld(_))
            ),
            "{role} could sign an access token"
        );
        // ...but each of them verifies the token function's tokens.
        jwt::verify::<Value>(&keys, &access, TYP_ACCESS_TOKEN, ISS, AUD).unwrap();
    }
}

#[test]
fn a_video_key_signed_token_is_not_an_access_token() {
    let booking = keyset_of(&[Role::Booking]);
    // The booking function signs whatever it likes with its video key, even an access token's
    // claims and type: no verifier of access tokens knows that key.
    let forged = booking
        .sign_video(TYP_ACCESS_TOKEN, &access_claims())
        .unwrap();
    for role in Role::ALL {
        let keys = keyset_of(&[role]);
        assert_eq!(
            jwt::verify::<Value>(&keys, &forged, TYP_ACCESS_TOKEN, ISS, AUD),
            Err(JwtError::Malformed("only RS256 tokens are accepted".into())),
            "{role}"
        );
    }
    // Nor is it in the JWKS relying parties fetch: the video keys are a document of their own.
    let userinfo = keyset_of(&[Role::Userinfo]);
    let video_kids: Vec<Value> = userinfo.video_jwks().unwrap()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(video_kids.len(), 2);
    for kid in &video_kids {
        assert!(userinfo.kids().all(|k| kid.as_str() != Some(k)));
        assert!(!userinfo.knows_kid(kid.as_str().unwrap()));
    }
    assert!(matches!(
        userinfo.sign_video("video+jwt", &access_claims()),
        Err(KeyError::NotHeld(_))
    ));
}

#[test]
fn a_function_holds_only_its_purposes_sealers() {
    for role in Role::ALL {
        let keys = keyset_of(&[role]);
        let held: Vec<Purpose> = keys.purposes().into_iter().collect();
        assert_eq!(held, role.purposes(), "{role}");
        for purpose in Purpose::ALL {
            assert_eq!(
                keys.sealer(purpose).is_held(),
                role.holds(purpose),
                "{role} {purpose}"
            );
        }
    }
    // Booking with inline ASAP dispatch reads the asap document too: the unsubscribe key joins.
    let inline = keyset_of(&[Role::Booking, Role::Asap]);
    assert!(inline.sealer(Purpose::AsapUnsubscribe).is_held());
    assert!(inline.video_jwks().is_some());
    let sealed = inline
        .sealer(Purpose::AsapUnsubscribe)
        .seal(b"link")
        .unwrap();
    let asap = keyset_of(&[Role::Asap]);
    assert_eq!(
        asap.sealer(Purpose::AsapUnsubscribe).open(&sealed).unwrap(),
        b"link"
    );
}

#[test]
fn documents_that_disagree_or_pair_a_key_with_another_kid_are_refused() {
    let keys = admin();
    let now = now();
    let booking = keys.document(Role::Booking, now).unwrap();
    let other = AdminKeys::generate(now)
        .unwrap()
        .document(Role::Asap, now)
        .unwrap();
    let err = KeySet::from_documents(&[booking.clone(), other]).unwrap_err();
    assert!(err.to_string().contains("keys sync"), "{err}");

    let mut token = keys.document(Role::Token, now).unwrap();
    let unpublished = keys.token_signing[1].kid().to_owned();
    token.token_signing.as_mut().unwrap().kid = unpublished;
    let err = KeySet::from_documents(&[token]).unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");

    let mut short = booking;
    short.sealing.get_mut(&Purpose::Availability).unwrap().keys[0].key_b64 =
        STANDARD.encode([0u8; 16]);
    assert!(KeySet::from_documents(&[short])
        .unwrap_err()
        .to_string()
        .contains("32 base64 bytes"));
    assert!(KeySet::from_documents(&[]).is_err());
}

#[test]
fn signing_uses_the_key_pair_parsed_at_init() {
    let document = admin().document(Role::Token, now()).unwrap();
    let before = PRIVATE_KEY_PARSES.with(std::cell::Cell::get);
    let keys = KeySet::from_documents(std::slice::from_ref(&document)).unwrap();
    let after_init = PRIVATE_KEY_PARSES.with(std::cell::Cell::get);
    assert_eq!(
        after_init - before,
        2,
        "two private keys in the token document: RS256 and the ES256 id_token key"
    );
    drop(document);
    for i in 0..5 {
        keys.sign_jwt("JWT", &serde_json::json!({ "i": i }))
            .unwrap();
        keys.sign_id_token(SigningAlg::ES256, "JWT", &serde_json::json!({ "i": i }))
            .unwrap();
    }
    assert_eq!(PRIVATE_KEY_PARSES.with(std::cell::Cell::get), after_init);
}

#[test]
fn a_key_set_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<KeySet>();
    shareable::<Sealer>();
    let keys = std::sync::Arc::new(keyset());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let keys = keys.clone();
            std::thread::spawn(move || keys.sign_jwt("JWT", &serde_json::json!({ "i": i })))
        })
        .collect();
    for handle in handles {
        assert!(handle.join().unwrap().is_ok());
    }
}

#[test]
fn the_jwks_publishes_public_parts_only_under_thumbprint_kids() {
    let keys = keyset();
    let jwks = keys.jwks();
    let published = jwks["keys"].as_array().unwrap();
    assert_eq!(published.len(), 4, "active and next, RS256 and ES256");
    for jwk in published {
        match jwk["kty"].as_str() {
            Some("RSA") => assert_eq!(jwk["alg"], "RS256"),
            Some("EC") => {
                assert_eq!(jwk["alg"], "ES256");
                assert_eq!(jwk["crv"], "P-256");
            }
            other => panic!("unexpected key type {other:?}"),
        }
        assert_eq!(jwk["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private).is_none(), "{private}");
        }
    }
    let rsa = published.iter().filter(|k| k["kty"] == "RSA").count();
    assert_eq!(rsa, 2);
    assert!(keys.kids().any(|kid| Some(kid) == keys.active_kid()));
}
