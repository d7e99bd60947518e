#!/usr/bin/env bash
# The crate's response conversion beside well-kept JSON crates walking the same answer (BENCHMARKS.md,
# "A faster JSON crate?"): instructions per walk under callgrind (deterministic) and CPU time per walk
# (user time of a long run; varies with the machine).
#
#   bash benches/load/jsonwalk.sh
#
# Environment (all optional): ANSWER=benches/load/fixtures/customer.json CG_COUNT=2000 TIME_COUNT=200000
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ANSWER="${ANSWER:-$HERE/fixtures/customer.json}"
CG_COUNT="${CG_COUNT:-2000}"
TIME_COUNT="${TIME_COUNT:-200000}"
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }

(cd "$HERE" && cargo build --quiet --release --bin jsonwalk)
(cd "$ROOT" && cargo build --quiet --release --example ladder --features __bench)
WALK="${CARGO_TARGET_DIR:-$HERE/target}/release/jsonwalk"
LADDER="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/ladder"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# run NAME FUNCTION-PATTERN COMMAND...: one table row (the command takes the walk count last).
run() {
  local name="$1" pattern="$2"
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" --toggle-collect="$pattern" \
    "$@" "$CG_COUNT" >/dev/null 2>&1
  local ir
  ir="$(grep -h '^totals:' "$OUT/cg.out" | awk '{print $2}')"
  local user
  user="$({ TIMEFORMAT=%U; time "$@" "$TIME_COUNT" >/dev/null; } 2>&1)"
  awk -v n="$name" -v ir="$ir" -v c="$CG_COUNT" -v u="$user" -v t="$TIME_COUNT" -v b="$BYTES" \
    'BEGIN { printf "| %s | %d | %.1f | %.2f µs |\n", n, ir / c, ir / c / b, u * 1e6 / t }'
}

BYTES="$("$WALK" serde-skim "$ANSWER" 1 | sed -E 's/.* of ([0-9]+) bytes.*/\1/')"
echo "Answer: $ANSWER ($BYTES bytes minified); callgrind over $CG_COUNT walks, user time over $TIME_COUNT."
echo
echo "| walk | instructions | per byte | CPU time |"
echo "| --- | ---: | ---: | ---: |"
run "the crate's conversion (rename, check against the schema, write the answer)" \
  'autumn_tower::bench::convert_customer' "$LADDER" convert "$ANSWER"
for walker in serde-skim serde-value simd-json-tape sonic-value; do
  run "$walker" "*walk_${walker//-/_}*" "$WALK" "$walker" "$ANSWER"
done
