#!/usr/bin/env bash
# `make soak`: `make run`'s stack on a fresh data folder and a free port, then the soak workload
# against it (bench/loadgen: SOAK_CLIENTS concurrent patients for SOAK_SECONDS), then the
# invariant checks over its store. Fails on any 5xx of the functions, any answer the API does not
# document, or any broken invariant; the emulator's own failures are reported apart.
#
#   SOAK_SECONDS=120 SOAK_CLIENTS=16 SOAK_SEED=1   (make test runs a 20-second version)
#   STORE=sqlite | dynamodb                       as for make run
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SOAK_DIR=$(mktemp -d)
RUN_PGID=""
cleanup() {
  [ -n "$RUN_PGID" ] && kill -- "-$RUN_PGID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$SOAK_DIR"
}
trap cleanup EXIT INT TERM

echo "== building the soak workload"
cargo build --quiet -p portal-loadgen --bin soak

export PORT=$(free_port)
export PORTAL_DATA_DIR="$SOAK_DIR/data"
export PORTAL_ISSUER="http://127.0.0.1:$PORT"
mkdir -p "$PORTAL_DATA_DIR"
echo "== make run's stack on 127.0.0.1:$PORT (log: $SOAK_DIR/run.log while it runs)"
setsid "$ROOT/infra/scripts/run.sh" >"$SOAK_DIR/run.log" 2>&1 &
RUN_PGID=$!
start=$SECONDS
until grep -q '^== READY' "$SOAK_DIR/run.log"; do
  if ! kill -0 "$RUN_PGID" 2>/dev/null || (( SECONDS - start > 600 )); then
    cat "$SOAK_DIR/run.log"; echo "the stack did not come up" >&2; exit 1
  fi
  sleep 0.5
done

# The soak reads the store as the functions do: the environment run.sh exported to them.
store_env=()
while IFS= read -r line; do store_env+=("$line"); done < <(
  sed -n 's/^portal-admin on this store: \(.*\) cargo run.*/\1/p' "$SOAK_DIR/run.log" | tr ' ' '\n')
if [ "${STORE:-sqlite}" = sqlite ]; then
  store_env=("PORTAL_STORE=sqlite:$PORTAL_DATA_DIR/portal.db")
else
  # Mail went to SES on moto: the soak reads it back there.
  store_env+=(PORTAL_MAIL=ses "PORTAL_MAIL_FROM=${PORTAL_MAIL_FROM:-no-reply@mypatientportal.example}")
fi
env "${store_env[@]}" "$CARGO_TARGET_DIR/debug/soak" \
  --clients "${SOAK_CLIENTS:-16}" --seconds "${SOAK_SECONDS:-120}" --seed "${SOAK_SEED:-1}"
