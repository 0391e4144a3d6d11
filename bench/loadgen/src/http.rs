//! The load generator's HTTP client: no redirects followed (every hop of the sign-in is a step of
//! its own), cookies kept per client, and every answer timed and counted by step in [`Stats`].
//!
//! `cargo lambda watch` sometimes fails a request itself (it answers its own problem document, or
//! the connection drops); those are [`EmulatorFault`]s, counted apart from the functions' answers,
//! because API Gateway has no such fault.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use reqwest::RequestBuilder;

/// Per-request limit: generous, because a function compiles on its first request under `cargo
/// lambda watch` when it was not built before.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A function's answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `error` code of a JSON error body.
    pub fn error_code(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// The emulator (not a function) failed the request; whether it reached the function is unknown.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{step}: the emulator failed the request: {cause}")]
pub struct EmulatorFault {
    /// The step.
    pub step: &'static str,
    /// What happened.
    pub cause: String,
}

/// Whether an answer is `cargo lambda watch`'s own 500 rather than a function's: its problem
/// document, which no function sends (their 500 is `{"error":"server_error",…}`).
pub fn is_emulator_fault(status: u16, body: &str) -> bool {
    status == 500 && body.contains("https://httpstatuses.com/500")
}

/// Timings and statuses by step, shared by every client of a run.
#[derive(Debug, Default)]
pub struct Stats {
    steps: Mutex<BTreeMap<&'static str, Step>>,
}

/// What one step saw.
#[derive(Clone, Debug, Default)]
pub struct Step {
    /// Latency of every answered request, microseconds.
    pub latencies: Vec<u64>,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Emulator faults.
    pub emulator_faults: u64,
}

impl Step {
    /// The `q` quantile (0.0..=1.0) of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let at = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[at] as f64 / 1000.0
    }

    /// Answers with a 5xx status (the emulator's own faults are not among them).
    pub fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| **status >= 500)
            .map(|(_, n)| n)
            .sum()
    }
}

impl Stats {
    /// A copy of every step's figures.
    pub fn steps(&self) -> BTreeMap<&'static str, Step> {
        self.steps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, step: &'static str, outcome: Result<(u16, Duration), ()>) {
        let mut steps = self.steps.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = steps.entry(step).or_default();
        match outcome {
            Ok((status, elapsed)) => {
                entry.latencies.push(elapsed.as_micros() as u64);
                *entry.statuses.entry(status).or_default() += 1;
            }
            Err(()) => entry.emulator_faults += 1,
        }
    }

    /// The figures as a text table: requests, statuses, p50 and p99 per step.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<28} {:>7} {:>9} {:>9} {:>8}  statuses\n",
            "step", "answers", "p50 ms", "p99 ms", "emulator"
        );
        for (name, step) in self.steps() {
            let statuses: Vec<String> = step
                .statuses
                .iter()
                .map(|(status, n)| format!("{status}×{n}"))
                .collect();
            out.push_str(&format!(
                "{name:<28} {:>7} {:>9.1} {:>9.1} {:>8}  {}\n",
                step.latencies.len(),
                step.quantile_ms(0.5),
                step.quantile_ms(0.99),
                step.emulator_faults,
                statuses.join(" ")
            ));
        }
        out
    }
}

/// One client's HTTP connection pool (and cookie jar, when it has one).
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
    stats: Arc<Stats>,
}

impl Http {
    /// A client that keeps cookies (a browser) or not (an app's backend), counting into `stats`.
    pub fn new(stats: Arc<Stats>, cookies: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .cookie_store(cookies)
            .redirect(Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self { client, stats })
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request as `step`: the function's answer, or the emulator's fault.
    pub async fn send(
        &self,
        step: &'static str,
        request: RequestBuilder,
    ) -> Result<Answer, EmulatorFault> {
        let started = Instant::now();
        let fault = |cause: String| EmulatorFault { step, cause };
        let result = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                match response.text().await {
                    Ok(body) if is_emulator_fault(status, &body) => Err(fault(body)),
                    Ok(body) => Ok(Answer {
                        status,
                        headers,
                        body,
                    }),
                    Err(e) => Err(fault(format!("reading the body: {e}"))),
                }
            }
            Err(e) => Err(fault(e.to_string())),
        };
        let elapsed = started.elapsed();
        self.stats.record(
            step,
            result.as_ref().map(|a| (a.status, elapsed)).map_err(|_| ()),
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_emulators_problem_document_counts_as_its_fault() {
        let emulator = r#"{"status":500,"title":"Internal Server Error","type":"https://httpstatuses.com/500"}"#;
        assert!(is_emulator_fault(500, emulator));
        let function = r#"{"error":"server_error","error_description":"internal error"}"#;
        assert!(!is_emulator_fault(500, function));
        assert!(!is_emulator_fault(200, emulator));
    }

    #[test]
    fn quantiles_come_from_the_recorded_latencies() {
        let stats = Stats::default();
        for ms in 1..=100u64 {
            stats.record("step", Ok((200, Duration::from_millis(ms))));
        }
        stats.record("step", Ok((503, Duration::from_millis(1))));
        stats.record("step", Err(()));
        let step = &stats.steps()["step"];
        assert_eq!(step.quantile_ms(0.5), 50.0);
        assert_eq!(step.quantile_ms(0.99), 99.0);
        assert_eq!(step.server_errors(), 1);
        assert_eq!(step.emulator_faults, 1);
        assert!(stats.table().contains("503×1"));
    }
}
