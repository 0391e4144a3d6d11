//! Fuzzes the JSON APIs through `cargo lambda watch` with schemathesis, driven by the OpenAPI
//! document the portal itself serves at `/api-docs/openapi.json`: no answer may be a 5xx, and every
//! answer's status code, content type and body must be the ones the document declares.
//!
//! The test signs a patient in through the real pages (one successful sign-in, no failed ones:
//! the per-address throttle is shared with the other end-to-end tests), gets an access token with
//! every scope, makes sure a catalog is loaded (otherwise every booking route would rightly answer
//! 503), and runs `.venv/bin/schemathesis` (installed by `make test` from `infra/requirements/test.txt`)
//! twice with that token: over every JSON operation with generated ids, then over the appointment
//! operations with two real appointments of the patient. Reports are printed; the test fails when
//! either run reports a failure.
//!
//! Environment: `PORTAL_SCHEMATHESIS_SEED` (default fixed, so runs are reproducible),
//! `PORTAL_SCHEMATHESIS_EXAMPLES` (test cases per operation and phase, default 15; the two runs
//! take about half a minute on two cores) and `PORTAL_SCHEMATHESIS_CHECKS` (comma-separated
//! schemathesis checks instead of [`CHECKS`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use portal_tests::browser::Decision;
use portal_tests::e2e::{code_from, finish_sign_in, http_client, E2e};
use portal_tests::watch::workspace_root;
use serde_json::Value;
use testkit::catalog;

/// Every scope: the fuzzed routes must answer as for a fully authorised app.
const SCOPES: &[&str] = testkit::oauth::SCOPES;

/// Operations fuzzed: the booking and ASAP API, the profile, UserInfo, discovery, JWKS and the
/// OpenAPI document itself. Left out, on purpose:
/// - `/oauth/authorize`, `/oauth/login`, `/oauth/consent`, `/oauth/logout`: HTML pages for a
///   browser, whose posts need a CSRF cookie and a sealed request schemathesis cannot make, so
///   only their error pages would be reached; and failed sign-ins would count against the
///   per-address login throttle the other end-to-end tests share.
/// - `/oauth/token`, `/oauth/revoke`, `/oauth/introspect`: they authenticate clients, not bearer
///   tokens, so with this run's `Authorization: Bearer` header every case is `invalid_client`;
///   their errors are covered by `token_handler/` and the e2e OAuth tests.
/// - `/api-docs`: the browsable page and its static files, not a JSON API.
const INCLUDE_PATHS: &str =
    r"^/(api/portal/v1/.*|\.well-known/.*|oauth/userinfo|api-docs/openapi\.json)$";

/// What a run must not find.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// The schemathesis executable of the project's virtualenv.
fn schemathesis() -> PathBuf {
    let path = workspace_root().join(".venv/bin/schemathesis");
    assert!(
        path.exists(),
        "{} is missing: run `make test` (or `make tools`), which installs schemathesis from \
         infra/requirements/test.txt into .venv",
        path.display()
    );
    path
}

/// An access token with [`SCOPES`] for a fresh patient, through the real pages and token endpoint.
async fn access_token(e2e: &E2e) -> String {
    let client = e2e.confidential_client().await;
    let patient = e2e.patient().await;
    let oauth = BasicClient::new(ClientId::new(client.id.clone()))
        .set_client_secret(ClientSecret::new(client.secret().to_owned()))
        .set_auth_uri(AuthUrl::new(e2e.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(e2e.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(client.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oauth
        .authorize_url(CsrfToken::new_random)
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    let browser = e2e.browser();
    let landing = browser
        .open(url.as_str())
        .await
        .expect("authorization page");
    let redirect = finish_sign_in(&browser, landing, &patient, Decision::Allow).await;
    let code = code_from(
        &redirect,
        &client.redirect_uri,
        Some(state.secret()),
        e2e.issuer(),
    );
    let tokens = oauth
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http_client())
        .await
        .expect("code exchange");
    tokens.access_token().secret().clone()
}

/// Books a free slot of `type_id` (category `category_id`, insurance 136) for the token's patient
/// and returns the appointment id; retries another slot when one was taken meanwhile.
async fn book(e2e: &E2e, token: &str, category_id: i64, type_id: i64) -> String {
    let http = http_client();
    for attempt in 0..5 {
        let search = e2e.url(&format!(
            "/api/portal/v1/availabilities?category_id={category_id}&type_id={type_id}&insurance_id=136&limit=20"
        ));
        let response = http.get(search).bearer_auth(token).send().await.unwrap();
        let status = response.status();
        let page: Value = response.json().await.unwrap_or(Value::Null);
        let slots = page["data"].as_array().cloned().unwrap_or_default();
        assert!(
            status == 200 && !slots.is_empty(),
            "no free slot of type {type_id} in the demo catalog ({status}): {page}"
        );
        // Spread over the page so parallel tests rarely want the same slot.
        let pick = (shared::crypto::random_id(4)
            .bytes()
            .map(usize::from)
            .sum::<usize>()
            + attempt)
            % slots.len();
        let response = http
            .post(e2e.url("/api/portal/v1/booking"))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "availability_id": slots[pick]["id"],
                "insurance_id": 136,
            }))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            201 => {
                let body: Value = response.json().await.unwrap();
                return body["id"].as_str().expect("appointment id").to_owned();
            }
            409 => continue,
            other => panic!("booking failed: {other} {}", response.text().await.unwrap()),
        }
    }
    panic!("every slot tried for type {type_id} was taken meanwhile")
}

/// One schemathesis run over the operations `include` matches; `config` is a
/// `schemathesis.toml` (parameter overrides). Returns whether it passed, after printing its
/// report.
fn run_schemathesis(e2e: &E2e, spec: &Path, token: &str, include: &str, config: &str) -> bool {
    let seed = std::env::var("PORTAL_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261130".into());
    let examples =
        std::env::var("PORTAL_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "15".to_owned());
    let checks = std::env::var("PORTAL_SCHEMATHESIS_CHECKS").unwrap_or_else(|_| CHECKS.to_owned());
    let folder = tempfile::tempdir().expect("report folder");
    let config_file = folder.path().join("schemathesis.toml");
    std::fs::write(&config_file, config).expect("write the schemathesis configuration");
    let output = Command::new(schemathesis())
        .arg("--config-file")
        .arg(&config_file)
        .arg("--no-color")
        .arg("run")
        .arg(spec)
        .args(["--url", &e2e.url("/")])
        .args(["--checks", &checks])
        .args(["--include-path-regex", include])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &examples])
        .args(["--seed", &seed])
        .args(["--workers", "2"])
        .args(["--generation-codec", "utf-8"])
        .args(["--generation-database", "none"])
        // `cargo lambda watch` starts (and outside `make test` compiles) a function on its first
        // request.
        .args(["--request-timeout", "300"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .args(["--output-truncate", "false"])
        .arg("--report-dir")
        .arg(folder.path())
        // See tests/schemathesis/portal_hooks.py.
        .env("SCHEMATHESIS_HOOKS", "portal_hooks")
        .env("PYTHONPATH", workspace_root().join("tests/schemathesis"))
        .current_dir(folder.path())
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("== schemathesis over {include} (seed {seed})\n{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    output.status.success() && stdout.contains("passed")
}

/// The document the server publishes, fetched once (schemathesis then reads it from a file).
/// `cargo lambda watch` itself sometimes answers a large response with its own 500 (see
/// tests/schemathesis/portal_hooks.py): only that emulator error is retried.
async fn fetch_spec(e2e: &E2e) -> String {
    let client = reqwest::Client::new();
    let mut last = String::new();
    for _ in 0..5 {
        let response = client
            .get(e2e.url("/api-docs/openapi.json"))
            .send()
            .await
            .expect("fetch the OpenAPI document");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return text;
        }
        assert!(
            status.is_server_error() && !text.contains("server_error"),
            "the portal itself failed to serve its OpenAPI document: {status} {text}"
        );
        last = format!("{status} {text}");
    }
    panic!("the OpenAPI document could not be fetched: {last}");
}

#[tokio::test]
async fn the_json_apis_answer_as_their_openapi_document_says() {
    schemathesis();
    let e2e = E2e::new().await;
    catalog::ensure_demo(&e2e.store).await;
    let token = access_token(&e2e).await;
    let folder = tempfile::tempdir().expect("spec folder");
    let spec = folder.path().join("openapi.json");
    std::fs::write(&spec, fetch_spec(&e2e).await).expect("write the OpenAPI document");

    // Every operation, with generated ids (unknown appointments: the 404 paths).
    let everything = run_schemathesis(&e2e, &spec, &token, INCLUDE_PATHS, "");

    // The appointment operations again, on the patient's real appointments (a consultation and
    // a video consultation), so the 200 and 409 paths are reached too.
    let consultation = book(&e2e, &token, 53, 198).await;
    let video = book(&e2e, &token, 53, 199).await;
    let config = format!(
        "[[operations]]\n\
         include-path-regex = '^/api/portal/v1/appointments/\\{{id\\}}(/video_consultation)?$'\n\
         parameters = {{ \"path.id\" = \"{video}\" }}\n\n\
         [[operations]]\n\
         include-path-regex = '^/api/portal/v1/appointments/\\{{id\\}}/(availabilities|asap_list|earlier_availability)$'\n\
         parameters = {{ \"path.id\" = \"{consultation}\" }}\n"
    );
    let appointments = run_schemathesis(
        &e2e,
        &spec,
        &token,
        r"^/api/portal/v1/appointments/\{id\}",
        &config,
    );

    assert!(
        everything && appointments,
        "schemathesis found problems; see its reports above"
    );
}
