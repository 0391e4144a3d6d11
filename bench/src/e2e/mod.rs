//! End to end (`make bench-e2e`): whole OAuth flows over HTTP against the functions' release
//! binaries behind a local API Gateway ([`crate::gateway`]) and, interleaved in the same run,
//! against node's oidc-provider ([`peer`]), driven by the same load generator (`loadgen`).
//!
//! One flow = authorize with a live session (straight back with a code) → token (code + PKCE) →
//! userinfo → token (refresh). Each side is measured over rounds of `flows` flows with 1 and with
//! N concurrent clients, A B A B, so host noise hits both alike: flows per second, CPU of its
//! processes (utime + stime from `/proc`; the gateway's thread apart), p50 / p99 per step.

pub mod floor;
pub mod peer;
pub mod report;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use loadgen::http::{Stats, Step};
use loadgen::oauth::Driver;
use serde::Serialize;

use crate::BenchError;

/// The steps of one flow, in order, as the load generator names them.
pub const STEPS: [&str; 4] = ["authorize", "token: code", "userinfo", "token: refresh"];

/// What a round measured for one side.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Round {
    /// `portal`, `portal-es256`, `portal-dynamodb` or `oidc-provider`.
    pub side: String,
    /// Concurrent clients.
    pub clients: usize,
    /// Flows completed.
    pub flows: u64,
    /// Wall time of the round, seconds.
    pub wall_s: f64,
    /// CPU of the side's processes over the round (the functions, or node), ms.
    pub cpu_ms: f64,
    /// CPU of the gateway's thread over the round (portal sides only), ms.
    pub gateway_cpu_ms: f64,
    /// Per step: (p50 ms, p99 ms, answers).
    pub steps: BTreeMap<String, (f64, f64, usize)>,
}

impl Round {
    /// Flows per second.
    pub fn flows_per_s(&self) -> f64 {
        self.flows as f64 / self.wall_s.max(1e-9)
    }

    /// CPU per 1,000 flows, seconds.
    pub fn cpu_s_per_1000(&self) -> f64 {
        self.cpu_ms / self.flows.max(1) as f64
    }
}

/// The empty function's share of a round: `requests` GETs, `cpu_ms` of its process.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct FloorRound {
    /// Requests answered.
    pub requests: u64,
    /// CPU of the empty function's process over them, ms.
    pub cpu_ms: f64,
}

/// Sends `requests` GETs to `url` one after another (an empty `lambda_http` function behind its
/// own gateway answers them) and measures the process `cpu`: what any invocation costs here before
/// a function does anything of its own. Every answer must be 200.
pub async fn floor_round(
    client: &reqwest::Client,
    url: &str,
    requests: u64,
    cpu: &CpuProbe,
) -> Result<FloorRound, BenchError> {
    let before = cpu()?;
    for _ in 0..requests {
        let answer = client
            .get(url)
            .send()
            .await
            .map_err(BenchError::from_display("the empty function"))?;
        let status = answer.status();
        answer
            .bytes()
            .await
            .map_err(BenchError::from_display("the empty function's answer"))?;
        if status != reqwest::StatusCode::OK {
            return Err(BenchError::new(format!(
                "the empty function answered {status}"
            )));
        }
    }
    Ok(FloorRound {
        requests,
        cpu_ms: cpu()? - before,
    })
}

/// Something whose CPU time can be read (a process, the gateway's thread).
pub type CpuProbe = Box<dyn Fn() -> Result<f64, BenchError> + Send + Sync>;

/// Runs `flows` flows spread over `drivers` (each its own client, concurrently) and measures
/// them: `cpu` is summed over the side's processes before and after, `gateway` likewise.
/// Every flow must succeed: a refused step ends the run with its error.
pub async fn round(
    side: &str,
    drivers: &[Arc<Driver>],
    stats: &Stats,
    flows: u64,
    cpu: &[CpuProbe],
    gateway: Option<&CpuProbe>,
) -> Result<Round, BenchError> {
    let sum = |probes: &[&CpuProbe]| -> Result<f64, BenchError> {
        probes.iter().map(|probe| probe()).sum()
    };
    let cpu: Vec<&CpuProbe> = cpu.iter().collect();
    let gateway: Vec<&CpuProbe> = gateway.into_iter().collect();
    let _ = stats.take();
    let (cpu_before, gateway_before) = (sum(&cpu)?, sum(&gateway)?);
    let started = Instant::now();
    let per_client = flows / drivers.len().max(1) as u64;
    let mut tasks = tokio::task::JoinSet::new();
    for driver in drivers {
        let driver = driver.clone();
        tasks.spawn(async move {
            for _ in 0..per_client {
                driver.flow().await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(BenchError::from_display("a client task"))?
            .map_err(|e| BenchError::new(format!("{side}: {e}")))?;
    }
    let wall_s = started.elapsed().as_secs_f64();
    let (cpu_after, gateway_after) = (sum(&cpu)?, sum(&gateway)?);
    Ok(Round {
        side: side.to_owned(),
        clients: drivers.len(),
        flows: per_client * drivers.len() as u64,
        wall_s,
        cpu_ms: cpu_after - cpu_before,
        gateway_cpu_ms: gateway_after - gateway_before,
        steps: steps_of(stats.take()),
    })
}

fn steps_of(steps: BTreeMap<&'static str, Step>) -> BTreeMap<String, (f64, f64, usize)> {
    steps
        .into_iter()
        .filter(|(name, _)| STEPS.contains(name))
        .map(|(name, step)| {
            (
                name.to_owned(),
                (
                    step.quantile_ms(0.5),
                    step.quantile_ms(0.99),
                    step.latencies.len(),
                ),
            )
        })
        .collect()
}

/// Several rounds of one side and concurrency as one: flows, wall time and CPU added up,
/// percentiles of the rounds averaged (weighted by answers).
pub fn combine(rounds: &[&Round]) -> Option<Round> {
    let first = rounds.first()?;
    let mut total = Round {
        side: first.side.clone(),
        clients: first.clients,
        ..Round::default()
    };
    let mut weights: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    for round in rounds {
        total.flows += round.flows;
        total.wall_s += round.wall_s;
        total.cpu_ms += round.cpu_ms;
        total.gateway_cpu_ms += round.gateway_cpu_ms;
        for (step, (p50, p99, n)) in &round.steps {
            let entry = weights.entry(step.clone()).or_default();
            entry.0 += p50 * *n as f64;
            entry.1 += p99 * *n as f64;
            entry.2 += n;
        }
    }
    total.steps = weights
        .into_iter()
        .map(|(step, (p50, p99, n))| {
            let n_f = n.max(1) as f64;
            (step, (p50 / n_f, p99 / n_f, n))
        })
        .collect();
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(side: &str, flows: u64, cpu_ms: f64, p50: f64) -> Round {
        Round {
            side: side.into(),
            clients: 1,
            flows,
            wall_s: 1.0,
            cpu_ms,
            gateway_cpu_ms: 10.0,
            steps: BTreeMap::from([("userinfo".to_owned(), (p50, 2.0 * p50, flows as usize))]),
        }
    }

    #[test]
    fn rounds_combine_into_totals_and_weighted_percentiles() {
        let a = round("portal", 100, 200.0, 1.0);
        let b = round("portal", 300, 400.0, 2.0);
        let all = combine(&[&a, &b]).unwrap();
        assert_eq!(all.flows, 400);
        assert_eq!(all.cpu_ms, 600.0);
        assert_eq!(all.gateway_cpu_ms, 20.0);
        assert_eq!(all.wall_s, 2.0);
        assert_eq!(all.flows_per_s(), 200.0);
        assert_eq!(all.cpu_s_per_1000(), 1.5);
        assert_eq!(all.steps["userinfo"], (1.75, 3.5, 400));
        assert!(combine(&[]).is_none());
    }
}
