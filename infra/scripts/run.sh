#!/usr/bin/env bash
# `make run`: build the five functions and portal-admin in one cargo invocation, prepare the store
# and demo data, serve every function on 127.0.0.1:$PORT through `cargo lambda watch` (routed as API
# Gateway routes them), warm each function, and only then say "ready".
#
#   STORE=sqlite    (default) SQLite file under .data/, mail as .eml files in .data/outbox
#   STORE=dynamodb  DynamoDB and SES on moto (loopback, started and stopped here); data lives as
#                   long as this run
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

STARTED=$SECONDS
PORT=${PORT:-9000}
STORE=${STORE:-sqlite}
mkdir -p .data
export PORTAL_DATA_DIR="${PORTAL_DATA_DIR:-$ROOT/.data}"
export PORTAL_ISSUER="${PORTAL_ISSUER:-http://127.0.0.1:$PORT}"

MOTO_PID=""
WATCH_PID=""
cleanup() {
  [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null || true
  [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- one build -----------------------------------------------------------------------------------
# One invocation builds every dependency once, resolved as the watch server resolves it
# (lib.sh, build_local_binaries), so `cargo lambda watch` finds every function fresh in
# $CARGO_TARGET_DIR and starts it at once.
echo "== building the functions and portal-admin ($CARGO_TARGET_DIR)"
build_local_binaries
ADMIN="$CARGO_TARGET_DIR/debug/portal-admin"

# ---- the store -----------------------------------------------------------------------------------
WATCH_ENV=(
  --env-var "PORTAL_DATA_DIR=$PORTAL_DATA_DIR"
  --env-var "PORTAL_ISSUER=$PORTAL_ISSUER"
)
case "$STORE" in
  sqlite)
    export PORTAL_STORE="${PORTAL_STORE:-sqlite:$PORTAL_DATA_DIR/portal.db}"
    ;;
  dynamodb)
    MOTO_PORT=$(free_port)
    python3 "$ROOT/infra/scripts/moto_server.py" "$MOTO_PORT" >"$PORTAL_DATA_DIR/moto.log" 2>&1 &
    MOTO_PID=$!
    wait_http "http://127.0.0.1:$MOTO_PORT/moto-api/" 30 || { cat "$PORTAL_DATA_DIR/moto.log"; exit 1; }
    echo "== moto (DynamoDB + SES) on 127.0.0.1:$MOTO_PORT"
    export PORTAL_STORE="dynamodb:portal-local"
    export PORTAL_AWS_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
    export PORTAL_MAIL=ses
    export PORTAL_MAIL_FROM="${PORTAL_MAIL_FROM:-no-reply@mypatientportal.example}"
    # No stream-to-Lambda wiring on moto: the request that frees a slot sends the ASAP mails.
    export PORTAL_ASAP_DISPATCH=inline
    export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    unset AWS_PROFILE AWS_SESSION_TOKEN
    # SES sends only from verified identities, on moto as deployed.
    python3 - "$PORTAL_AWS_ENDPOINT" "$PORTAL_MAIL_FROM" <<'PY'
import sys, boto3
boto3.client("ses", endpoint_url=sys.argv[1], region_name="us-east-1").verify_email_identity(EmailAddress=sys.argv[2])
PY
    WATCH_ENV+=(
      --env-var "PORTAL_AWS_ENDPOINT=$PORTAL_AWS_ENDPOINT"
      --env-var "PORTAL_MAIL=ses" --env-var "PORTAL_MAIL_FROM=$PORTAL_MAIL_FROM"
      --env-var "PORTAL_ASAP_DISPATCH=inline"
      --env-var "AWS_ACCESS_KEY_ID=local" --env-var "AWS_SECRET_ACCESS_KEY=local"
      --env-var "AWS_REGION=us-east-1"
    )
    ;;
  *)
    echo "STORE must be sqlite or dynamodb, not '$STORE'" >&2
    exit 2
    ;;
esac
WATCH_ENV+=(--env-var "PORTAL_STORE=$PORTAL_STORE")

echo "== preparing the store ($PORTAL_STORE)"
"$ADMIN" init
"$ADMIN" catalog load infra/catalog/demo.yaml
"$ADMIN" docs-client
DEMO=$("$ADMIN" demo)

# ---- serve ---------------------------------------------------------------------------------------
echo "== starting cargo lambda watch on 127.0.0.1:$PORT"
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$PORT" --disable-cors "${WATCH_ENV[@]}" &
WATCH_PID=$!
wait_http "http://127.0.0.1:$PORT/" 60

# The watch server starts a function on its first request: make that happen now, for every
# function at once, so the first person's request is answered at once.
echo "== starting the five functions"
BASE="http://127.0.0.1:$PORT"
warm() {  # function, method, path: waits until the function itself answers
  local fn=$1 method=$2 path=$3 start=$SECONDS body status
  body=$(mktemp)
  while :; do
    status=$(curl -s -o "$body" -w '%{http_code}' -X "$method" --max-time 120 "$BASE$path" || true)
    # 000: no answer yet; the emulator's own 500 problem document: the function is not up yet.
    if [ "$status" != 000 ] && ! grep -q 'httpstatuses.com' "$body"; then rm -f "$body"; return 0; fi
    if (( SECONDS - start > 180 )); then echo "the $fn function did not answer" >&2; return 1; fi
    sleep 0.5
  done
}
pids=()
warm authorize GET /oauth/authorize & pids+=($!)
warm token POST /oauth/token & pids+=($!)
warm userinfo GET /.well-known/openid-configuration & pids+=($!)
warm booking GET /api/portal/v1/insurances & pids+=($!)
warm asap GET /asap/unsubscribe & pids+=($!)
for pid in "${pids[@]}"; do wait "$pid"; done

AUTHORIZE_URL=$(grep -o 'http[^ ]*/oauth/authorize?[^ ]*' <<<"$DEMO" | head -n1)
echo "$DEMO"
if [ "$STORE" = dynamodb ]; then
  echo "Mail sent through SES on moto: curl -s $PORTAL_AWS_ENDPOINT/moto-api/data.json"
  echo "portal-admin on this store: PORTAL_STORE=$PORTAL_STORE PORTAL_AWS_ENDPOINT=$PORTAL_AWS_ENDPOINT AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 cargo run -p portal-admin -- ..."
fi
echo
echo "== READY after $((SECONDS - STARTED)) s: every function answers on $BASE ($STORE store; Ctrl-C stops)"
echo "   demo sign-in:  $AUTHORIZE_URL"
echo "   API docs:      $BASE/api-docs (Authorize signs in with the demo patient)"
wait "$WATCH_PID"
