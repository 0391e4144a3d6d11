#!/usr/bin/env bash
# `make bench`: build, run the criterion benchmarks (signing, handlers) and the cold-start harness,
# then print one table. Everything runs locally: SQLite store, keys in a temporary folder, a
# stand-in of the Lambda Runtime API on loopback. See docs/performance.md.
#
#   BENCH_PROFILE=bench-release   cargo profile (release = the deployed fat-LTO build, much slower to build)
#   BENCH_WARM_UP=1 BENCH_MEASURE=3   criterion warm-up / measurement seconds per benchmark
#   BENCH_COLD_STARTS=7 BENCH_INVOCATIONS=1000   cold-start harness runs and invocations
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bench_profile bench
export CRITERION_HOME="$PORTAL_BENCH_OUT/criterion"
CRITERION_ARGS=(--warm-up-time "${BENCH_WARM_UP:-1}" --measurement-time "${BENCH_MEASURE:-3}")

# Stale numbers must not reach the table: each run records round trips and cold starts afresh
# (criterion keeps its own history in $CRITERION_HOME for change reports).
rm -f "$PORTAL_BENCH_OUT/handlers.json" "$PORTAL_BENCH_OUT/coldstart.json" "$PORTAL_BENCH_OUT/report.md"

# Two cargo invocations on purpose: features are unified per invocation, so building the functions
# on their own gives exactly the binaries a deployment builds (the harness would add tokio's "full"
# and hyper's server features to them), and the harness with its benches builds once for both.
echo "== building the functions ($PROFILE profile)"
cargo build --profile "$PROFILE" --bins -p authorize -p token -p userinfo -p booking -p asap -p minimal-lambda
echo "== building the harness and the benchmarks ($PROFILE profile)"
cargo build --profile "$PROFILE" -p portal-bench --bins --benches

echo "== signing algorithms"
cargo bench --profile "$PROFILE" -p portal-bench --bench signing -- "${CRITERION_ARGS[@]}"

echo "== handlers (in process, SQLite)"
cargo bench --profile "$PROFILE" -p portal-bench --bench handlers -- "${CRITERION_ARGS[@]}"

echo "== cold starts ($PROFILE binaries)"
"$BIN_DIR/coldstart" --bin-dir "$BIN_DIR" --profile "$PROFILE" \
  --cold-starts "${BENCH_COLD_STARTS:-7}" --invocations "${BENCH_INVOCATIONS:-1000}"

echo
"$BIN_DIR/bench-report"
echo "(also in $PORTAL_BENCH_OUT/report.md)"
