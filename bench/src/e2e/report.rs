//! The end-to-end table (Markdown): each side per concurrency, the ratios portal / peer, the
//! signing floor and the portal's non-signing CPU per request, ES256 id_tokens, DynamoDB, RSS.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Round, STEPS};

/// Target: the portal's CPU per flow at most this share of oidc-provider's.
pub const CPU_RATIO_TARGET: f64 = 0.5;
/// Target: the portal's CPU per request beside its signatures (SQLite), µs.
pub const NON_SIGNING_TARGET_US: f64 = 100.0;
/// Target: CPU the DynamoDB SDK path adds per storage round trip, µs.
pub const DYNAMO_TARGET_US: f64 = 200.0;
/// Target: peak RSS per function, KiB.
pub const RSS_TARGET_KB: u64 = 16 * 1024;

/// RS256 signs per flow on the portal: access token + id_token, at the code exchange and the refresh.
pub const PORTAL_SIGNS: f64 = 4.0;
/// JWTs oidc-provider signs per flow with opaque access tokens: the two id_tokens.
pub const PEER_SIGNS: f64 = 2.0;
/// Requests per flow.
pub const REQUESTS: f64 = 4.0;

/// Everything one run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Run {
    /// Host load (1-minute load average) before and after, and the core count.
    pub load: (f64, f64, usize),
    /// Every round, in the order run.
    pub rounds: Vec<Round>,
    /// The rounds combined per side and concurrency.
    pub combined: Vec<Round>,
    /// `openssl speed rsa2048`: one sign, µs.
    pub rs256_sign_us: f64,
    /// `openssl speed ecdsap256`: one sign, µs.
    pub es256_sign_us: f64,
    /// One RS256 JWT sign in node with `jose` (what oidc-provider signs with), µs.
    pub node_sign_us: f64,
    /// Storage round trips of one portal flow (DynamoDB figure per round trip).
    pub round_trips_per_flow: f64,
    /// Peak RSS after the runs: (process, KiB).
    pub rss_kb: Vec<(String, u64)>,
    /// The empty `lambda_http` function's rounds (one per portal round, interleaved).
    pub floor: Vec<super::FloorRound>,
}

impl Run {
    fn side(&self, side: &str, clients: usize) -> Option<&Round> {
        self.combined
            .iter()
            .find(|r| r.side == side && r.clients == clients)
    }

    /// oidc-provider's CPU per 1,000 flows plus the signs it skipped (s).
    pub fn peer_adjusted_s(&self, peer: &Round) -> f64 {
        peer.cpu_s_per_1000() + (PORTAL_SIGNS - PEER_SIGNS) * self.node_sign_us / 1000.0
    }

    /// The portal's CPU per request beside its 4 RS256 signs, µs.
    pub fn non_signing_us(&self, portal: &Round) -> f64 {
        (portal.cpu_s_per_1000() * 1000.0 - PORTAL_SIGNS * self.rs256_sign_us) / REQUESTS
    }

    /// CPU per invocation of the empty `lambda_http` function over all its rounds, µs (`None`
    /// when it was not measured): the runtime API round trips, the event's parsing and the
    /// answer's, and the kernel's work to wake the process for each event.
    pub fn empty_function_us(&self) -> Option<f64> {
        let requests: u64 = self.floor.iter().map(|f| f.requests).sum();
        let cpu_ms: f64 = self.floor.iter().map(|f| f.cpu_ms).sum();
        (requests > 0).then(|| cpu_ms * 1000.0 / requests as f64)
    }
}

fn p(round: &Round, step: &str, which: usize) -> f64 {
    round
        .steps
        .get(step)
        .map(|s| if which == 50 { s.0 } else { s.1 })
        .unwrap_or(f64::NAN)
}

/// The Markdown report.
pub fn markdown(run: &Run) -> String {
    let mut out = String::new();
    let (before, after, cores) = run.load;
    writeln!(
        out,
        "End to end: {} rounds interleaved A B A B; host load average {before:.2} before, {after:.2} after, {cores} cores.\n",
        run.rounds.len()
    )
    .ok();
    writeln!(
        out,
        "| clients | side | flows/s | CPU s / 1,000 flows | gateway CPU s / 1,000 | p50 ms authorize · code · userinfo · refresh | p99 ms authorize · code · userinfo · refresh |"
    )
    .ok();
    writeln!(out, "|---:|---|---:|---:|---:|---|---|").ok();
    for round in &run.combined {
        let cpu = if round.side == "oidc-provider" {
            format!(
                "{:.2} (+{:.0} × {:.0} µs missing signs = **{:.2}**)",
                round.cpu_s_per_1000(),
                PORTAL_SIGNS - PEER_SIGNS,
                run.node_sign_us,
                run.peer_adjusted_s(round)
            )
        } else {
            format!("**{:.2}**", round.cpu_s_per_1000())
        };
        let gateway = if round.side == "oidc-provider" {
            "—".to_owned()
        } else {
            format!("{:.2}", round.gateway_cpu_ms / round.flows.max(1) as f64)
        };
        let quantiles = |which| {
            STEPS
                .iter()
                .map(|step| format!("{:.2}", p(round, step, which)))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        writeln!(
            out,
            "| {} | {} | {:.0} | {cpu} | {gateway} | {} | {} |",
            round.clients,
            round.side,
            round.flows_per_s(),
            quantiles(50),
            quantiles(99)
        )
        .ok();
    }

    writeln!(
        out,
        "\n| clients | CPU portal / oidc-provider (target ≤ {CPU_RATIO_TARGET}) | p50 portal / oidc-provider: authorize · code · userinfo · refresh | portal non-signing CPU per request (target ≤ {NON_SIGNING_TARGET_US:.0} µs) |"
    )
    .ok();
    writeln!(out, "|---:|---|---|---|").ok();
    let mut clients: Vec<usize> = run.combined.iter().map(|r| r.clients).collect();
    clients.sort_unstable();
    clients.dedup();
    for n in clients {
        let (Some(portal), Some(peer)) = (run.side("portal", n), run.side("oidc-provider", n))
        else {
            continue;
        };
        let ratio = portal.cpu_s_per_1000() / run.peer_adjusted_s(peer);
        let p50s: Vec<String> = STEPS
            .iter()
            .map(|step| format!("{:.2}", p(portal, step, 50) / p(peer, step, 50)))
            .collect();
        let non_signing = run.non_signing_us(portal);
        let above = run
            .empty_function_us()
            .map(|floor| {
                format!(
                    " (empty function {floor:.0} µs; the portal's own {:.0} µs)",
                    non_signing - floor
                )
            })
            .unwrap_or_default();
        writeln!(
            out,
            "| {n} | **{ratio:.2}** {} | {} | **{non_signing:.0} µs** {}{above} |",
            verdict(ratio <= CPU_RATIO_TARGET),
            p50s.join(" · "),
            verdict(non_signing <= NON_SIGNING_TARGET_US)
        )
        .ok();
    }

    writeln!(
        out,
        "\nSigning floor (openssl speed, one core, this run): RS256 {:.0} µs per sign → {:.2} ms per flow for 4 signs; ES256 {:.0} µs. oidc-provider's RS256 sign (node, jose): {:.0} µs.",
        run.rs256_sign_us,
        PORTAL_SIGNS * run.rs256_sign_us / 1000.0,
        run.es256_sign_us,
        run.node_sign_us
    )
    .ok();
    if let Some(floor) = run.empty_function_us() {
        writeln!(
            out,
            "Empty function (bench/minimal: `lambda_http` answering `200 ok`, behind its own gateway, {} requests in rounds interleaved with the portal's): **{floor:.0} µs CPU per invocation**, part of every request's figure above.",
            run.floor.iter().map(|f| f.requests).sum::<u64>()
        )
        .ok();
    }
    if let (Some(es), Some(rs)) = (run.side("portal-es256", 1), run.side("portal", 1)) {
        writeln!(
            out,
            "ES256 id_tokens (client registered with `id_token_signed_response_alg=ES256`, 1 client): {:.2} CPU s / 1,000 flows against {:.2} with RS256 id_tokens ({:+.0} %); p50 code {:.2} ms, refresh {:.2} ms.",
            es.cpu_s_per_1000(),
            rs.cpu_s_per_1000(),
            (es.cpu_s_per_1000() / rs.cpu_s_per_1000() - 1.0) * 100.0,
            p(es, "token: code", 50),
            p(es, "token: refresh", 50)
        )
        .ok();
    }
    if let (Some(dynamo), Some(sqlite)) = (run.side("portal-dynamodb", 1), run.side("portal", 1)) {
        let extra_us = (dynamo.cpu_s_per_1000() - sqlite.cpu_s_per_1000()) * 1000.0;
        let per_rt = extra_us / run.round_trips_per_flow.max(1.0);
        writeln!(
            out,
            "DynamoDB (moto on loopback, functions' CPU only, 1 client): {:.2} CPU s / 1,000 flows against {:.2} on SQLite: +{extra_us:.0} µs per flow, **{per_rt:.0} µs per storage round trip** ({:.0} per flow) {}.",
            dynamo.cpu_s_per_1000(),
            sqlite.cpu_s_per_1000(),
            run.round_trips_per_flow,
            verdict(per_rt <= DYNAMO_TARGET_US)
        )
        .ok();
    }
    let rss: Vec<String> = run
        .rss_kb
        .iter()
        .map(|(name, kb)| {
            let ok = name == "oidc-provider" || *kb <= RSS_TARGET_KB;
            format!(
                "{name} {:.1} MiB{}",
                *kb as f64 / 1024.0,
                if ok { "" } else { " (MISS)" }
            )
        })
        .collect();
    writeln!(
        out,
        "Peak RSS after the runs (target ≤ {} MiB per function): {}.",
        RSS_TARGET_KB / 1024,
        rss.join(", ")
    )
    .ok();
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISS"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn round(side: &str, clients: usize, cpu_ms: f64) -> Round {
        Round {
            side: side.into(),
            clients,
            flows: 1000,
            wall_s: 2.0,
            cpu_ms,
            gateway_cpu_ms: 100.0,
            steps: STEPS
                .iter()
                .map(|s| (s.to_string(), (1.0, 3.0, 1000)))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn the_ratio_adds_the_peers_missing_signs_and_the_floor_is_taken_off() {
        let run = Run {
            rs256_sign_us: 400.0,
            node_sign_us: 500.0,
            combined: vec![
                round("oidc-provider", 1, 3000.0),
                round("oidc-provider", 4, 3000.0),
                round("portal", 1, 2000.0),
                round("portal", 4, 2000.0),
                round("portal-es256", 1, 1500.0),
            ],
            ..Run::default()
        };
        // Peer: 3.0 s + 2 × 0.5 ms × 1,000 = 4.0 s; portal 2.0 s: ratio 0.5.
        assert_eq!(run.peer_adjusted_s(&run.combined[0]), 4.0);
        // (2,000 µs per flow − 4 × 400) / 4 requests.
        assert_eq!(run.non_signing_us(&run.combined[2]), 100.0);
        let text = markdown(&run);
        // One ratio row per concurrency, however the sides sort.
        assert_eq!(text.matches("| 1 | **0.50** ok |").count(), 1, "{text}");
        assert_eq!(text.matches("| 4 | **0.50** ok |").count(), 1, "{text}");
        assert!(text.contains("**100 µs** ok |"), "{text}");
        assert!(text.contains("= **4.00**"), "{text}");
    }

    #[test]
    fn the_empty_functions_cost_is_shown_beside_the_non_signing_figure() {
        let mut run = Run {
            rs256_sign_us: 400.0,
            node_sign_us: 500.0,
            combined: vec![
                round("oidc-provider", 1, 3000.0),
                round("portal", 1, 2400.0),
            ],
            ..Run::default()
        };
        assert_eq!(run.empty_function_us(), None);
        run.floor = vec![
            crate::e2e::FloorRound {
                requests: 1000,
                cpu_ms: 50.0,
            },
            crate::e2e::FloorRound {
                requests: 3000,
                cpu_ms: 310.0,
            },
        ];
        // 360 ms over 4,000 requests.
        assert_eq!(run.empty_function_us(), Some(90.0));
        let text = markdown(&run);
        // (2,400 − 1,600) / 4 = 200 µs, of which 90 the empty function's.
        assert!(
            text.contains("**200 µs** MISS (empty function 90 µs; the portal's own 110 µs) |"),
            "{text}"
        );
        assert!(text.contains("**90 µs CPU per invocation**"), "{text}");
    }
}
