#!/usr/bin/env bash
# `make test`: format and lint checks, then every test against both storage adapters.
# Starts one moto server (DynamoDB + SES emulator) on a free loopback port and two local portals
# (cargo lambda watch: issuers http://127.0.0.1:PORT and http://localhost:PORT) and always stops them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
"$(dirname "$0")/validate-template.sh"

# ---- browser test tools (tests/tests/e2e_browser.rs) -----------------------------------------------
# Debian's Chromium (Playwright cannot download browsers here) and tests/browser's Node packages,
# reinstalled only when its package-lock.json changes. The Rust drivers fail, naming this step, when
# either is missing.
echo "== browser test tools"
if [ -z "${PORTAL_TEST_CHROMIUM:-}" ]; then
  PORTAL_TEST_CHROMIUM=/usr/bin/chromium
  if [ ! -x "$PORTAL_TEST_CHROMIUM" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
  fi
fi
command -v npm >/dev/null || { echo "npm (Node.js 20 or later) is needed for the browser tests" >&2; exit 1; }
BROWSER_DIR="$ROOT/tests/browser"
NPM_STAMP="$BROWSER_DIR/node_modules/.installed-$(cksum < "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$NPM_STAMP" ]; then
  npm ci --prefix "$BROWSER_DIR" --no-audit --no-fund --loglevel=error
  touch "$NPM_STAMP"
fi
export PORTAL_TEST_CHROMIUM
export PORTAL_TEST_ARTIFACT_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/artifacts/browser"
echo "== chromium $PORTAL_TEST_CHROMIUM; screenshots in $PORTAL_TEST_ARTIFACT_DIR"
# ---- end of browser test tools ----------------------------------------------------------------------

RUN_DIR=$(mktemp -d)
MOTO_PID=""
WATCH_PGIDS=()
cleanup() {
  for pgid in "${WATCH_PGIDS[@]}"; do kill -- "-$pgid" 2>/dev/null || true; done
  [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT INT TERM

MOTO_PORT=$(free_port)
python3 "$ROOT/infra/scripts/moto_server.py" "$MOTO_PORT" >"$RUN_DIR/moto.log" 2>&1 &
MOTO_PID=$!
wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" 30 || { cat "$RUN_DIR/moto.log"; exit 1; }
echo "== moto on 127.0.0.1:$MOTO_PORT"

# One local portal (cargo lambda watch, as `make run` serves it) for the end-to-end tests, on its own
# data folder; each test creates its own clients and patients in it.
echo "== building the functions"
# The same build as `make run`, in the same $CARGO_TARGET_DIR, resolved as the watch server
# resolves it (lib.sh, build_local_binaries), so the watch server below finds every function fresh
# and starts it at once. The test build that follows also brings in dev-dependencies, which changes
# the features of a few crates: cargo keeps those copies beside these, neither rebuilds the other.
build_local_binaries --quiet
# The boot tests run the binaries while the watch server may relink target/debug/<fn> (cargo
# replaces the file): give them hard links of their own.
mkdir -p "$RUN_DIR/bin"
for fn in "${FUNCTION_PACKAGES[@]}"; do
  ln "$CARGO_TARGET_DIR/debug/$fn" "$RUN_DIR/bin/$fn" 2>/dev/null || cp "$CARGO_TARGET_DIR/debug/$fn" "$RUN_DIR/bin/$fn"
done
export PORTAL_TEST_FUNCTION_BIN_DIR="$RUN_DIR/bin"
# start_watch LOG PORT DATA ISSUER: `cargo lambda watch` on 127.0.0.1:PORT in its own process group
# (stopped by cleanup), on the data folder DATA under ISSUER, logging to $RUN_DIR/LOG.log.
start_watch() {
  mkdir -p "$3"
  setsid cargo lambda watch --quiet --concurrency 4 -A 127.0.0.1 -P "$2" --disable-cors \
    --env-var "PORTAL_DATA_DIR=$3" \
    --env-var "PORTAL_STORE=sqlite:$3/portal.db" \
    --env-var "PORTAL_ISSUER=$4" \
    >"$RUN_DIR/$1.log" 2>&1 &
  WATCH_PGIDS+=($!)
  wait_http "http://127.0.0.1:$2/" 120 || { cat "$RUN_DIR/$1.log"; exit 1; }
  echo "== cargo lambda watch on 127.0.0.1:$2 (issuer $4)"
}
WATCH_PORT=$(free_port)
E2E_DATA="$RUN_DIR/portal"
start_watch watch "$WATCH_PORT" "$E2E_DATA" "http://127.0.0.1:$WATCH_PORT"
export PORTAL_TEST_BASE_URL="http://127.0.0.1:$WATCH_PORT"
export PORTAL_TEST_DATA_DIR="$E2E_DATA"

# A second server of the same binaries (already built: it starts them without building) under the
# issuer http://localhost:PORT, on a data folder of its own, for the passkey browser scenario:
# Chromium refuses WebAuthn on an IP-address origin such as 127.0.0.1.
LOCALHOST_PORT=$(free_port)
LOCALHOST_DATA="$RUN_DIR/portal-localhost"
start_watch watch-localhost "$LOCALHOST_PORT" "$LOCALHOST_DATA" "http://localhost:$LOCALHOST_PORT"
export PORTAL_TEST_LOCALHOST_BASE_URL="http://localhost:$LOCALHOST_PORT"
export PORTAL_TEST_LOCALHOST_DATA_DIR="$LOCALHOST_DATA"

export PORTAL_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# Tests must not pick up a developer's real AWS profile.
unset AWS_PROFILE AWS_SESSION_TOKEN

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast --failure-output final
else
  cargo test --workspace --no-fail-fast
fi

# The 20-second soak (make soak runs 2 minutes on a stack of its own): against the same server once
# every other test is done, so the invariant checks read a store nobody is writing any more.
echo "== soak (20 s)"
cargo build --quiet -p portal-loadgen --bin soak
PORTAL_DATA_DIR="$E2E_DATA" PORTAL_STORE="sqlite:$E2E_DATA/portal.db" \
  PORTAL_ISSUER="http://127.0.0.1:$WATCH_PORT" \
  "$CARGO_TARGET_DIR/debug/soak" --clients 16 --seconds 20
