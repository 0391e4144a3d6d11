//! Where the benchmarks leave their numbers, and how the report reads them back.
//!
//! Everything goes under one folder: `$PORTAL_BENCH_OUT`, else `$CARGO_TARGET_DIR/portal-bench`,
//! else `target/portal-bench`. Criterion writes its estimates under `$CRITERION_HOME` (which
//! `infra/scripts/bench.sh` points at `<out>/criterion`), else `$CARGO_TARGET_DIR/criterion`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::BenchError;

/// File of [`HandlerRecord`]s (by operation id).
pub const HANDLERS_FILE: &str = "handlers.json";
/// File of [`ColdStartRecord`]s (by function).
pub const COLDSTART_FILE: &str = "coldstart.json";

/// The output folder.
pub fn out_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PORTAL_BENCH_OUT") {
        return PathBuf::from(dir);
    }
    target_dir().join("portal-bench")
}

/// Criterion's output folder (same rule criterion follows).
pub fn criterion_dir() -> PathBuf {
    match std::env::var_os("CRITERION_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => target_dir().join("criterion"),
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// What the handler benchmark measured besides CPU time.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HandlerRecord {
    /// Storage round trips per operation, averaged over every measured iteration.
    pub round_trips: f64,
    /// Measured iterations the average is over.
    pub iterations: u64,
    /// JWTs signed per operation (RS256 signs), counted in a response.
    pub signs: u32,
    /// The status every measured iteration answered (checked on each one).
    pub status: u16,
}

/// What the cold-start harness measured for one function.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ColdStartRecord {
    /// Binary file.
    pub binary: String,
    /// Cargo profile it was built with.
    pub profile: String,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Spawn → first `GET /runtime/invocation/next`, in ms, one per cold start.
    pub init_ms: Vec<f64>,
    /// Median of `init_ms`.
    pub init_median_ms: f64,
    /// CPU time the process had used (all threads) when it first asked for an event, in ms, one
    /// per init-only cold start: init cost without the waiting (contention does not inflate it).
    pub init_cpu_ms: Vec<f64>,
    /// Median of `init_cpu_ms`.
    pub init_cpu_median_ms: f64,
    /// CPU time per invocation while serving (all threads, runtime client included), in µs.
    pub cpu_per_invocation_us: f64,
    /// Peak RSS (VmHWM) when init was done, in KiB (from the serving run).
    pub rss_after_init_kb: u64,
    /// Peak RSS (VmHWM) after the invocations, in KiB.
    pub peak_rss_kb: u64,
    /// Invocations served.
    pub invocations: u64,
    /// Wall time to serve them, in ms (runtime round trip included).
    pub serve_ms: f64,
    /// What was asked for each invocation.
    pub request: String,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
}

/// Reads a JSON map written by [`update`]; a missing file is an empty map.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<BTreeMap<String, T>, BenchError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| BenchError::new(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(BenchError::new(format!("{}: {e}", path.display()))),
    }
}

/// Sets `key` to `value` in the JSON map at `path` (created with its folder when missing).
pub fn update<T: Serialize + DeserializeOwned>(
    path: &Path,
    key: &str,
    value: T,
) -> Result<(), BenchError> {
    let mut map: BTreeMap<String, T> = read(path)?;
    map.insert(key.to_owned(), value);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::new(format!("{}: {e}", dir.display())))?;
    }
    let text = serde_json::to_string_pretty(&map)
        .map_err(|e| BenchError::new(format!("serialising {}: {e}", path.display())))?;
    std::fs::write(path, text).map_err(|e| BenchError::new(format!("{}: {e}", path.display())))
}

/// Criterion's mean for `group/id` in nanoseconds (of whatever it measured: CPU time here), from
/// `<criterion>/<group>/<id>/new/estimates.json`; `None` when that benchmark has not run.
pub fn criterion_mean_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}
