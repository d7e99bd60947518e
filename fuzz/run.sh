#!/usr/bin/env bash
# A bounded fuzzing run of one target (default `service`, 60 s), then a replay of the corpora on stable.
# Targets: `service` (the AutumnService's request handling) and `offline` (the offline Autumn's API).
# Needs a nightly toolchain and cargo-fuzz; installs cargo-fuzz from crates.io when it is missing.
# Usage: fuzz/run.sh [seconds] [target]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
target="${2:-service}"

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz/run.sh: no nightly toolchain; running the stable replay harness only" >&2
  cd .. && exec cargo test --test fuzz_replay
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo +nightly install cargo-fuzz --locked
fi

# Seeds are committed in corpus/<target>; new finds go to a scratch corpus so the tree stays clean.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz run "$target" "$scratch" "corpus/$target" -- \
  -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
# Any crash input is written to fuzz/artifacts/<target>/ and fails the run above.
cd .. && cargo test --test fuzz_replay
