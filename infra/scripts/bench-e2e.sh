#!/usr/bin/env bash
# `make bench-e2e` (also the last step of `make bench`): whole OAuth flows through the release
# binaries of authorize, token and userinfo behind a local API Gateway (SQLite store), interleaved
# A B A B with node's oidc-provider 9 (bench/oidc-provider, pinned by its package-lock.json) and
# driven by the same load generator. See docs/performance.md ("End to end").
#
#   BENCH_PROFILE=bench-release   cargo profile of the functions
#   BENCH_E2E_FLOWS=400 BENCH_E2E_ROUNDS=2 BENCH_E2E_CLIENTS=1,4   flows per round, rounds, concurrencies
#   BENCH_E2E_DYNAMO_FLOWS=100    flows per round of the DynamoDB pass (moto slows as its table grows)
#   BENCH_E2E_SKIP_BUILD=1        reuse the binaries (make bench built them already)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

bench_profile bench-e2e

command -v node >/dev/null || { echo "make bench-e2e needs node (for oidc-provider): apt-get install nodejs npm" >&2; exit 2; }
command -v openssl >/dev/null || { echo "make bench-e2e needs openssl (the signing floor)" >&2; exit 2; }

if [[ -z "${BENCH_E2E_SKIP_BUILD:-}" ]]; then
  # As in bench.sh: the functions alone (the deployed features), then the harness.
  echo "== building the functions ($PROFILE profile)"
  cargo build --profile "$PROFILE" --bins -p authorize -p token -p userinfo -p minimal-lambda
  echo "== building the end-to-end harness ($PROFILE profile)"
  cargo build --profile "$PROFILE" -p portal-bench --bin e2e
fi

echo "== installing oidc-provider (bench/oidc-provider, npm ci)"
(cd bench/oidc-provider && npm ci --no-audit --no-fund --silent)

# The DynamoDB pass needs moto (`make emulator-tools` installs it into .venv); without it the run
# says so and measures SQLite only.
DYNAMO=()
MOTO_PID=""
RUN_DIR=$(mktemp -d)
cleanup() {
  [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT INT TERM
if python3 -c "import moto" 2>/dev/null; then
  MOTO_PORT=$(free_port)
  python3 "$ROOT/infra/scripts/moto_server.py" "$MOTO_PORT" >"$RUN_DIR/moto.log" 2>&1 &
  MOTO_PID=$!
  wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" 30 || { cat "$RUN_DIR/moto.log"; exit 1; }
  echo "== moto on 127.0.0.1:$MOTO_PORT (the DynamoDB pass)"
  DYNAMO=(--dynamo-endpoint "http://127.0.0.1:$MOTO_PORT" --dynamo-flows "${BENCH_E2E_DYNAMO_FLOWS:-100}")
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=eu-central-1 AWS_DEFAULT_REGION=eu-central-1
  unset AWS_PROFILE AWS_SESSION_TOKEN
else
  echo "== no moto (make emulator-tools): the DynamoDB pass is skipped"
fi

echo "== end to end: portal vs oidc-provider"
"$BIN_DIR/e2e" --bin-dir "$BIN_DIR" \
  --flows "${BENCH_E2E_FLOWS:-400}" --rounds "${BENCH_E2E_ROUNDS:-2}" --clients "${BENCH_E2E_CLIENTS:-1,4}" \
  "${DYNAMO[@]}"
echo "(also in $PORTAL_BENCH_OUT/e2e.md)"
