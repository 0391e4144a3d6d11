//! Benchmarks of MyPatientPortal (`make bench`, see `docs/performance.md`).
//!
//! - `benches/handlers.rs`: the real function handlers fed API Gateway v2 events, in process on the
//!   SQLite store: CPU per operation (criterion, process CPU time) and storage round trips per
//!   operation ([`shared::store::CountingStore`]).
//! - `benches/signing.rs`: RS256 (as we sign, and through `jsonwebtoken::encode`), ES256 and EdDSA.
//! - `src/bin/coldstart.rs`: each function's release binary started against a local stand-in of the
//!   Lambda Runtime API ([`runtime_stub`]): size, init time, peak RSS after 1,000 invocations.
//! - [`runtime_api`]: the Runtime API's server side, which the stand-in and the gateway share.
//! - `src/bin/bench_report.rs`: prints the combined table from what the three wrote.
//! - `src/bin/e2e.rs` (`make bench-e2e`): whole OAuth flows over HTTP through the release
//!   binaries behind a local API Gateway ([`gateway`]) against node's oidc-provider ([`e2e`]).
//!
//! Events, the portal on a fresh folder and its seeding come from the test kit (`testkit`), the
//! same the handler tests use, so what is measured is what is tested.

pub mod e2e;
pub mod gateway;
pub mod ops;
pub mod process;
pub mod results;
pub mod runtime_api;
pub mod runtime_stub;

use std::time::Duration;

use testkit::TestContext;

/// Why a benchmark could not be set up or run. Benchmarks are tools, so the message is all the
/// caller needs.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(String);

impl BenchError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// Maps any displayable error to a `BenchError` naming what was being done.
    pub fn from_display<E: std::fmt::Display>(doing: &'static str) -> impl FnOnce(E) -> BenchError {
        move |error| BenchError(format!("{doing}: {error}"))
    }
}

/// A portal on a fresh folder, configured as deployed where it changes what is measured: a freed
/// slot's ASAP notifications run from the table's stream in another invocation, not inside the
/// request (the local SQLite default is inline).
pub fn portal() -> TestContext {
    TestContext::with_env(&[("PORTAL_ASAP_DISPATCH", "stream")])
}

/// CPU time consumed so far by the whole process (every thread, so SQLite work on tokio's
/// blocking pool counts too). Unlike wall time it does not grow when other processes compete for
/// the cores, which matters on a shared 2-core build machine.
pub fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` only writes the timespec we pass, which lives for the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    if rc != 0 {
        // Linux always has this clock; a zero reading would show up as absurd numbers, not hide.
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
