//! A second, independent relying party: Python's Authlib (`tests/rp/authlib_rp.py`) learns
//! everything from discovery and runs the code flow with PKCE, id_token validation against the
//! JWKS, userinfo, refresh-token rotation (and reuse detection), and revocation, against the
//! portal served by `cargo lambda watch`, with its own client and patient.
//!
//! Authlib lives in the project's virtualenv (`.venv`, from `infra/requirements/test.txt`), which
//! `make test` installs; without it this test fails, it does not skip.

mod rp_support;

use portal_tests::e2e::E2e;
use rp_support::{common_env, in_workspace, loopback_client, require, run_ok};

#[tokio::test]
async fn authlib_signs_in_refreshes_and_revokes_from_discovery_alone() {
    let python = in_workspace(".venv/bin/python");
    let hint = "`make test` creates the virtualenv with Authlib from infra/requirements/test.txt";
    require(&python, "the project's Python virtualenv", hint);
    require(
        &in_workspace(".venv/lib"),
        "the virtualenv's libraries",
        hint,
    );

    let e2e = E2e::new().await;
    let client = loopback_client(&e2e, "Authlib relying party (e2e)").await;
    let patient = e2e.patient().await;
    let script = in_workspace("tests/rp/authlib_rp.py");
    let printed = run_ok(
        &python,
        &[&script.display().to_string()],
        &in_workspace(""),
        &common_env(&e2e, &client, &patient),
    )
    .await;
    assert!(
        printed.contains("authlib RP: all checks passed"),
        "the script's success line:\n{printed}"
    );
    println!("{printed}");
}
