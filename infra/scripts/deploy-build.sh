#!/usr/bin/env bash
# `make deploy-build`: ONE `cargo lambda build --release --arm64` for the five functions (every
# dependency compiled once for all of them), then each bootstrap copied to build/lambda/<name>/,
# the folders template.yaml's CodeUri names, for `sam deploy` to zip as they are.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  echo "== adding the arm64 Rust target (once)"
  rustup target add aarch64-unknown-linux-gnu
fi

STARTED=$SECONDS
echo "== cargo lambda build --release --arm64 (${FUNCTION_PACKAGES[*]}) in $CARGO_TARGET_DIR"
# cargo-lambda cross-compiles with zig (from .venv, found through `python3 -m ziglang`).
cargo lambda build --release --arm64 "${FUNCTION_PACKAGES[@]/#/--package=}"

OUT="$ROOT/build/lambda"
rm -rf "$OUT"
for fn in "${FUNCTION_PACKAGES[@]}"; do
  mkdir -p "$OUT/$fn"
  cp "$CARGO_TARGET_DIR/lambda/$fn/bootstrap" "$OUT/$fn/bootstrap"
done
echo "== built in $((SECONDS - STARTED)) s:"
for fn in "${FUNCTION_PACKAGES[@]}"; do
  printf '   %-10s %s  %s bytes\n' "$fn" "build/lambda/$fn/bootstrap" "$(stat -c %s "$OUT/$fn/bootstrap")"
done
