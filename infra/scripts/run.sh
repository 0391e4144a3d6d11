#!/usr/bin/env bash
# `make run`: prepare the local store, then serve every function on 127.0.0.1:$PORT through
# `cargo lambda watch`, routed exactly as API Gateway routes them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT=${PORT:-9000}
mkdir -p .data
export PORTAL_DATA_DIR="${PORTAL_DATA_DIR:-$ROOT/.data}"
export PORTAL_STORE="${PORTAL_STORE:-sqlite:$PORTAL_DATA_DIR/portal.db}"
export PORTAL_ISSUER="${PORTAL_ISSUER:-http://127.0.0.1:$PORT}"

echo "== preparing the local store ($PORTAL_STORE)"
cargo run --quiet -p portal-admin -- init
cargo run --quiet -p portal-admin -- demo
cargo run --quiet -p portal-admin -- catalog load infra/catalog/demo.yaml

echo "== serving on http://127.0.0.1:$PORT (Ctrl-C to stop)"
# Same target dir as the test run's watch server, so `make run` after `make test` starts at once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mypatientportal/target}/watch"
exec cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$PORT" --disable-cors \
  --env-var "PORTAL_DATA_DIR=$PORTAL_DATA_DIR" \
  --env-var "PORTAL_STORE=$PORTAL_STORE" \
  --env-var "PORTAL_ISSUER=$PORTAL_ISSUER"
