# Helpers shared by the scripts make runs.

# The venv's tools first on PATH: cargo-lambda finds zig through `python3 -m ziglang`.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$ROOT/.venv/bin:$PATH"

# The five Lambda functions (functions/<name>, each with one binary of the same name).
FUNCTION_PACKAGES=(authorize token userinfo booking asap)

# Builds the five functions and portal-admin (debug) exactly as `cargo lambda watch` builds each
# function: it runs `cargo run --bin <fn>` with no package selected, so cargo unifies features over
# every workspace member (normal dependencies). Selecting packages with `-p` would resolve fewer
# features, and the watch server would then rebuild tokio and everything above it on its first
# request. `--bin` without `-p` keeps the same resolution while building only these binaries.
build_local_binaries() {
  local bins=()
  for fn in "${FUNCTION_PACKAGES[@]}" portal-admin; do bins+=(--bin "$fn"); done
  cargo build "$@" "${bins[@]}"
}

# The benchmark scripts' common ground, from BENCH_PROFILE (default bench-release): sets PROFILE,
# BIN_DIR (where cargo puts that profile's binaries under CARGO_TARGET_DIR or target/) and exports
# PORTAL_BENCH_OUT (created). Unoptimised profiles are refused: their numbers would mislead.
# $1: the make target, for that message.
bench_profile() {
  PROFILE=${BENCH_PROFILE:-bench-release}
  local profile_dir
  case "$PROFILE" in
    release | bench) profile_dir=release ;;
    dev | test) echo "make $1 measures optimised code: use bench-release or release" >&2; exit 2 ;;
    *) profile_dir=$PROFILE ;;
  esac
  local target=${CARGO_TARGET_DIR:-$ROOT/target}
  BIN_DIR="$target/$profile_dir"
  export PORTAL_BENCH_OUT="${PORTAL_BENCH_OUT:-$target/portal-bench}"
  mkdir -p "$PORTAL_BENCH_OUT"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something answers HTTP on the URL (no fixed sleeps), or fails after $2 seconds.
wait_http() {
  local url=$1 limit=${2:-60} start=$SECONDS
  until curl -s -o /dev/null "$url"; do
    if (( SECONDS - start > limit )); then echo "timed out waiting for $url" >&2; return 1; fi
    sleep 0.2
  done
}
