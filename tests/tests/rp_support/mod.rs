//! What the drivers of external relying parties (`e2e_browser.rs`, `e2e_second_rp.rs`) share: a
//! confidential client with a loopback redirect URI (RFC 8252) registered in the running portal's
//! store, a patient, and running an external program with them in its environment, its output
//! shown when it fails.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use portal_tests::e2e::{E2e, TestPatient};
use portal_tests::watch::{free_port, workspace_root};
use shared::domain::client::{Client, RedirectUri};
use shared::keys::SigningAlg;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use tokio::process::Command;

/// Longest an external test program may run: it starts a browser or an interpreter and signs in
/// a few times; outside `make test` each function may also compile on its first request.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(900);

/// A confidential client registered for one test.
pub struct LoopbackClient {
    pub id: String,
    pub secret: String,
    pub name: String,
    /// `http://127.0.0.1:<port>/callback` on a port free when the test began: the browser scenarios
    /// listen on it themselves, the scripted relying party just reads the redirect.
    pub redirect_uri: String,
}

/// A fresh confidential client named `name`, allowed every scope, with a loopback redirect URI,
/// registered with `id_token_signed_response_alg` = `alg`.
pub async fn loopback_client(e2e: &E2e, name: &str, alg: SigningAlg) -> LoopbackClient {
    let redirect_uri = format!("http://127.0.0.1:{}/callback", free_port());
    let (client, secret) = Client::new_confidential(
        name,
        vec![RedirectUri::parse(&redirect_uri).expect("valid loopback redirect URI")],
        Scopes::all(),
    )
    .expect("valid client");
    let client = client.with_id_token_alg(alg);
    ClientRepo::new(e2e.store.clone())
        .create(&client)
        .await
        .expect("register the client");
    LoopbackClient {
        id: client.id.to_string(),
        secret,
        name: name.to_owned(),
        redirect_uri,
    }
}

/// The environment every external relying party gets.
pub fn common_env(
    e2e: &E2e,
    client: &LoopbackClient,
    patient: &TestPatient,
) -> Vec<(String, String)> {
    [
        ("PORTAL_BASE_URL", e2e.issuer()),
        ("PORTAL_ISSUER", e2e.issuer()),
        ("CLIENT_ID", &client.id),
        ("CLIENT_SECRET", &client.secret),
        ("CLIENT_NAME", &client.name),
        ("REDIRECT_URI", &client.redirect_uri),
        ("PATIENT_EMAIL", &patient.email),
        ("PATIENT_PASSWORD", &patient.password),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `path` under the workspace root.
pub fn in_workspace(path: &str) -> PathBuf {
    workspace_root().join(path)
}

/// Panics with `hint` unless `path` exists: a missing tool is a failed test, never a skipped one.
pub fn require(path: &Path, what: &str, hint: &str) {
    assert!(
        path.exists(),
        "{what} is missing ({}). {hint}",
        path.display()
    );
}

/// Runs `program args` in `dir` with `env` and asserts it exits with status 0, showing everything
/// it printed when it does not. Returns what it printed.
pub async fn run_ok(program: &Path, args: &[&str], dir: &Path, env: &[(String, String)]) -> String {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .kill_on_drop(true);
    let shown = format!("{} {}", program.display(), args.join(" "));
    let output: Output = tokio::time::timeout(PROGRAM_TIMEOUT, command.output())
        .await
        .unwrap_or_else(|_| panic!("`{shown}` did not finish within {PROGRAM_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("cannot start `{shown}`: {e}"));
    let printed = format!(
        "--- stdout ---\n{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "`{shown}` failed ({}):\n{printed}",
        output.status
    );
    printed
}
