#!/usr/bin/env bash
# Validates template.yaml offline, as `make test` does: no AWS account, no network, no Docker.
#
#   1. `sam validate`         runs the SAM transform: bad event wiring, an authorizer that is not
#                             defined, `Authorizer: NONE` without a default authorizer, ...
#   2. `sam validate --lint`  runs cfn-lint on the transformed template: resource property types and
#                             values, references, conditions, IAM policy syntax, ...
# Each catches errors the other lets through, so both must pass. What neither checks (the exact
# runtime, architecture, routes and scopes) is the job of tests/tests/template_parity/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

TEMPLATE=${1:-template.yaml}
echo "== sam validate ($TEMPLATE)"

# Dummy credentials and a fixed region: validation is local, and must never pick up (or need) a
# developer's real AWS identity. No telemetry.
run_sam() {
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
    AWS_ACCESS_KEY_ID=offline-validation AWS_SECRET_ACCESS_KEY=offline-validation \
    AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    SAM_CLI_TELEMETRY=0 \
    sam "$@"
}

if ! command -v sam >/dev/null 2>&1; then
  echo "sam not found: run 'make deploy-tools' (aws-sam-cli is in infra/requirements/deploy.txt)" >&2
  exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for mode in transform lint; do
  args=(validate --template "$TEMPLATE")
  [ "$mode" = lint ] && args+=(--lint)
  if ! run_sam "${args[@]}" >"$out" 2>&1; then
    cat "$out" >&2
    echo "template validation ($mode) failed" >&2
    exit 1
  fi
  echo "   $mode: valid"
done
