//! Signing and verifying an access token: RS256 as we do it (aws-lc-rs key pair parsed once at
//! init), RS256 through `jsonwebtoken::encode` (which parses the private key on every call),
//! ES256 and EdDSA. Every variant produces or checks a complete compact JWS of the same RFC 9068
//! claims, so the numbers compare the whole step, not just the raw signature. Also: sealing an
//! availability id with AES-256-GCM-SIV (ours) against plain AES-256-GCM, and parsing a function's
//! key document at a cold start.

mod common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, UnparsedPublicKey,
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, RSA_PKCS1_2048_8192_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, SamplingMode};
use portal_bench::ops::{KEYSET_PARSE_ID, SEAL_GCM_ID, SEAL_GCM_SIV_ID, SIGNING_GROUP};
use portal_bench::portal;
use serde::Serialize;
use shared::bearer::AccessClaims;
use shared::booking::AvailabilityToken;
use shared::domain::patient::PatientId;
use shared::jwt::{self, TYP_ACCESS_TOKEN};
use shared::keys::{KeyDocument, KeySet, KeyState, Role};
use shared::store::now_unix;
use std::hint::black_box;
use testkit::oauth::APP_SCOPE;
use testkit::tokens::access_claims;
use testkit::TestContext;

use common::CpuTime;

type Group<'a> = BenchmarkGroup<'a, CpuTime>;

/// The claims of a typical access token (the kit's ids are as long as ours).
fn claims(portal: &TestContext) -> AccessClaims {
    let sub = PatientId::generate();
    AccessClaims {
        // Long enough for every verify of the run.
        exp: now_unix() + 3600,
        ..access_claims(&portal.context.config, sub.as_str(), APP_SCOPE)
    }
}

/// `header.claims.signature` with `sign` producing the signature of `header.claims`.
fn jws<C: Serialize>(
    alg: &str,
    kid: &str,
    claims: &C,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> String {
    let header = serde_json::json!({ "alg": alg, "typ": TYP_ACCESS_TOKEN, "kid": kid });
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header"));
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims")));
    let signature = sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}

/// Checks a JWS signature with `key` and parses its claims (what a verifier must at least do).
fn verify_raw(key: &UnparsedPublicKey<&[u8]>, token: &str) -> AccessClaims {
    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    key.verify(input.as_bytes(), &signature)
        .expect("a valid signature");
    let payload = input.split_once('.').expect("header.payload").1;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}

/// One DER element: tag, contents, and what follows it.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (what `jsonwebtoken` wants).
fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Vec<u8> {
    let (0x30, info, _) = der_element(pkcs8).expect("PrivateKeyInfo") else {
        panic!("PrivateKeyInfo is a SEQUENCE")
    };
    let (0x02, _, rest) = der_element(info).expect("version") else {
        panic!("version is an INTEGER")
    };
    let (0x30, _, rest) = der_element(rest).expect("algorithm") else {
        panic!("algorithm is a SEQUENCE")
    };
    let (0x04, key, _) = der_element(rest).expect("privateKey") else {
        panic!("privateKey is an OCTET STRING")
    };
    key.to_vec()
}

fn rs256(group: &mut Group<'_>, portal: &TestContext, claims: &AccessClaims) {
    let keys = portal.keys();
    let keys = &*keys;
    let config = &portal.context.config;
    let token = keys.sign_jwt(TYP_ACCESS_TOKEN, claims).expect("sign");
    let verified: AccessClaims = jwt::verify(
        keys,
        &token,
        TYP_ACCESS_TOKEN,
        config.issuer_str(),
        &config.api_audience,
    )
    .expect("verifies");
    assert_eq!(&verified, claims);

    group.bench_function("rs256_sign", |b| {
        b.iter(|| {
            keys.sign_jwt(TYP_ACCESS_TOKEN, black_box(claims))
                .expect("sign")
        })
    });
    group.bench_function("rs256_verify", |b| {
        b.iter(|| {
            jwt::verify::<AccessClaims>(
                keys,
                black_box(&token),
                TYP_ACCESS_TOKEN,
                config.issuer_str(),
                &config.api_audience,
            )
            .expect("verifies")
        })
    });

    // jsonwebtoken keeps the key as DER bytes and parses it inside every `encode`.
    let stored = portal
        .admin
        .token_signing
        .iter()
        .find(|k| k.life.state() == KeyState::Active)
        .expect("an active token key");
    let pkcs8 = STANDARD
        .decode(stored.pkcs8_der_b64.as_deref().expect("its private key"))
        .expect("base64");
    let encoding = jsonwebtoken::EncodingKey::from_rsa_der(&pkcs1_from_pkcs8(&pkcs8));
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some(TYP_ACCESS_TOKEN.to_owned());
    header.kid = Some(stored.kid().to_owned());
    let theirs = jsonwebtoken::encode(&header, claims, &encoding).expect("encode");
    assert!(jwt::verify::<AccessClaims>(
        keys,
        &theirs,
        TYP_ACCESS_TOKEN,
        config.issuer_str(),
        &config.api_audience
    )
    .is_ok());
    group.bench_function("rs256_jsonwebtoken_sign", |b| {
        b.iter(|| jsonwebtoken::encode(&header, black_box(claims), &encoding).expect("encode"))
    });

    let pair = RsaKeyPair::from_pkcs8(&pkcs8).expect("RSA key");
    let public = pair.public_key().as_ref().to_vec();
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public.as_slice());
    assert_eq!(&verify_raw(&key, &token), claims);
    group.bench_function("rs256_raw_verify", |b| {
        b.iter(|| verify_raw(&key, black_box(&token)))
    });
}

fn es256(group: &mut Group<'_>, claims: &AccessClaims) {
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
    let sign = |claims: &AccessClaims| {
        jws("ES256", "es256-key", claims, |input| {
            pair.sign(&rng, input).expect("sign").as_ref().to_vec()
        })
    };
    let token = sign(claims);
    let public = pair.public_key().as_ref().to_vec();
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public.as_slice());
    assert_eq!(&verify_raw(&key, &token), claims);
    group.bench_function("es256_sign", |b| b.iter(|| sign(black_box(claims))));
    group.bench_function("es256_verify", |b| {
        b.iter(|| verify_raw(&key, black_box(&token)))
    });
}

fn eddsa(group: &mut Group<'_>, claims: &AccessClaims) {
    let pair = Ed25519KeyPair::generate().expect("Ed25519 key");
    let sign = |claims: &AccessClaims| {
        jws("EdDSA", "ed25519-key", claims, |input| {
            pair.sign(input).as_ref().to_vec()
        })
    };
    let token = sign(claims);
    let public = pair.public_key().as_ref().to_vec();
    let key = UnparsedPublicKey::new(&ED25519, public.as_slice());
    assert_eq!(&verify_raw(&key, &token), claims);
    group.bench_function("eddsa_sign", |b| b.iter(|| sign(black_box(claims))));
    group.bench_function("eddsa_verify", |b| {
        b.iter(|| verify_raw(&key, black_box(&token)))
    });
}

/// What the token function's cold start does once: parse its key document into a key set (RSA key
/// pair, verification keys, JWKS, its sealing keys). The other functions parse less.
fn keyset_parse(group: &mut Group<'_>, portal: &TestContext) {
    let json = portal
        .admin
        .document(Role::Token, now_unix())
        .and_then(|d| d.to_json())
        .expect("the token key document");
    group.bench_function(KEYSET_PARSE_ID, |b| {
        b.iter(|| {
            let document = KeyDocument::from_json(black_box(&json)).expect("document");
            KeySet::from_documents(&[document]).expect("key set")
        })
    });
}

/// Sealing and opening one availability id (the most frequently sealed value): AES-256-GCM-SIV as
/// we seal, and plain AES-256-GCM with a random nonce for comparison (what the nonce limit would
/// have allowed to save).
fn sealing(group: &mut Group<'_>, portal: &TestContext) {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

    let keys = portal.keys();
    let token = AvailabilityToken {
        type_id: 198,
        category_id: 53,
        insurance_id: 136,
        starts_at: now_unix() + 86_400,
        ends_at: now_unix() + 87_600,
        exp: now_unix() + 3_600,
    };
    let id = token.seal(&keys).expect("seal");
    assert_eq!(
        AvailabilityToken::open(&keys, &id, now_unix()).expect("open"),
        token
    );
    group.bench_function(SEAL_GCM_SIV_ID, |b| {
        b.iter(|| {
            let id = black_box(&token).seal(&keys).expect("seal");
            AvailabilityToken::open(&keys, &id, 0).expect("open")
        })
    });

    let gcm = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).expect("key"));
    let rng = SystemRandom::new();
    group.bench_function(SEAL_GCM_ID, |b| {
        b.iter(|| {
            let mut nonce = [0u8; NONCE_LEN];
            aws_lc_rs::rand::SecureRandom::fill(&rng, &mut nonce).expect("nonce");
            let mut data = serde_json::to_vec(black_box(&token)).expect("json");
            gcm.seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(b"availability"),
                &mut data,
            )
            .expect("seal");
            let sealed = format!("k.{}", URL_SAFE_NO_PAD.encode([&nonce[..], &data].concat()));
            let (_, body) = sealed.split_once('.').expect("dot");
            let mut bytes = URL_SAFE_NO_PAD.decode(body).expect("base64");
            let plain = gcm
                .open_in_place(
                    Nonce::try_assume_unique_for_key(&bytes[..NONCE_LEN]).expect("nonce"),
                    Aad::from(b"availability"),
                    &mut bytes[NONCE_LEN..],
                )
                .expect("open");
            serde_json::from_slice::<AvailabilityToken>(plain).expect("json")
        })
    });
}

fn signing(c: &mut criterion::Criterion<CpuTime>) {
    let portal = portal();
    let claims = claims(&portal);
    let mut group = c.benchmark_group(SIGNING_GROUP);
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    rs256(&mut group, &portal, &claims);
    keyset_parse(&mut group, &portal);
    sealing(&mut group, &portal);
    es256(&mut group, &claims);
    eddsa(&mut group, &claims);
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = signing
}
criterion_main!(benches);
