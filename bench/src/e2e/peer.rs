//! The peer: node's oidc-provider 9 (`bench/oidc-provider/`, pinned by its `package-lock.json`),
//! started as one node process on a free port, and what one of its JWT signs costs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::BenchError;

/// The peer's client registration (its own, in its configuration).
pub const CLIENT_ID: &str = "bench-client";
/// Its secret (`client_secret_basic`).
pub const CLIENT_SECRET: &str = "bench-client-secret-for-the-benchmark-only";
/// Its redirect URI (never opened: the load generator stops at the redirect).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
/// The scopes asked for: what it releases in the id_token and at userinfo.
pub const SCOPE: &str = "openid email";

/// A running oidc-provider; killed when dropped.
pub struct Peer {
    child: Child,
    issuer: String,
}

impl Peer {
    /// Installs the pinned packages if they are missing (`npm ci`), then starts `server.js`.
    pub async fn start(dir: &Path, node: &str, port: u16) -> Result<Peer, BenchError> {
        ensure_installed(dir).await?;
        let mut child = Command::new(node)
            .arg("server.js")
            .arg(port.to_string())
            .args([CLIENT_ID, CLIENT_SECRET, REDIRECT_URI])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BenchError::new(format!("starting {node} server.js: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| BenchError::new("oidc-provider has no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(issuer) = line.strip_prefix("ready ") {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await;
        match ready {
            Ok(Some(issuer)) => {
                // Keep reading: node dies of EPIPE on its next notice if nobody does.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                Ok(Peer { child, issuer })
            }
            _ => Err(BenchError::new(
                "oidc-provider did not say `ready` within 30 s (run it by hand: cd bench/oidc-provider && node server.js 9500 a b http://x/cb)",
            )),
        }
    }

    /// Its issuer (and base URL).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Its process id.
    pub fn pid(&self) -> Result<u32, BenchError> {
        self.child
            .id()
            .ok_or_else(|| BenchError::new("oidc-provider has exited"))
    }
}

async fn ensure_installed(dir: &Path) -> Result<(), BenchError> {
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(dir)
        .status()
        .await
        .map_err(|e| BenchError::new(format!("npm ci in {}: {e}", dir.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::new(format!(
            "npm ci in {} failed ({status})",
            dir.display()
        )))
    }
}

/// CPU time of one RS256 JWT sign in node (`sign.js`: the `jose` signing oidc-provider uses), µs.
pub async fn node_sign_us(dir: &Path, node: &str) -> Result<f64, BenchError> {
    let output = Command::new(node)
        .args(["sign.js", "2000"])
        .current_dir(dir)
        .output()
        .await
        .map_err(|e| BenchError::new(format!("{node} sign.js: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str::<serde_json::Value>(text.trim())
        .ok()
        .and_then(|v| v["cpu_us_per_sign"].as_f64())
        .ok_or_else(|| BenchError::new(format!("sign.js printed no figure: {text}")))
}

/// The folder of the peer in the repository (`bench/oidc-provider`).
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}
