#!/usr/bin/env bash
# `make deploy` (after `make deploy-build`): `sam deploy` of the prebuilt bootstraps. The first time
# (no samconfig.toml) it asks for the stack name, region and parameters (`--guided`) and saves the
# answers; afterwards it deploys with them. Extra arguments: SAM_DEPLOY_ARGS="--parameter-overrides …".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

for fn in "${FUNCTION_PACKAGES[@]}"; do
  [ -x "build/lambda/$fn/bootstrap" ] || { echo "build/lambda/$fn/bootstrap is missing: run make deploy-build" >&2; exit 1; }
done
export SAM_CLI_TELEMETRY=${SAM_CLI_TELEMETRY:-0}
# This template, never a stale .aws-sam/build/template.yaml from an earlier `sam build`.
TEMPLATE=(--template-file template.yaml)
# shellcheck disable=SC2086 # SAM_DEPLOY_ARGS is a list of arguments on purpose
if [ -f samconfig.toml ]; then
  exec sam deploy "${TEMPLATE[@]}" ${SAM_DEPLOY_ARGS:-}
else
  echo "== first deploy: sam deploy --guided (answers are saved to samconfig.toml)"
  exec sam deploy "${TEMPLATE[@]}" --guided --capabilities CAPABILITY_IAM ${SAM_DEPLOY_ARGS:-}
fi
