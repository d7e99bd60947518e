"""Turns the raw results of benches/load/run.sh into the Markdown report: the table, the ratios against
the pass-through measured in the same run, the connection-reuse count and issue 7's targets.

    python3 report.py results.tsv reuse.tsv --date ... --machine ... --command ...

Standard library only.
"""

import argparse
import csv

TARGET_NAMES = {
    "upstream": "fake upstream, direct",
    "passthrough": "pass-through hyper proxy",
    "quickstart": "autumn quickstart (this crate)",
    "ladder-client": "ladder (b): pass-through through the crate's Client",
    "ladder-copy": "ladder (c): AutumnService, copying conversion",
    "ladder-service": "ladder (d): AutumnService, bare hyper",
    "ladder-router": "ladder (dr): AutumnService in axum's Router, bare hyper",
    "ladder-axum": "ladder (d'): AutumnService in axum, axum::serve",
    "node": "autumn-js 1.3.13, hono, Node",
    "python": "autumn-py 3.1.9 AutumnASGI, uvicorn",
    "quickstart-legacy": "autumn quickstart, legacy `customers`",
}
ROUTES = {
    "upstream": "getOrCreateCustomer",
    "passthrough": "getOrCreateCustomer",
    "quickstart": "getOrCreateCustomer",
    "ladder-client": "getOrCreateCustomer",
    "ladder-copy": "getOrCreateCustomer",
    "ladder-service": "getOrCreateCustomer",
    "ladder-router": "getOrCreateCustomer",
    "ladder-axum": "getOrCreateCustomer",
    "node": "getOrCreateCustomer",
    "python": "customers/ (v1.2)",
    "quickstart-legacy": "customers (v1.2)",
}
# The pool settings of src/transport/hyper.rs (HttpConfig::default()).
POOL_MAX_IDLE = 256


def fmt_us(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us} µs"


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("reuse")
    ap.add_argument("--date", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--loadgen", default="wrk")
    args = ap.parse_args()

    rows = []
    with open(args.results, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            for k in ("concurrency", "requests", "p50_us", "p99_us", "hwm_kib", "upstream_conns",
                      "upstream_peak_open", "errors", "answer_bytes"):
                r[k] = int(r[k])
            for k in ("seconds", "req_per_s", "cpu_s_per_1k"):
                r[k] = float(r[k])
            rows.append(r)
    by = {(r["target"], r["concurrency"]): r for r in rows}
    targets = list(dict.fromkeys(r["target"] for r in rows))
    levels = sorted({r["concurrency"] for r in rows})

    out = []
    w = out.append
    w("# Load comparison (issue 7)")
    w("")
    w(f"- date: {args.date}")
    w(f"- machine: {args.machine}; shared with other builds, so absolute numbers are noisy and the")
    w("  ratios within this run are what count")
    w(f"- command: `{args.command}`")
    w(f"- load generator: {args.loadgen}, POST with identity headers (`x-customer-id`, `x-customer-name`,")
    w("  `x-customer-email`); upstream: benches/load/upstream.rs answering a 4.7 KB customer (2.x) or")
    w("  a 3.9 KB customer (v1.2)")
    w("- CPU: utime + stime (+ children) of the server process from /proc/PID/stat over the run;")
    w("  RSS: VmHWM (peak since start, so it includes the warm-up and the lower concurrencies)")
    w("")
    w("| server | route | conc. | req/s | p50 | p99 | CPU s / 1k req | peak RSS | upstream conns opened (peak open) | errors | answer |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t in targets:
        for c in levels:
            r = by.get((t, c))
            if not r:
                continue
            if t == "upstream":
                conns = "(wrk's own)"
            else:
                conns = f"{r['upstream_conns']} ({r['upstream_peak_open']})"
            w(f"| {TARGET_NAMES.get(t, t)} | {ROUTES.get(t, '')} | {c} | {r['req_per_s']:,.0f} | "
              f"{fmt_us(r['p50_us'])} | {fmt_us(r['p99_us'])} | {r['cpu_s_per_1k']:.3f} | "
              f"{r['hwm_kib'] / 1024:.1f} MiB | {conns} | {r['errors']} | {r['answer_bytes']:,} B |")
    w("")

    if "passthrough" in targets:
        w("Against the pass-through, same run (req/s: higher is better; CPU and p99: lower is better):")
        w("")
        w("| server | conc. | req/s ÷ pass-through | CPU per request ÷ pass-through | p99 ÷ pass-through |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for t in targets:
            if t in ("passthrough", "upstream"):
                continue
            for c in levels:
                r, p = by.get((t, c)), by.get(("passthrough", c))
                if not r or not p:
                    continue
                w(f"| {TARGET_NAMES.get(t, t)} | {c} | {ratio(r['req_per_s'], p['req_per_s']):.2f}x | "
                  f"{ratio(r['cpu_s_per_1k'], p['cpu_s_per_1k']):.2f}x | {ratio(r['p99_us'], p['p99_us']):.2f}x |")
        w("")

    reuse = open(args.reuse).read().strip()
    if reuse:
        _, wrk_requests, upstream_requests, conns, peak = reuse.split("\t")
        w("Connection reuse through the quickstart, concurrency 64:")
        w("")
        verdict = "within" if int(conns) <= 64 else "**more than**"
        w(f"- {int(upstream_requests):,} upstream requests ({int(wrk_requests):,} answered to wrk) opened "
          f"**{conns}** upstream TCP connections, {verdict} the 64 that the requests in flight can hold; "
          f"at most **{peak}** were open at once.")
        w(f"- The pool (src/transport/hyper.rs, hyper-util's legacy client) has no cap on open connections: "
          f"a request takes an idle one or opens a new one, so the requests in flight (64 here) bound them. "
          f"It keeps at most {POOL_MAX_IDLE} idle per host (`pool_max_idle_per_host`) for 20 s; a connection "
          f"that comes back to a full pool is closed.")
        w("")

    # Issue 7's targets, at the highest concurrency measured.
    c = max(levels)
    q = by.get(("quickstart", c))
    if q:
        checks = []
        p = by.get(("passthrough", c))
        if p:
            x = ratio(q["cpu_s_per_1k"], p["cpu_s_per_1k"])
            checks.append((f"CPU per 1k requests <= 1.5x the pass-through's (c={c})", f"{x:.2f}x", x <= 1.5))
            x = ratio(q["req_per_s"], p["req_per_s"])
            checks.append((f"req/s >= 0.7x the pass-through's (c={c})", f"{x:.2f}x", x >= 0.7))
        for t, need, label in (("node", 40, "autumn-js"), ("python", 25, "the Python SDK")):
            o = by.get((t, c))
            if not o:
                continue
            x = ratio(q["req_per_s"], o["req_per_s"])
            checks.append((f"req/s >= {need}x {label}'s (c={c})", f"{x:.1f}x", x >= need))
            checks.append((f"p99 lower than {label}'s (c={c})",
                           f"{fmt_us(q['p99_us'])} vs {fmt_us(o['p99_us'])}", q["p99_us"] < o["p99_us"]))
            ql = by.get(("quickstart-legacy", c))
            if t == "python" and ql:
                x = ratio(ql["req_per_s"], o["req_per_s"])
                checks.append((f"same route: legacy quickstart req/s >= 25x the Python SDK's (c={c})",
                               f"{x:.1f}x", x >= 25))
        q1, u1 = by.get(("quickstart", 1)), by.get(("upstream", 1))
        if q1 and u1:
            added = q1["p50_us"] - u1["p50_us"]
            checks.append(("added p50 latency over the upstream alone < 100 µs (c=1)",
                           f"{added} µs ({q1['p50_us']} - {u1['p50_us']})", added < 100))
        checks.append((f"peak RSS < 20 MiB (c={c})", f"{q['hwm_kib'] / 1024:.1f} MiB", q["hwm_kib"] < 20 * 1024))
        w("Issue 7's targets (the quickstart):")
        w("")
        if p:
            scale = [f"{ratio(p['req_per_s'], by[(t, c)]['req_per_s']):.1f}x {label}'s"
                     for t, label in (("node", "autumn-js"), ("python", "the Python SDK"))
                     if (t, c) in by]
            if scale:
                w(f"For scale: at c={c} the pass-through itself, the most any server in this position can do "
                  f"here, reaches {' and '.join(scale)} req/s.")
                w("")
        w("| target | measured | met |")
        w("| --- | --- | --- |")
        for name, value, ok in checks:
            w(f"| {name} | {value} | {'yes' if ok else '**no**'} |")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
