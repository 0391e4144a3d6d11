//! One moto server (the DynamoDB emulator) shared by every test of a test process.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Environment variable naming an already running moto server (`make test` starts one for the whole run).
pub const ENDPOINT_ENV: &str = "PORTAL_TEST_DYNAMODB_ENDPOINT";

/// How long a freshly started moto server may take to answer (it is usually ready in ~0.5 s).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The server this process uses. Kept in a static, so it is never dropped while tests run.
struct Moto {
    endpoint: String,
    /// Write end of the pipe the wrapper shell reads: when this process exits, for whatever reason,
    /// the pipe closes and the wrapper stops moto. Held, never written.
    _lifeline: Option<ChildStdin>,
    _wrapper: Option<Child>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The DynamoDB endpoint URL tests talk to (`http://127.0.0.1:PORT`).
///
/// Uses the server named by `PORTAL_TEST_DYNAMODB_ENDPOINT` when set; otherwise starts one moto
/// server for this test process (the workspace's `.venv` Python running `infra/scripts/moto_server.py`,
/// as `make test` does) and stops it when the process exits.
/// Also sets dummy AWS credentials and region in the environment, so SDK clients built afterwards
/// never look for real ones.
///
/// # Panics
/// When moto is not installed or does not come up; the message says what to do.
pub fn moto_endpoint() -> String {
    MOTO.get_or_init(init).endpoint.clone()
}

fn init() -> Moto {
    set_dummy_aws_env();
    if let Ok(endpoint) = std::env::var(ENDPOINT_ENV) {
        let endpoint = endpoint.trim().trim_end_matches('/');
        if !endpoint.is_empty() {
            return Moto {
                endpoint: endpoint.to_owned(),
                _lifeline: None,
                _wrapper: None,
            };
        }
    }
    start_moto()
}

/// Runs once, inside the `OnceLock` initialiser and before any client exists, so no SDK reads the
/// environment while it changes.
fn set_dummy_aws_env() {
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(name, value);
    }
    // A real session token next to dummy keys would only confuse request signing.
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");
}

fn venv_bin(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.venv/bin")
        .join(name)
}

/// The project's moto launcher (also used by `make test`): moto serving one request at a time,
/// which makes each request atomic as in DynamoDB (threaded moto lets concurrent conditional
/// writes both succeed and concurrent transactions undo each other). An adapter that reads before
/// it writes still loses the race tests, because its read and its write are separate requests.
fn moto_launcher() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/scripts/moto_server.py")
}

fn start_moto() -> Moto {
    let binary = venv_bin("moto_server");
    let python = venv_bin("python3");
    if !binary.is_file() || !python.is_file() {
        panic!(
            "moto_server not found at {}: run `make test`, which installs moto \
             (or set {ENDPOINT_ENV} to the URL of a running moto server)",
            binary.display()
        );
    }
    let launcher = moto_launcher();
    if !launcher.is_file() {
        panic!("the moto launcher {} is missing", launcher.display());
    }
    let port = free_port();
    let log_path = std::env::temp_dir().join(format!(
        "portal-tests-moto-{}-{port}.log",
        std::process::id()
    ));
    let log = File::create(&log_path)
        .unwrap_or_else(|e| panic!("cannot create moto log {}: {e}", log_path.display()));
    let log_for_stdout = log
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot share moto log {}: {e}", log_path.display()));

    // The wrapper starts moto, then waits for end-of-file on its stdin, which happens exactly when
    // this test process is gone, however it ends (the pipe's only writer is held in `MOTO`). It
    // ignores the signals a Ctrl-C or hang-up sends to the whole process group, so it outlives the
    // test process and stops moto even if moto itself was spared.
    let script = r#""$0" "$1" "$2" & moto=$!
trap '' INT HUP TERM
cat >/dev/null
kill "$moto" 2>/dev/null"#;
    let mut wrapper = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&python)
        .arg(&launcher)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(log_for_stdout)
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", python.display()));
    let lifeline = wrapper.stdin.take();

    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + READY_TIMEOUT;
    while !answers_http(address) {
        if Instant::now() > deadline {
            let output = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!(
                "moto_server did not answer on {address} within {READY_TIMEOUT:?}; its output:\n{output}"
            );
        }
        // Polling interval, not a guess at start-up time: the loop ends as soon as moto answers.
        std::thread::sleep(Duration::from_millis(20));
    }
    // Moto logs every request; unlinking the log keeps the disk clean while moto still writes to it.
    let _ = std::fs::remove_file(&log_path);

    Moto {
        endpoint: format!("http://{address}"),
        _lifeline: lifeline,
        _wrapper: Some(wrapper),
    }
}

/// A port that was free a moment ago (the OS picks it; the listener is closed before moto binds it).
fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .unwrap_or_else(|e| panic!("cannot find a free local port for moto: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("cannot read the free port: {e}"))
        .port()
}

/// Whether an HTTP server answers a GET at `address` (any status counts: it is up).
fn answers_http(address: SocketAddr) -> bool {
    let timeout = Duration::from_millis(500);
    let Ok(mut stream) = TcpStream::connect_timeout(&address, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    if stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// A DynamoDB table name no other test (of this or a concurrent process) uses: the prefix (invalid
/// characters replaced by `-`), the process id, a counter and the clock. Always 3..=255 characters of
/// `[a-zA-Z0-9_.-]`.
pub fn unique_table_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(150)
        .collect();
    let clean = if clean.is_empty() {
        "t".to_owned()
    } else {
        clean
    };
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{clean}-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_table_name(name: &str) -> bool {
        (3..=255).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    }

    #[test]
    fn unique_table_names_differ_and_are_valid_dynamodb_names() {
        let long = "x".repeat(400);
        let names: Vec<String> = ["", "a", "store contract/é", long.as_str(), "ok_name.v1-x"]
            .iter()
            .flat_map(|p| [unique_table_name(p), unique_table_name(p)])
            .collect();
        for name in &names {
            assert!(valid_table_name(name), "invalid table name {name:?}");
        }
        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "names repeat: {names:?}");
    }
}
