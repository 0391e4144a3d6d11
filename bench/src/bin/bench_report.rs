//! Prints the one table of `make bench` from what the benchmarks left behind: criterion's means
//! (`<criterion>/<group>/<id>/new/estimates.json`), `handlers.json` (round trips, signs) and
//! `coldstart.json`. The same Markdown goes to `<out>/report.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use portal_bench::ops::{
    self, CPU_TARGET_RATIONALE, HANDLER_GROUP, INIT_TARGET_MS, INIT_TARGET_RATIO, MINIMAL_FUNCTION,
    OPERATIONS, RSS_TARGET_KB, SIGNING, SIGNING_GROUP,
};
use portal_bench::results::{self, ColdStartRecord, HandlerRecord, COLDSTART_FILE, HANDLERS_FILE};
use portal_bench::BenchError;

fn duration(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cores} cores, {model}")
}

fn handlers_table(out: &mut String) -> Result<bool, BenchError> {
    let records: BTreeMap<String, HandlerRecord> =
        results::read(&results::out_dir().join(HANDLERS_FILE))?;
    let sign_ns = results::criterion_mean_ns(SIGNING_GROUP, ops::RS256_SIGN_ID);
    let mut all_ok = true;
    writeln!(
        out,
        "| operation | round trips | CPU per op | target | ok? | RS256 signing share |"
    )
    .ok();
    writeln!(out, "|---|---:|---:|---|---|---|").ok();
    for op in OPERATIONS {
        let record = records.get(op.id);
        let cpu = results::criterion_mean_ns(HANDLER_GROUP, op.id);
        let (Some(record), Some(cpu)) = (record, cpu) else {
            all_ok &= op.reference;
            writeln!(out, "| {} | — | — | — | not run | — |", op.label).ok();
            continue;
        };
        if op.reference {
            writeln!(
                out,
                "| {} | {:.2} | {} | — | — | — |",
                op.label,
                record.round_trips,
                duration(cpu)
            )
            .ok();
            continue;
        }
        // Token operations: the budget is on top of their RS256 signs, measured on this machine.
        let signs_ns = f64::from(record.signs) * sign_ns.unwrap_or(0.0);
        let cpu_target_ns = op.cpu_us * 1e3 + signs_ns;
        let target = if record.signs > 0 {
            format!(
                "≤ {} rt, ≤ {} ({} signs + {})",
                op.round_trips,
                duration(cpu_target_ns),
                record.signs,
                duration(op.cpu_us * 1e3)
            )
        } else {
            format!("≤ {} rt, ≤ {}", op.round_trips, duration(cpu_target_ns))
        };
        let trips_ok = record.round_trips <= op.round_trips as f64 + 0.005;
        let cpu_ok = (record.signs == 0 || sign_ns.is_some()) && cpu <= cpu_target_ns;
        all_ok &= trips_ok && cpu_ok;
        let verdict = match (trips_ok, cpu_ok) {
            (true, true) => "ok",
            (false, true) => "MISS: round trips",
            (true, false) => "MISS: CPU",
            (false, false) => "MISS: round trips, CPU",
        };
        let share = match (record.signs, sign_ns) {
            (0, _) => "—".to_owned(),
            (n, Some(sign)) => format!(
                "{n} × {} = {:.0}%",
                duration(sign),
                100.0 * f64::from(n) * sign / cpu
            ),
            (n, None) => format!("{n} signs (signing bench not run)"),
        };
        writeln!(
            out,
            "| {} | {:.2} | {} | {target} | {verdict} | {share} |",
            op.label,
            record.round_trips,
            duration(cpu)
        )
        .ok();
    }
    Ok(all_ok)
}

fn signing_table(out: &mut String) {
    writeln!(
        out,
        "| algorithm | sign | verify | signs/s (1 core) | how |"
    )
    .ok();
    writeln!(out, "|---|---:|---:|---:|---|").ok();
    for alg in SIGNING {
        let sign = results::criterion_mean_ns(SIGNING_GROUP, alg.sign_id);
        let verify = results::criterion_mean_ns(SIGNING_GROUP, alg.verify_id);
        let show = |v: Option<f64>| v.map_or_else(|| "not run".to_owned(), duration);
        let rate = sign.map_or_else(|| "—".to_owned(), |ns| format!("{:.0}", 1e9 / ns));
        writeln!(
            out,
            "| {} | {} | {} | {rate} | {} |",
            alg.label,
            show(sign),
            show(verify),
            alg.how
        )
        .ok();
    }
    if let Some(ns) = results::criterion_mean_ns(SIGNING_GROUP, ops::KEYSET_PARSE_ID) {
        writeln!(
            out,
            "\nParsing the token function's key document once per cold start (KeySet::from_documents: RSA key pair, JWKS, its sealing keys): {}.",
            duration(ns)
        )
        .ok();
    }
    if let (Some(siv), Some(gcm)) = (
        results::criterion_mean_ns(SIGNING_GROUP, ops::SEAL_GCM_SIV_ID),
        results::criterion_mean_ns(SIGNING_GROUP, ops::SEAL_GCM_ID),
    ) {
        writeln!(
            out,
            "\nSealing and opening one availability id: AES-256-GCM-SIV (ours) {}, plain AES-256-GCM {}.",
            duration(siv),
            duration(gcm)
        )
        .ok();
    }
}

fn coldstart_table(out: &mut String) -> Result<bool, BenchError> {
    let records: BTreeMap<String, ColdStartRecord> =
        results::read(&results::out_dir().join(COLDSTART_FILE))?;
    let mut all_ok = true;
    writeln!(
        out,
        "| function | size | init ms: median (all runs) | init CPU ms | RSS after init | peak RSS after N | CPU per invocation | ok? | request → statuses |"
    )
    .ok();
    writeln!(out, "|---|---:|---|---:|---:|---:|---:|---|---|").ok();
    let init_target = init_target_ms(&records);
    for function in ops::FUNCTIONS.iter().chain([&MINIMAL_FUNCTION]) {
        let Some(r) = records.get(*function) else {
            all_ok = false;
            writeln!(out, "| {function} | — | — | — | — | — | — | not run | |").ok();
            continue;
        };
        let init_ok = r.init_median_ms <= init_target;
        let rss_ok = r.peak_rss_kb <= RSS_TARGET_KB;
        all_ok &= init_ok && rss_ok;
        let verdict = match (init_ok, rss_ok) {
            (true, true) => "ok",
            (false, true) => "MISS: init",
            (true, false) => "MISS: RSS",
            (false, false) => "MISS: init, RSS",
        };
        let runs: Vec<String> = r.init_ms.iter().map(|ms| format!("{ms:.1}")).collect();
        let statuses: Vec<String> = r
            .statuses
            .iter()
            .map(|(status, count)| format!("{count}× {status}"))
            .collect();
        writeln!(
            out,
            "| {function} | {:.1} MB ({}) | **{:.1}** ({}) | {:.1} | {} | {} (N = {}, {:.0} ms) | {} | {verdict} | {} → {} |",
            r.size_bytes as f64 / 1e6,
            r.profile,
            r.init_median_ms,
            runs.join(", "),
            r.init_cpu_median_ms,
            mib(r.rss_after_init_kb),
            mib(r.peak_rss_kb),
            r.invocations,
            r.serve_ms,
            duration(r.cpu_per_invocation_us * 1e3),
            r.request,
            statuses.join(", ")
        )
        .ok();
    }
    Ok(all_ok)
}

/// The init target: [`INIT_TARGET_RATIO`] × the minimal function's median in the same run,
/// and never above [`INIT_TARGET_MS`].
fn init_target_ms(records: &BTreeMap<String, ColdStartRecord>) -> f64 {
    records
        .get(MINIMAL_FUNCTION)
        .map(|minimal| (INIT_TARGET_RATIO * minimal.init_median_ms).min(INIT_TARGET_MS))
        .unwrap_or(INIT_TARGET_MS)
}

fn run() -> Result<(), BenchError> {
    let mut out = String::new();
    writeln!(out, "## MyPatientPortal benchmarks ({})\n", machine()).ok();
    writeln!(
        out,
        "Handlers, in process on the SQLite store, fed API Gateway v2 events (CPU = process CPU time per operation, criterion mean):\n"
    )
    .ok();
    let handlers_ok = handlers_table(&mut out)?;
    writeln!(out, "\n{CPU_TARGET_RATIONALE}\n").ok();
    writeln!(
        out,
        "Signing one access token (complete compact JWS, CPU per operation):\n"
    )
    .ok();
    signing_table(&mut out);
    writeln!(
        out,
        "\nCold starts of the release binaries against a local Lambda Runtime API stand-in (targets: init ≤ {INIT_TARGET_RATIO} × the minimal lambda_http function's of the same run and ≤ {INIT_TARGET_MS} ms without network, peak RSS ≤ {}):\n",
        mib(RSS_TARGET_KB)
    )
    .ok();
    let coldstart_ok = coldstart_table(&mut out)?;
    writeln!(
        out,
        "\n{}",
        if handlers_ok && coldstart_ok {
            "Every row meets its target."
        } else {
            "Rows marked MISS or not run need attention (see docs/performance.md)."
        }
    )
    .ok();
    print!("{out}");
    let path = results::out_dir().join("report.md");
    std::fs::write(&path, &out).map_err(|e| BenchError::new(format!("{}: {e}", path.display())))
}

fn main() {
    if let Err(error) = run() {
        eprintln!("bench-report: {error}");
        std::process::exit(1);
    }
}
