#!/usr/bin/env bash
# Load with faults (tests/load_faults.rs): 100,000 requests at concurrency 256 through the quickstart
# example while the fake Autumn fails 1% of calls; checks one answer per request, no repeated write, and
# memory back within 10% of the warmed-up server's. The run itself is bounded to 2 minutes by the test;
# the release build before it is not (a few minutes on a cold target directory).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test load_faults --no-run
exec timeout 300 cargo test --release --test load_faults -- --ignored --nocapture
