//! A function that cannot start says why in one line and exits, instead of panicking or hanging.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// A function's binary: where `make test` built it for the watch server, else beside this test binary.
fn function_binary(name: &str) -> PathBuf {
    let dir = match std::env::var("PORTAL_TEST_FUNCTION_BIN_DIR") {
        Ok(dir) => PathBuf::from(dir),
        // target/debug/deps/boot-xxxx -> target/debug
        Err(_) => {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().to_path_buf()
        }
    };
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the functions first (`cargo build --workspace --bins`, done by make test)",
        path.display()
    );
    path
}

/// Runs the `token` function with only `vars` set: exit code, stderr, stdout, and how long it took.
fn run(vars: &[(&str, &str)]) -> (i32, String, String, Duration) {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(function_binary("token"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORTAL_DATA_DIR", data.path())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1");
    for (k, v) in vars {
        command.env(k, v);
    }
    let started = Instant::now();
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        started.elapsed(),
    )
}

fn start(vars: &[(&str, &str)]) -> (i32, String, Duration) {
    let (code, stderr, _, elapsed) = run(vars);
    (code, stderr, elapsed)
}

#[test]
fn a_bad_store_setting_stops_the_function_with_one_line_naming_the_variable() {
    let (code, stderr, _) = start(&[("PORTAL_STORE", "postgres://db")]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("PORTAL_STORE"), "{stderr}");
    assert!(lines[0].contains("sqlite:PATH"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unreachable_dynamodb_endpoint_fails_fast_with_one_clear_line() {
    let port = portal_tests::watch::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (code, stderr, elapsed) = start(&[
        ("PORTAL_STORE", "dynamodb:portal-table"),
        ("PORTAL_AWS_ENDPOINT", &endpoint),
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("portal-table"), "{stderr}");
    assert!(lines[0].contains(&endpoint), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[test]
fn an_http_issuer_on_a_public_host_is_refused_at_start() {
    let (code, stderr, _) = start(&[("PORTAL_ISSUER", "http://portal.example")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("PORTAL_ISSUER"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_bad_video_url_log_level_or_keys_secret_stops_the_function_naming_the_variable() {
    for (variable, value) in [
        ("PORTAL_VIDEO_BASE_URL", "http://video.example/join"),
        ("PORTAL_LOG_LEVEL", "verbose"),
        ("RUST_LOG", "info,h2=loud"),
        ("PORTAL_KEYS_SECRET_ARN", "arn:aws:s3:::not-a-secret"),
    ] {
        let (code, stderr, stdout, _) = run(&[(variable, value)]);
        assert_eq!(code, 1, "{variable}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{variable}: {stderr}");
        assert!(lines[0].contains(variable), "{stderr}");
        assert!(lines[0].contains(value), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // Logs are up (at the default level) before the configuration is refused, so the refusal
        // is also a structured log line.
        let logged: serde_json::Value = stdout
            .lines()
            .find_map(|line| serde_json::from_str(line).ok())
            .unwrap_or_else(|| panic!("{variable}: no JSON log line in {stdout:?}"));
        assert_eq!(logged["level"], "ERROR", "{logged}");
        assert!(
            logged["fields"]["error"]
                .as_str()
                .is_some_and(|e| e.contains(variable)),
            "{logged}"
        );
    }
}
