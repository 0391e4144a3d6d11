//! Function processes as the harnesses start and measure them: a release binary with the
//! environment Lambda gives it (pointed at a local Runtime API), and what `/proc` says about it.

use std::path::Path;
use std::process::Stdio;

use tokio::process::Command;

use crate::BenchError;

/// What a function process is started with besides Lambda's own variables.
pub struct Launch<'a> {
    /// The binary.
    pub binary: &'a Path,
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub function: &'a str,
    /// `host:port` of its Runtime API.
    pub runtime_api: &'a str,
    /// The portal's variables (`PORTAL_STORE`, `PORTAL_DATA_DIR`, `PORTAL_ISSUER`, ...).
    pub env: &'a [(String, String)],
    /// A program (and its arguments) to start the binary under, e.g. `perf record -g`; empty
    /// for none.
    pub wrapper: &'a [String],
    /// Where its stdout and stderr go.
    pub log: &'a Path,
}

impl Launch<'_> {
    /// Starts the process with a clean environment: Lambda's variables (128 MB, `eu-central-1`,
    /// UTC) and [`Launch::env`]. It is killed when the returned child is dropped.
    pub fn spawn(&self) -> Result<tokio::process::Child, BenchError> {
        let log_file = std::fs::File::create(self.log)
            .map_err(BenchError::from_display("creating a log file"))?;
        let err_file = log_file
            .try_clone()
            .map_err(BenchError::from_display("cloning a log file"))?;
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(self.binary);
                command
            }
            None => Command::new(self.binary),
        };
        let function = self.function;
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", "eu-central-1")
            .env("AWS_DEFAULT_REGION", "eu-central-1")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| BenchError::new(format!("starting {}: {e}", self.binary.display())))
    }
}

/// `VmHWM` (peak resident set) of process `pid`, in KiB.
pub fn peak_rss_kb(pid: u32) -> Result<u64, BenchError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(BenchError::from_display("reading /proc/<pid>/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| BenchError::new("no VmHWM in /proc/<pid>/status"))
}

/// CPU time of all live threads of process `pid` so far, in ms (`/proc/<pid>/task/*/schedstat`,
/// nanoseconds on the CPU: fine enough for a cold start's few milliseconds).
pub fn schedstat_cpu_ms(pid: u32) -> Result<f64, BenchError> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(BenchError::from_display("reading /proc/<pid>/task"))?;
    let mut total_ns = 0u64;
    for task in tasks.flatten() {
        // A thread may end between listing and reading: it then no longer counts.
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            total_ns += text
                .split_whitespace()
                .next()
                .and_then(|ns| ns.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total_ns as f64 / 1e6)
}

/// utime + stime of a `/proc/.../stat` file (a process's: every thread, ended ones included; or
/// one thread's), in ms.
pub fn stat_cpu_ms(path: &str) -> Result<f64, BenchError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BenchError::new(format!("reading {path}: {e}")))?;
    // The command name (field 2) may hold spaces and parentheses: count from the last `)`.
    let fields: Vec<&str> = text
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |index: usize| fields.get(index).and_then(|v| v.parse::<u64>().ok());
    let (Some(utime), Some(stime)) = (ticks(11), ticks(12)) else {
        return Err(BenchError::new(format!("{path} has no utime/stime")));
    };
    // SAFETY: sysconf(3) has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok((utime + stime) as f64 * 1000.0 / per_second)
}

/// utime + stime of process `pid` so far (every thread), in ms.
pub fn process_cpu_ms(pid: u32) -> Result<f64, BenchError> {
    stat_cpu_ms(&format!("/proc/{pid}/stat"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_and_memory() {
        let pid = std::process::id();
        let start = process_cpu_ms(pid).unwrap();
        // Spin until a clock tick shows it (however busy the host), or give up after 10 s.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut x = 0u64;
        while process_cpu_ms(pid).unwrap() <= start && std::time::Instant::now() < until {
            for _ in 0..100_000 {
                x = x.wrapping_add(std::hint::black_box(1));
            }
        }
        assert!(x > 0);
        assert!(
            process_cpu_ms(pid).unwrap() > start,
            "spinning shows in utime"
        );
        assert!(schedstat_cpu_ms(pid).unwrap() > 0.0);
        assert!(peak_rss_kb(pid).unwrap() > 100);
        assert!(stat_cpu_ms("/proc/self/task/0/stat").is_err());
    }
}
