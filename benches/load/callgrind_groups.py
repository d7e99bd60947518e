#!/usr/bin/env python3
"""Where the instructions of each ladder rung go, grouped by the library their function belongs to.

Reads callgrind dumps written by `ladder.sh` (the `callgrind.<rung>.<pid>.1` files of one run: counters
zeroed after the warm-up, dumped after CG_REQUESTS requests) and prints a Markdown table of self cost
(instructions spent in a function's own code, not its callees) per request, one column per dump, and the
difference between the last and the first column; then a second table of calls per request to the
scheduler's and the allocator's entry points (the work a request makes the runtime do, which instruction
counts alone hide: a task woken while it runs is queued again and may wake the other worker); then a third
table of `malloc` and `realloc` calls per request by the library that asked for them. Callgrind records
callers, not call stacks, so an allocation made inside shared plumbing (`Vec`, `Bytes`, header maps) is
split among the plumbing's callers in proportion to their calls: each column's total is exact, its split
an estimate.

    python3 benches/load/callgrind_groups.py 2000 \
        results/ladder-*/callgrind.passthrough.*.1 results/ladder-*/callgrind.quickstart.*.1

The first argument is the number of requests in the dump (CG_REQUESTS). A function counts in the first
group whose pattern matches its name (generic
parameters included, so a generic function lands with the first library its name mentions); what no pattern matches is in the last row.
"""

import collections
import re
import sys

GROUPS = [
    ("the response conversion (`schema::stream`)", r"schema::stream"),
    ("the crate, the rest (and the example's identify hook)", r"autumn_tower|quickstart::|ladder::"),
    ("glibc malloc/free", r"^(malloc|free|realloc|_int_\w+|unlink_chunk.*|malloc_consolidate|__rustc::__r\w+)$"),
    ("memcpy/memcmp/memchr", r"^__mem|memchr"),
    ("tower-http (CORS)", r"tower_http"),
    ("axum + matchit", r"axum|matchit"),
    ("tower", r"tower::|tower_service"),
    ("tracing", r"tracing"),
    ("hyper-util (client pool, server auto)", r"hyper_util::"),
    ("hyper", r"hyper::"),
    ("tokio", r"tokio"),
    ("serde_json", r"serde"),
    ("http (header maps, URIs, extensions)", r"http::"),
    ("hashing", r"hash"),
    ("bytes", r"bytes::"),
]

# Calls per request to these functions (a function's calls summed over its callers).
CALLS = [
    ("tasks woken while running (tokio's `yield_now` on the scheduler)", r"task::Schedule.*>::yield_now$"),
    ("idle workers unparked", r"multi_thread::park::Unparker::unpark$"),
    ("eventfd writes waking the I/O driver (`mio::Waker::wake`)", r"^mio::waker::Waker::wake$"),
    ("`epoll_wait`", r"^epoll_wait$"),
    ("`malloc`", r"^malloc$"),
    ("`realloc`", r"^realloc$"),
]


# Functions that only pass an allocation on (the allocator's entry points, `Vec`, `Box`, `Bytes`, header
# maps, hash tables, `core` helpers): an allocation made inside them is charged to whoever called them.
PLUMBING = re.compile(
    r"^(malloc|realloc|__rustc::|<?alloc::|<?core::|<?bytes::|<?hashbrown|<?http::header::map|"
    r"http::extensions|<http::header::value::HeaderValue as core::convert::From|"
    r"http::header::name::HeaderName::from_bytes)"
)


def allocation_owners(edges):
    """`malloc` and `realloc` calls charged to the first caller outside the plumbing: each plumbing
    function's calls are shared among its callers in proportion to how often each called it."""
    callers = collections.defaultdict(collections.Counter)
    for (caller, callee), n in edges.items():
        if caller != callee:
            callers[callee][caller] += n
    owners = collections.Counter()

    def charge(fn, amount, depth):
        if depth > 40 or not PLUMBING.search(fn) or not callers[fn]:
            owners[fn] += amount
            return
        total = sum(callers[fn].values())
        for caller, n in callers[fn].items():
            charge(caller, amount * n / total, depth + 1)

    for entry in ("malloc", "realloc"):
        charge(entry, sum(callers[entry].values()), 0)
    return owners


def self_costs(path):
    """Self cost per function name (cost lines not directly after a `calls=` line), and calls per
    (caller, callee) edge."""
    names = {}
    costs = collections.Counter()
    edges = collections.Counter()
    fn = None
    callee = None
    after_call = False

    def name(spec):
        m = re.match(r"\((\d+)\)(?: (.*))?", spec)
        if not m:
            return spec
        i, text = m.groups()
        if text:
            names[i] = text
        return names.get(i, "?" + i)

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                fn = name(line[3:])
                after_call = False
            elif line.startswith("cfn="):
                callee = name(line[4:])
            elif line.startswith("calls="):
                after_call = True
                edges[(fn, callee)] += int(line[6:].split()[0])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) < 2:
                    continue
                if after_call:
                    after_call = False
                else:
                    costs[fn] += int(parts[-1])
    return costs, edges


def main():
    requests = int(sys.argv[1])
    parsed = [self_costs(p) for p in sys.argv[2:]]
    dumps = [costs for costs, _ in parsed]
    patterns = [(label, re.compile(p)) for label, p in GROUPS]

    def group(fn):
        for label, p in patterns:
            if p.search(fn):
                return label
        return "everything else (core, alloc, std, libc)"

    labels = [label for label, _ in GROUPS] + ["everything else (core, alloc, std, libc)"]
    sums = [collections.Counter() for _ in dumps]
    for d, s in zip(dumps, sums):
        for fn, c in d.items():
            s[group(fn)] += c
    # `callgrind.<rung>.<pid>.1` is headed by its rung.
    heads = " | ".join(
        re.sub(r"^callgrind\.(.+)\.\d+\.1$", r"\1", p.split("/")[-1]) for p in sys.argv[2:]
    )
    print(f"| group | {heads} | last - first |")
    print("| --- |" + " ---: |" * (len(dumps) + 1))
    for label in labels + ["total"]:
        vals = [sum(s.values()) / requests if label == "total" else s[label] / requests for s in sums]
        cells = " | ".join(f"{v:,.0f}" for v in vals)
        print(f"| {label} | {cells} | {vals[-1] - vals[0]:+,.0f} |")

    print()
    print(f"| calls per request | {heads} | last - first |")
    print("| --- |" + " ---: |" * (len(dumps) + 1))
    for label, pattern in CALLS:
        p = re.compile(pattern)
        vals = [sum(n for (_, f), n in edges.items() if p.search(f)) / requests for _, edges in parsed]
        cells = " | ".join(f"{v:.2f}" for v in vals)
        print(f"| {label} | {cells} | {vals[-1] - vals[0]:+.2f} |")

    print()
    print(f"| `malloc` + `realloc` per request, by who asked | {heads} | last - first |")
    print("| --- |" + " ---: |" * (len(dumps) + 1))
    owned = []
    for _, edges in parsed:
        by_group = collections.Counter()
        for fn, n in allocation_owners(edges).items():
            by_group[group(fn)] += n
        owned.append(by_group)
    for label in labels + ["total"]:
        vals = [sum(o.values()) / requests if label == "total" else o[label] / requests for o in owned]
        if label != "total" and max(vals) < 0.005:
            continue
        cells = " | ".join(f"{v:.2f}" for v in vals)
        print(f"| {label} | {cells} | {vals[-1] - vals[0]:+.2f} |")


if __name__ == "__main__":
    main()
