//! Blocking work (SQLite calls, local key files) from async code, without a thread hop where
//! none helps.
//!
//! Every function runs a current-thread runtime (a Lambda instance serves one event at a time):
//! there, nothing else could run while the work waits, so moving it to tokio's blocking pool only
//! adds a thread wake-up and two context switches per call (measured: 15–20 % of a function's
//! CPU, docs/performance.md). On a multi-thread runtime (tests, tools) the pool keeps the workers
//! free for other tasks, as before.

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinError;

/// Whether blocking work runs on the caller's thread: inside a current-thread runtime.
pub fn runs_inline() -> bool {
    Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::CurrentThread)
}

/// Runs `work` on the caller's thread when [`runs_inline`], else on tokio's blocking pool;
/// `stopped` turns a pool task that died (a panic in `work`) into the caller's error.
pub async fn run<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
    stopped: impl FnOnce(JoinError) -> E,
) -> Result<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    if runs_inline() {
        work()
    } else {
        tokio::task::spawn_blocking(work).await.map_err(stopped)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread() -> Result<std::thread::ThreadId, String> {
        Ok(std::thread::current().id())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_current_thread_runtime_runs_the_work_on_its_own_thread() {
        assert!(runs_inline());
        let ran_on = run(thread, |e| e.to_string()).await.unwrap();
        assert_eq!(ran_on, std::thread::current().id());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_multi_thread_runtime_hands_it_to_the_blocking_pool() {
        assert!(!runs_inline());
        let ran_on = run(thread, |e| e.to_string()).await.unwrap();
        assert_ne!(ran_on, std::thread::current().id());
        let died = run(
            || -> Result<(), String> { panic!("boom") },
            |e| format!("stopped: {}", e.is_panic()),
        )
        .await;
        assert_eq!(died.unwrap_err(), "stopped: true");
    }
}
