#!/usr/bin/env bash
# The ablation ladder (see BENCHMARKS.md): the same request through seven servers, each adding one part of
# the stack, measured in one run two ways.
#
#   (a) passthrough     benches/load/passthrough.rs: hyper proxy, bytes in, bytes out
#   (b) ladder-client   the browser's body through the crate's Client (headers, deadline, retry budget,
#                       boxed transport, collected answer), the answer's bytes back unchanged
#   (c) ladder-copy     the AutumnService with a response "conversion" that only copies the bytes
#   (d) ladder-service  the full AutumnService (bare hyper server, as (b) and (c))
#   (dr) ladder-router  the full AutumnService in an axum Router, served by the bare hyper server of (d)
#   (d') ladder-axum    the full AutumnService in an axum Router, served by axum::serve (no CORS, no
#                       subscriber)
#   (e) quickstart      examples/quickstart.rs: axum router, CORS, tracing subscriber, the service
#
# 1. Load: `run.sh` with those targets at concurrency 64, ROUNDS times (each round measures every rung,
#    odd rounds in ladder order and even rounds reversed, so slow phases of the machine fall on all rungs
#    alike); CPU s per 1,000 requests = utime + stime of the server from /proc/PID/stat around the run,
#    also split into user and system time; context switches of its threads; req/s, p50/p99, peak RSS. The
#    report gives each cell's median over the rounds and each ratio's median and range.
# 2. Instructions: each server under `valgrind --tool=callgrind` (the fake upstream outside it);
#    CG_WARMUP sequential requests on one keep-alive connection, then the counters are zeroed
#    (`callgrind_control -z`), CG_REQUESTS more, then dumped (`callgrind_control -d`). Instructions per
#    request = the dump's total Ir / CG_REQUESTS; nothing is subtracted (the runtime's idle wake-ups and
#    the load generator's connection are in it). Then the dumps' self cost grouped by library
#    and their calls per request to the scheduler and the allocator, and allocations per request by the
#    library that asked for them (`callgrind_groups.py`).
#
#   bash benches/load/ladder.sh
#
# Environment (all optional): ROUNDS=3 DURATION=10s WARMUP=3s CG_WARMUP=200 CG_REQUESTS=2000 LOADGEN (wrk if
# installed, else benches/load/loadgen.rs) SKIP_LOAD=1 SKIP_CALLGRIND=1 BASE_PORT=18400
# RESULTS=benches/load/results/ladder.md
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUNGS="${RUNGS:-passthrough ladder-client ladder-copy ladder-service ladder-router ladder-axum quickstart}"
ROUNDS="${ROUNDS:-3}"
CG_WARMUP="${CG_WARMUP:-200}"
CG_REQUESTS="${CG_REQUESTS:-2000}"
BASE_PORT="${BASE_PORT:-18400}"
RESULTS="${RESULTS:-$HERE/results/ladder.md}"
if [[ -z "${LOADGEN:-}" ]]; then
  if command -v wrk >/dev/null; then LOADGEN=wrk; else LOADGEN=loadgen; fi
fi
export LOADGEN
RAW="$HERE/results/ladder-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RAW"
log() { printf '[ladder] %s\n' "$*" >&2; }

# --- 1. Load ------------------------------------------------------------------------------------
if [[ "${SKIP_LOAD:-0}" != 1 ]]; then
  for round in $(seq 1 "$ROUNDS"); do
    # Odd rounds in ladder order, even rounds reversed: a slow phase of the machine late (or early) in a
    # round would otherwise always fall on the same rungs.
    order="$RUNGS"
    ((round % 2 == 0)) && order="$(tr ' ' '\n' <<<"$RUNGS" | tac | tr '\n' ' ')"
    log "load round $round of $ROUNDS: $order"
    RAW="$RAW/load-$round" TARGETS="$order" CONCURRENCY=64 REUSE_REQUESTS=0 BASE_PORT="$BASE_PORT" \
      RESULTS="$RAW/load-$round.md" bash "$HERE/run.sh" >/dev/null
  done
else
  (cd "$HERE" && cargo build --quiet --release)
  (cd "$ROOT" && cargo build --quiet --release --example quickstart &&
    cargo build --quiet --release --example ladder --features __bench)
fi

# --- 2. Instructions per request under callgrind ---------------------------------------------------
BIN="${CARGO_TARGET_DIR:-$HERE/target}/release"
EXAMPLES="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples"
UP_PORT=$((BASE_PORT + 21))
UPSTREAM_URL="http://127.0.0.1:$UP_PORT"
PORT=$((BASE_PORT + 23))
URL="http://127.0.0.1:$PORT/api/autumn/getOrCreateCustomer"
printf 'rung\tir_total\trequests\tir_per_request\n' >"$RAW/callgrind.tsv"
if [[ "${SKIP_CALLGRIND:-0}" != 1 ]]; then
  command -v valgrind >/dev/null || { log "valgrind not found"; exit 1; }
  "$BIN/fake-upstream" "127.0.0.1:$UP_PORT" "127.0.0.1:$((BASE_PORT + 22))" >"$RAW/upstream.out" 2>&1 &
  UP_PID=$!
  pid=""
  trap 'kill $UP_PID $pid 2>/dev/null || true' EXIT
  sleep 0.5
  for rung in $RUNGS; do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
      log "port $PORT is already in use"; exit 1
    fi
    case "$rung" in
      passthrough) cmd=("$BIN/passthrough" "127.0.0.1:$PORT" "$UPSTREAM_URL") ;;
      quickstart) cmd=("$EXAMPLES/quickstart") ;;
      *) cmd=("$EXAMPLES/ladder" "${rung#ladder-}" "127.0.0.1:$PORT" "$UPSTREAM_URL") ;;
    esac
    AUTUMN_SECRET_KEY=am_sk_test_load_comparison AUTUMN_API_URL="$UPSTREAM_URL" PORT="$PORT" valgrind --tool=callgrind --callgrind-out-file="$RAW/callgrind.$rung.%p" "${cmd[@]}" \
      >"$RAW/$rung.cg.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
      curl -s -o /dev/null -X POST "$URL" && break
      sleep 0.2
    done
    "$BIN/loadgen" "$URL" 1 "${CG_WARMUP}n" >"$RAW/$rung.cg.warmup.txt"
    callgrind_control -z "$pid" >/dev/null
    "$BIN/loadgen" "$URL" 1 "${CG_REQUESTS}n" >"$RAW/$rung.cg.run.txt"
    callgrind_control -d "$pid" >/dev/null
    done_n="$(grep -o 'requests=[0-9]*' "$RAW/$rung.cg.run.txt" | cut -d= -f2)"
    ir="$(grep -h '^totals:' "$RAW"/callgrind."$rung".*.1 | awk '{print $2}')"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    printf '%s\t%s\t%s\t%.0f\n' "$rung" "$ir" "$done_n" "$(awk -v a="$ir" -v b="$done_n" 'BEGIN{print a/b}')" \
      >>"$RAW/callgrind.tsv"
    log "$rung: $(tail -1 "$RAW/callgrind.tsv" | cut -f4) instructions per request"
  done
fi

# --- Report ------------------------------------------------------------------------------------------
mkdir -p "$(dirname "$RESULTS")"
python3 - "$RAW" "$RAW/callgrind.tsv" "$LOADGEN" "$CG_WARMUP" "$CG_REQUESTS" <<'PY' | tee "$RESULTS"
import csv, glob, os, statistics, sys
raw, cg_path, loadgen, cg_warm, cg_n = sys.argv[1:]
names = {
    "passthrough": "(a) pass-through hyper proxy",
    "ladder-client": "(b) + the crate's Client and transport (no conversion)",
    "ladder-copy": "(c) + AutumnService, conversion = byte copy",
    "ladder-service": "(d) + the streaming conversion (full service)",
    "ladder-router": "(dr) + axum's Router (bare hyper server)",
    "ladder-axum": "(d') + axum's router and axum::serve",
    "quickstart": "(e) + axum, CORS, tracing (the quickstart)",
}
# One dict per load round: rung -> its row.
rounds = []
for path in sorted(glob.glob(os.path.join(raw, "load-*", "results.tsv"))):
    rounds.append({r["target"]: r for r in csv.DictReader(open(path), delimiter="\t")})
cg = {r["rung"]: r for r in csv.DictReader(open(cg_path), delimiter="\t")}
base_ir = float(cg["passthrough"]["ir_per_request"]) if "passthrough" in cg else None

def per_round(rung, field, ratio=False):
    """The field's value in each round that measured the rung (divided by the same round's pass-through)."""
    out = []
    for r in rounds:
        if rung not in r or (ratio and "passthrough" not in r):
            continue
        v = float(r[rung][field])
        out.append(v / float(r["passthrough"][field]) if ratio else v)
    return out

def med(xs):
    return statistics.median(xs) if xs else None

def spread(xs):
    return f" [{min(xs):.2f}-{max(xs):.2f}]" if len(xs) > 1 and min(xs) != max(xs) else ""

print(f"Load: {loadgen}, c=64, {len(rounds)} round(s), each measuring every rung (odd rounds in ladder order, even "
      "rounds reversed); each cell is the "
      "median over the rounds (ratios: the median of each round's ratio to the same round's pass-through, with "
      f"their range). Callgrind: {cg_warm} warm-up then {cg_n} sequential requests, Ir / requests.")
print()
print("| rung | req/s (c=64) | p99 | CPU s / 1k req | CPU ÷ (a) | user / sys µs per req | context switches / req "
      "| peak RSS | instructions / req | Ir ÷ (a) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
x = lambda v: f"{v:.2f}x"
for k, name in names.items():
    cells = [name]
    rps, cpu = per_round(k, "req_per_s"), per_round(k, "cpu_s_per_1k")
    if rps:
        rps_r, cpu_r, p99_r = (per_round(k, f, ratio=True) for f in ("req_per_s", "cpu_s_per_1k", "p99_us"))
        p99 = med(per_round(k, "p99_us"))
        user, sys_ = med(per_round(k, "user_s_per_1k")), med(per_round(k, "sys_s_per_1k"))
        cells += [f"{med(rps):,.0f} ({x(med(rps_r))}{spread(rps_r)})",
                  f"{p99 / 1000:.2f} ms ({x(med(p99_r))})",
                  f"{med(cpu):.4f}",
                  f"{x(med(cpu_r))}{spread(cpu_r)}",
                  f"{user * 1000:.1f} / {sys_ * 1000:.1f}",
                  f"{med(per_round(k, 'ctx_per_req')):.2f}",
                  f"{max(per_round(k, 'hwm_kib')) / 1024:.1f} MiB"]
    else:
        cells += [""] * 7
    c = cg.get(k)
    if c:
        ir = float(c["ir_per_request"])
        cells += [f"{ir:,.0f}", f"{ir / base_ir:.2f}x" if base_ir else ""]
    else:
        cells += ["", ""]
    print("| " + " | ".join(cells) + " |")
PY
# Where each rung's instructions go, by library (self cost per request of the rungs' dumps, in ladder order).
dumps=()
for rung in $RUNGS; do
  for f in "$RAW"/callgrind."$rung".*.1; do [[ -e "$f" ]] && dumps+=("$f"); done
done
if (( ${#dumps[@]} > 0 )); then
  { echo; echo "Self cost per request by library, calls per request to the runtime and the allocator, then allocations by who asked for them (benches/load/callgrind_groups.py):"; echo
    python3 "$HERE/callgrind_groups.py" "$CG_REQUESTS" "${dumps[@]}"; } | tee -a "$RESULTS"
fi
log "written to $RESULTS; raw data in $RAW"
