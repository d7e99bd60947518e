#!/usr/bin/env bash
# The load comparison of issue 7 (see BENCHMARKS.md): one fake Autumn upstream on 127.0.0.1, one load
# generator (wrk), five servers in front of it, measured in one run:
#
#   upstream      the fake upstream hit directly
#   passthrough   a hyper proxy that forwards bytes and parses nothing (benches/load/passthrough.rs)
#   quickstart    this crate's quickstart example (current protocol, getOrCreateCustomer)
#   node          autumn-js 1.3.13's backend with its hono adapter on Node (benches/load/node)
#   python        autumn-py 3.1.9's AutumnASGI under uvicorn + uvloop + httptools (legacy `customers/`)
#   quickstart-legacy  the quickstart with AUTUMN_PROTOCOL=legacy on the Python SDK's route (`customers`)
#   ladder-client ladder-copy ladder-service ladder-router ladder-axum   the rungs between the pass-through and the quickstart
#                 (examples/ladder.rs; `bash benches/load/ladder.sh` runs them with callgrind too)
#
# Then the connection-reuse check: REUSE_REQUESTS requests at concurrency 64 through the quickstart,
# counting the TCP connections the upstream accepts.
#
#   bash benches/load/run.sh
#
# Environment (all optional):
#   DURATION=10s        length of each measured run
#   WARMUP=3s           warm-up at the highest concurrency before the measured runs of each server
#   CONCURRENCY="1 16 64"
#   TARGETS="upstream passthrough ladder-client ladder-copy ladder-service ladder-router ladder-axum quickstart node python quickstart-legacy"
#   REUSE_REQUESTS=100000   requests of the connection-reuse check (0 skips it)
#   PIN=0               1: the server under test on the last CPU, wrk and the upstream on the others
#   BASE_PORT=18400     ports BASE_PORT+1 .. BASE_PORT+12 on 127.0.0.1
#   RESULTS=benches/load/results/latest.md
#   LOADGEN=wrk         wrk, or `loadgen` (benches/load/loadgen.rs, same RESULT line; the default when wrk
#                       is missing and cannot be installed)
#
# Installs what is missing: wrk (apt-get), the Rust helpers and the quickstart (cargo, release), the
# Node packages (npm ci) and the Python venv (benches/load/.venv). Never reaches beyond 127.0.0.1 once
# installed. Not run in CI: a full run takes about 4 minutes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
CONCURRENCY="${CONCURRENCY:-1 16 64}"
TARGETS="${TARGETS:-upstream passthrough ladder-client ladder-copy ladder-service ladder-router ladder-axum quickstart node python quickstart-legacy}"
REUSE_REQUESTS="${REUSE_REQUESTS:-100000}"
PIN="${PIN:-0}"
BASE_PORT="${BASE_PORT:-18400}"
RESULTS="${RESULTS:-$HERE/results/latest.md}"
LOADGEN="${LOADGEN:-wrk}"

UP_PORT=$((BASE_PORT + 1))
CONTROL_PORT=$((BASE_PORT + 2))
UPSTREAM_URL="http://127.0.0.1:$UP_PORT"
CONTROL_URL="http://127.0.0.1:$CONTROL_PORT"
SECRET="am_sk_test_load_comparison"
CURRENT_BODY='{"errorOnNotFound":false}'
LEGACY_BODY='{}'

RAW="${RAW:-$HERE/results/raw-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$RAW"
TSV="$RAW/results.tsv"
log() { printf '[load] %s\n' "$*" >&2; }

# --- CPU placement -------------------------------------------------------------------------------
NCPU="$(nproc)"
if [[ "$PIN" == 1 && "$NCPU" -ge 2 ]]; then
  SERVER_CPUS="$((NCPU - 1))"
  LOAD_CPUS="0-$((NCPU - 2))"
  ON_SERVER=(taskset -c "$SERVER_CPUS")
  ON_LOAD=(taskset -c "$LOAD_CPUS")
else
  PIN=0
  ON_SERVER=()
  ON_LOAD=()
fi

# --- Tools and builds ----------------------------------------------------------------------------
if [[ "$LOADGEN" == wrk ]] && ! command -v wrk >/dev/null; then
  log "installing wrk (apt-get)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } ||
    { log "wrk could not be installed: using benches/load/loadgen.rs"; LOADGEN=loadgen; }
fi
log "building the helpers (benches/load, release)"
cargo build --quiet --release --manifest-path "$HERE/Cargo.toml"
HELPERS="${CARGO_TARGET_DIR:-$HERE/target}/release"
log "building the quickstart (release)"
(cd "$ROOT" && cargo build --quiet --release --example quickstart)
QUICKSTART="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/quickstart"
LADDER="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/ladder"
if [[ " $TARGETS " == *" ladder-"* ]]; then
  log "building the ladder's servers (release, internal feature __bench)"
  (cd "$ROOT" && cargo build --quiet --release --example ladder --features __bench)
fi

want() { [[ " $TARGETS " == *" $1 "* ]]; }
if want node; then
  if ! command -v node >/dev/null; then
    log "node not found: skipping the autumn-js target"; TARGETS="${TARGETS//node/}"
  elif [[ ! -d "$HERE/node/node_modules" ]]; then
    log "installing the Node packages (npm ci)"
    (cd "$HERE/node" && npm ci --no-audit --no-fund --silent)
  fi
fi
if want python; then
  if [[ ! -x "$HERE/.venv/bin/uvicorn" ]]; then
    log "creating the Python venv (benches/load/.venv)"
    python3 -m venv "$HERE/.venv"
    "$HERE/.venv/bin/pip" install --quiet -r "$HERE/python/requirements.txt"
  fi
fi

# --- Process helpers -----------------------------------------------------------------------------
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# cpu_ticks PID: "user system" CPU of the process, in clock ticks: utime + cutime, stime + cstime (its
# threads, live and exited, and its waited-for children).
cpu_ticks() {
  # Fields after the command name (which may contain spaces): utime is the 12th, cstime the 15th.
  sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $14, $13 + $15}'
}
# ctx_switches PID: voluntary + involuntary context switches of the process's live threads.
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/ {s += $2} END {print s + 0}'; }
# hwm_kib PID: peak resident set (VmHWM) in KiB.
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
stat_field() { curl -s "$CONTROL_URL/__stats" | sed -E "s/.*\"$1\":([0-9]+).*/\1/"; }
CLK_TCK="$(getconf CLK_TCK)"

# wait_ready URL BODY: until the server answers the benchmark's request with 200.
wait_ready() {
  local i code
  for i in $(seq 1 100); do
    code="$(curl -s -o "$RAW/probe.json" -w '%{http_code}' -X POST -H 'content-type: application/json' \
      -H 'x-customer-id: cus_load_0001' -H 'x-customer-name: Ada Lovelace' \
      -H 'x-customer-email: ada@example.com' -d "$2" "$1" || true)"
    if [[ "$code" == 200 ]]; then return 0; fi
    sleep 0.2
  done
  log "no 200 from $1 (last status $code)"; return 1
}

# wrk_run CONCURRENCY DURATION URL BODY OUT: one wrk run; its RESULT line is in OUT.
wrk_run() {
  local c="$1" threads=2
  ((c < threads)) && threads="$c"
  if [[ "$LOADGEN" == loadgen ]]; then
    BODY="$4" "${ON_LOAD[@]}" "$HELPERS/loadgen" "$3" "$c" "$2" >"$5" 2>&1
  else
    BODY="$4" "${ON_LOAD[@]}" wrk -t"$threads" -c"$c" -d"$2" --timeout 10s -s "$HERE/request.lua" "$3" >"$5" 2>&1
  fi
}
result_field() { grep '^RESULT' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k {print $2}'; }

# --- The fake upstream ---------------------------------------------------------------------------
log "starting the fake upstream on $UPSTREAM_URL"
"${ON_LOAD[@]}" "$HELPERS/fake-upstream" "127.0.0.1:$UP_PORT" "127.0.0.1:$CONTROL_PORT" \
  >"$RAW/upstream.out" 2>"$RAW/upstream.err" &
UP_PID=$!
PIDS+=("$UP_PID")
for _ in $(seq 1 50); do curl -s "$CONTROL_URL/__stats" >/dev/null && break; sleep 0.1; done

# start_target NAME: starts the server (or reuses the upstream), sets T_PID, T_URL, T_BODY.
start_target() {
  local port
  case "$1" in
    upstream)
      T_PID="$UP_PID"; T_URL="$UPSTREAM_URL/api/autumn/getOrCreateCustomer"; T_BODY="$CURRENT_BODY"
      [[ "$PIN" == 1 ]] && taskset -a -p -c "$SERVER_CPUS" "$UP_PID" >/dev/null
      wait_ready "$T_URL" "$T_BODY"
      return ;;
    passthrough)
      port=$((BASE_PORT + 3)); T_URL="http://127.0.0.1:$port/api/autumn/getOrCreateCustomer"; T_BODY="$CURRENT_BODY"
      "${ON_SERVER[@]}" "$HELPERS/passthrough" "127.0.0.1:$port" "$UPSTREAM_URL" >"$RAW/$1.out" 2>&1 & ;;
    quickstart)
      port=$((BASE_PORT + 4)); T_URL="http://127.0.0.1:$port/api/autumn/getOrCreateCustomer"; T_BODY="$CURRENT_BODY"
      AUTUMN_SECRET_KEY="$SECRET" AUTUMN_API_URL="$UPSTREAM_URL" PORT="$port" \
        "${ON_SERVER[@]}" "$QUICKSTART" >"$RAW/$1.out" 2>&1 & ;;
    ladder-client|ladder-copy|ladder-service|ladder-axum|ladder-router)
      case "$1" in
        ladder-client) port=$((BASE_PORT + 8)) ;; ladder-copy) port=$((BASE_PORT + 9)) ;;
        ladder-service) port=$((BASE_PORT + 10)) ;; ladder-axum) port=$((BASE_PORT + 11)) ;;
        *) port=$((BASE_PORT + 12)) ;;
      esac
      T_URL="http://127.0.0.1:$port/api/autumn/getOrCreateCustomer"; T_BODY="$CURRENT_BODY"
      "${ON_SERVER[@]}" "$LADDER" "${1#ladder-}" "127.0.0.1:$port" "$UPSTREAM_URL" >"$RAW/$1.out" 2>&1 & ;;
    quickstart-legacy)
      port=$((BASE_PORT + 7)); T_URL="http://127.0.0.1:$port/api/autumn/customers"; T_BODY="$LEGACY_BODY"
      AUTUMN_PROTOCOL=legacy AUTUMN_SECRET_KEY="$SECRET" AUTUMN_API_URL="$UPSTREAM_URL" PORT="$port" \
        "${ON_SERVER[@]}" "$QUICKSTART" >"$RAW/$1.out" 2>&1 & ;;
    node)
      port=$((BASE_PORT + 5)); T_URL="http://127.0.0.1:$port/api/autumn/getOrCreateCustomer"; T_BODY="$CURRENT_BODY"
      AUTUMN_SECRET_KEY="$SECRET" AUTUMN_API_URL="$UPSTREAM_URL" PORT="$port" NODE_ENV=production \
        "${ON_SERVER[@]}" node "$HERE/node/server.mjs" >"$RAW/$1.out" 2>&1 & ;;
    python)
      port=$((BASE_PORT + 6)); T_URL="http://127.0.0.1:$port/api/autumn/customers/"; T_BODY="$LEGACY_BODY"
      AUTUMN_SECRET_KEY="$SECRET" AUTUMN_API_URL="$UPSTREAM_URL" \
        "${ON_SERVER[@]}" "$HERE/.venv/bin/python" -m uvicorn --app-dir "$HERE/python" app:app \
        --host 127.0.0.1 --port "$port" --loop uvloop --http httptools --no-access-log --log-level warning \
        >"$RAW/$1.out" 2>&1 & ;;
    *) log "unknown target $1"; return 1 ;;
  esac
  T_PID=$!
  PIDS+=("$T_PID")
  wait_ready "$T_URL" "$T_BODY"
}

stop_target() {
  if [[ "$1" == upstream ]]; then
    [[ "$PIN" == 1 ]] && taskset -a -p -c "$LOAD_CPUS" "$UP_PID" >/dev/null
    return 0
  fi
  kill "$T_PID" 2>/dev/null || true
  wait "$T_PID" 2>/dev/null || true
}

printf 'target\tconcurrency\trequests\tseconds\treq_per_s\tp50_us\tp99_us\tcpu_s_per_1k\thwm_kib\tupstream_conns\tupstream_peak_open\terrors\tanswer_bytes\tuser_s_per_1k\tsys_s_per_1k\tctx_per_req\n' >"$TSV"

# --- The measured runs ---------------------------------------------------------------------------
MAX_C="$(tr ' ' '\n' <<<"$CONCURRENCY" | sort -n | tail -1)"
for target in $TARGETS; do
  log "target $target"
  start_target "$target"
  answer_bytes="$(wc -c <"$RAW/probe.json")"
  wrk_run "$MAX_C" "$WARMUP" "$T_URL" "$T_BODY" "$RAW/$target.warmup.txt"
  for c in $CONCURRENCY; do
    sleep 1
    curl -s -X POST "$CONTROL_URL/__reset_peak" >/dev/null
    conns0="$(stat_field accepted)"
    read -r user0 sys0 < <(cpu_ticks "$T_PID")
    ctx0="$(ctx_switches "$T_PID")"
    wrk_run "$c" "$DURATION" "$T_URL" "$T_BODY" "$RAW/$target.c$c.txt"
    read -r user1 sys1 < <(cpu_ticks "$T_PID")
    ctx1="$(ctx_switches "$T_PID")"
    conns1="$(stat_field accepted)"
    peak="$(stat_field peak_open)"
    hwm="$(hwm_kib "$T_PID")"
    out="$RAW/$target.c$c.txt"
    n="$(result_field "$out" requests)"
    us="$(result_field "$out" duration_us)"
    errors=$(($(result_field "$out" err_connect) + $(result_field "$out" err_read) + $(result_field "$out" err_write) + $(result_field "$out" err_status) + $(result_field "$out" err_timeout)))
    # The direct run's upstream connections are wrk's own.
    awk -v t="$target" -v c="$c" -v n="$n" -v us="$us" -v p50="$(result_field "$out" p50_us)" \
      -v p99="$(result_field "$out" p99_us)" -v ticks=$((user1 + sys1 - user0 - sys0)) -v hz="$CLK_TCK" -v hwm="$hwm" \
      -v conns=$((conns1 - conns0)) -v peak="$peak" -v err="$errors" -v bytes="$answer_bytes" \
      -v uticks=$((user1 - user0)) -v sticks=$((sys1 - sys0)) -v ctx=$((ctx1 - ctx0)) \
      'BEGIN { s = us / 1e6; k = (n > 0 ? 1000 / hz / n : 0)
               printf "%s\t%d\t%d\t%.2f\t%.0f\t%d\t%d\t%.4f\t%d\t%d\t%d\t%d\t%d\t%.4f\t%.4f\t%.3f\n",
               t, c, n, s, n / s, p50, p99, ticks * k, hwm, conns, peak, err, bytes, uticks * k, sticks * k,
               (n > 0 ? ctx / n : 0) }' >>"$TSV"
    log "  c=$c: $(tail -1 "$TSV" | cut -f3-12)"
  done
  stop_target "$target"
done

# --- Connection reuse through the quickstart -----------------------------------------------------
REUSE_LINE=""
if [[ "$REUSE_REQUESTS" -gt 0 ]] && want quickstart; then
  log "connection reuse: $REUSE_REQUESTS requests at concurrency 64 through the quickstart"
  start_target quickstart
  curl -s -X POST "$CONTROL_URL/__reset_peak" >/dev/null
  conns0="$(stat_field accepted)"
  reqs0="$(stat_field requests)"
  BODY="$CURRENT_BODY" "${ON_LOAD[@]}" wrk -t2 -c64 -d600s --timeout 10s -s "$HERE/request.lua" "$T_URL" \
    >"$RAW/reuse.txt" 2>&1 &
  WRK_PID=$!
  while kill -0 "$WRK_PID" 2>/dev/null; do
    if (($(stat_field requests) - reqs0 >= REUSE_REQUESTS)); then kill -INT "$WRK_PID"; break; fi
    sleep 0.1
  done
  wait "$WRK_PID" || true
  conns1="$(stat_field accepted)"
  reqs1="$(stat_field requests)"
  peak="$(stat_field peak_open)"
  stop_target quickstart
  # The readiness probe's request went through before the count started; wrk's own requests are
  # the only ones in the window.
  REUSE_LINE="$(printf 'reuse\t%d\t%d\t%d\t%d' "$(result_field "$RAW/reuse.txt" requests)" \
    $((reqs1 - reqs0)) $((conns1 - conns0)) "$peak")"
  log "  $(tr '\t' ' ' <<<"$REUSE_LINE")"
fi
printf '%s\n' "$REUSE_LINE" >"$RAW/reuse.tsv"

# --- Report --------------------------------------------------------------------------------------
mkdir -p "$(dirname "$RESULTS")"
python3 "$HERE/report.py" "$TSV" "$RAW/reuse.tsv" \
  --date "$(date)" --machine "$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -r)" \
  --command "DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=\"$CONCURRENCY\" REUSE_REQUESTS=$REUSE_REQUESTS PIN=$PIN LOADGEN=$LOADGEN bash benches/load/run.sh" \
  --loadgen "$LOADGEN" \
  | tee "$RESULTS"
log "table written to $RESULTS; raw data in $RAW"
