//! The portal served by `cargo lambda watch`, as `make run` serves it, for end-to-end tests.
//!
//! `make test` starts one server for the whole run and exports its address (`PORTAL_TEST_BASE_URL`) and
//! data folder (`PORTAL_TEST_DATA_DIR`); tests then own their data by creating their own clients and
//! patients. Run alone (`cargo test`), a test process starts its own server on a free port instead.
//!
//! A second server, [`localhost_portal`], serves the same binaries under the issuer
//! `http://localhost:PORT`: browsers refuse WebAuthn on an IP-address origin, so the passkey browser
//! scenario runs there (`PORTAL_TEST_LOCALHOST_BASE_URL`, `PORTAL_TEST_LOCALHOST_DATA_DIR`).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use shared::config::Config;

/// A running local portal.
#[derive(Debug, Clone)]
pub struct LocalPortal {
    /// `http://127.0.0.1:PORT` (or `http://localhost:PORT`, see [`localhost_portal`]) — also the
    /// issuer.
    pub base_url: String,
    /// Its data folder (SQLite file, keys, outbox).
    pub data_dir: PathBuf,
}

impl LocalPortal {
    /// The store path functions use, as a `PORTAL_STORE` value.
    pub fn store_setting(&self) -> String {
        format!("sqlite:{}", self.data_dir.join("portal.db").display())
    }

    /// The configuration the functions of this portal run with.
    pub fn config(&self) -> Config {
        let vars = [
            ("PORTAL_DATA_DIR", self.data_dir.display().to_string()),
            ("PORTAL_STORE", self.store_setting()),
            ("PORTAL_ISSUER", self.base_url.clone()),
        ];
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
        .expect("test portal configuration is valid")
    }

    /// A URL on this portal.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// Workspace root (the folder holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate sits in the workspace")
        .to_path_buf()
}

/// The shared portal of this test run: the one `make test` started, or one started for this process.
pub fn portal() -> &'static LocalPortal {
    static PORTAL: OnceLock<LocalPortal> = OnceLock::new();
    PORTAL.get_or_init(|| given_or_own("PORTAL_TEST_BASE_URL", "PORTAL_TEST_DATA_DIR", "127.0.0.1"))
}

/// The test run's portal whose issuer is `http://localhost:PORT` (a host browsers accept as a
/// WebAuthn relying party): the one `make test` started, or one started for this process.
pub fn localhost_portal() -> &'static LocalPortal {
    static PORTAL: OnceLock<LocalPortal> = OnceLock::new();
    PORTAL.get_or_init(|| {
        given_or_own(
            "PORTAL_TEST_LOCALHOST_BASE_URL",
            "PORTAL_TEST_LOCALHOST_DATA_DIR",
            "localhost",
        )
    })
}

/// The portal `make test` named in the variables `base_url` and `data_dir`, or else one started
/// for this process under the issuer host `host`.
fn given_or_own(base_url: &str, data_dir: &str, host: &str) -> LocalPortal {
    match (std::env::var(base_url), std::env::var(data_dir)) {
        (Ok(base_url), Ok(data_dir)) => LocalPortal {
            base_url,
            data_dir: data_dir.into(),
        },
        _ => start_own(host),
    }
}

/// Starts a server bound to 127.0.0.1 whose issuer names `host` (`127.0.0.1` or `localhost`).
fn start_own(host: &str) -> LocalPortal {
    let root = workspace_root();
    let data_dir = std::env::temp_dir().join(format!(
        "portal-e2e-{}-{}",
        std::process::id(),
        shared_suffix()
    ));
    std::fs::create_dir_all(&data_dir).expect("create test data dir");
    let port = free_port();
    let portal = LocalPortal {
        base_url: format!("http://{host}:{port}"),
        data_dir,
    };
    let venv_bin = root.join(".venv/bin");
    assert!(
        venv_bin.join("cargo-lambda").exists(),
        "cargo-lambda is not installed in {}: run `make test`, which installs it",
        venv_bin.display()
    );
    let path = format!(
        "{}:{}",
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The server runs in its own process group under a watchdog that ends the group once this test
    // process is gone, so no server outlives the test run.
    let script = format!(
        "cargo lambda watch --quiet --concurrency 4 -A 127.0.0.1 -P {port} --disable-cors \
         --env-var PORTAL_DATA_DIR={data} --env-var PORTAL_STORE={store} --env-var PORTAL_ISSUER={issuer} \
         >{data}/watch.log 2>&1 & \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill -- -$$",
        data = portal.data_dir.display(),
        store = portal.store_setting(),
        issuer = portal.base_url,
        parent = std::process::id(),
    );
    let mut command = Command::new("setsid");
    // What cargo sets for this test binary (CARGO_MANIFEST_DIR, CARGO_PKG_*, ...) must not reach
    // the watch server's `cargo run`: build scripts that track such a variable (ring's tracks
    // CARGO_MANIFEST_DIR) would see it change, and every function would be rebuilt on its first
    // request, then again by the next `make run`.
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_crate_variable) {
            command.env_remove(&name);
        }
    }
    let mut child = command
        .arg("bash")
        .arg("-c")
        .arg(script)
        .current_dir(&root)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cargo lambda watch");
    // Reap the wrapper when it ends (it outlives this process only by the watchdog's last second).
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    wait_for_port(port, Duration::from_secs(120));
    portal
}

/// Whether cargo sets the environment variable `name` for the crate it builds or runs (as opposed
/// to the user's own settings such as `CARGO_TARGET_DIR` or `CARGO_HOME`).
fn is_crate_variable(name: &str) -> bool {
    matches!(
        name,
        "CARGO_MANIFEST_DIR"
            | "CARGO_MANIFEST_PATH"
            | "CARGO_CRATE_NAME"
            | "CARGO_BIN_NAME"
            | "CARGO_PRIMARY_PACKAGE"
            | "CARGO_TARGET_TMPDIR"
            | "CARGO_RUSTC_CURRENT_DIR"
    ) || name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
}

fn shared_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "cargo lambda watch did not listen on {port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether an answer is `cargo lambda watch`'s own 500 rather than a function's.
///
/// The emulator hands a function's response body to the waiting HTTP request only after it has
/// answered the function's `POST …/response`; with a large body (tens of KiB) the connection can end
/// before the body is read, and the emulator then answers its own problem document
/// (`"type":"https://httpstatuses.com/500"`), which no function sends: their 500 is
/// `{"error":"server_error",…}`. API Gateway has no such fault.
pub fn is_emulator_fault(status: u16, body: &str) -> bool {
    status == 500 && body.contains("https://httpstatuses.com/500")
}

/// Sends an idempotent request (GET, or one the portal deduplicates) through the emulator, sending
/// it again (up to 3 more times) only when the emulator itself failed (see [`is_emulator_fault`]).
/// Returns the status and body text of the first answer that is the function's own.
pub async fn send_idempotent(request: reqwest::RequestBuilder) -> (u16, String) {
    let mut last = String::new();
    for _ in 0..4 {
        let attempt = request
            .try_clone()
            .expect("an idempotent request has a body that can be sent again");
        let response = attempt.send().await.expect("the local portal answers");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        if !is_emulator_fault(status, &body) {
            return (status, body);
        }
        last = body;
    }
    panic!("cargo lambda watch failed the request four times: {last}");
}

#[cfg(test)]
mod tests {
    use super::is_emulator_fault;

    #[test]
    fn only_the_variables_cargo_sets_for_a_crate_are_kept_from_the_watch_server() {
        use super::is_crate_variable;
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_EXE_token",
        ] {
            assert!(is_crate_variable(name), "{name}");
        }
        for name in ["CARGO_TARGET_DIR", "CARGO_HOME", "PATH", "CARGO"] {
            assert!(!is_crate_variable(name), "{name}");
        }
    }

    #[test]
    fn only_the_emulators_problem_document_counts_as_its_fault() {
        let emulator = r#"{"status":500,"title":"Internal Server Error","type":"https://httpstatuses.com/500"}"#;
        assert!(is_emulator_fault(500, emulator));
        let function = r#"{"error":"server_error","error_description":"internal error"}"#;
        assert!(!is_emulator_fault(500, function));
        assert!(!is_emulator_fault(200, emulator));
    }
}
