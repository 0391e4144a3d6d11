//! A second, independent relying party: Python's Authlib (`tests/rp/authlib_rp.py`) learns
//! everything from discovery and runs the code flow with PKCE, id_token validation against the
//! JWKS, userinfo, refresh-token rotation (and reuse detection), revocation, and a newly registered
//! patient (register, confirm the mailed link, sign in), against the
//! portal served by `cargo lambda watch`, with its own client and patient.
//!
//! Authlib lives in the project's virtualenv (`.venv`, from `infra/requirements/test.txt`), which
//! `make test` installs; without it this test fails, it does not skip.

mod rp_support;

use portal_tests::e2e::E2e;
use rp_support::{common_env, in_workspace, loopback_client, require, run_ok};
use shared::keys::SigningAlg;

#[tokio::test]
async fn authlib_signs_in_refreshes_and_revokes_from_discovery_alone() {
    authlib_rp(SigningAlg::RS256).await;
}

/// A client registered with `id_token_signed_response_alg=ES256` gets ES256 id_tokens (at the code
/// exchange and on refresh) that Authlib verifies with the P-256 key of the published JWKS.
#[tokio::test]
async fn authlib_verifies_es256_id_tokens_of_a_client_that_registered_them() {
    authlib_rp(SigningAlg::ES256).await;
}

async fn authlib_rp(alg: SigningAlg) {
    let python = in_workspace(".venv/bin/python");
    let hint = "`make test` creates the virtualenv with Authlib from infra/requirements/test.txt";
    require(&python, "the project's Python virtualenv", hint);
    require(
        &in_workspace(".venv/lib"),
        "the virtualenv's libraries",
        hint,
    );

    let e2e = E2e::new().await;
    let name = format!("Authlib relying party, {} (e2e)", alg.name());
    let client = loopback_client(&e2e, &name, alg).await;
    let patient = e2e.patient().await;
    let script = in_workspace("tests/rp/authlib_rp.py");
    let mut env = common_env(&e2e, &client, &patient);
    env.push(("ID_TOKEN_ALG".to_owned(), alg.name().to_owned()));
    // Registration's confirmation link is read where `make run`'s stack puts mail.
    let outbox = portal_tests::watch::portal().data_dir.join("outbox");
    env.push(("OUTBOX_DIR".to_owned(), outbox.display().to_string()));
    let printed = run_ok(
        &python,
        &[&script.display().to_string()],
        &in_workspace(""),
        &env,
    )
    .await;
    assert!(
        printed.contains("authlib RP: all checks passed"),
        "the script's success line:\n{printed}"
    );
    println!("{printed}");
}
