#!/usr/bin/env python3
"""Fails when two modules of `src/` import each other (directly), other than a module and its own
ancestor. An edge is any `crate::`, `super::` or `self::` path in code (comments and `#[cfg(test)]`
test modules are left out, as are paths inside doc links)."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib"):
        rel = rel[:-1]
    return tuple(rel)


def strip(text):
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))
    return re.split(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)[0]


modules = {}
for root, _, files in os.walk(ROOT):
    for f in files:
        if f.endswith(".rs"):
            p = os.path.join(root, f)
            with open(p, encoding="utf-8") as fh:
                modules[module_of(p)] = strip(fh.read())


def resolve(start, parts):
    """The deepest known module named by a path of segments from `start`."""
    best = None
    cur = list(start)
    for seg in parts:
        cur.append(seg)
        if tuple(cur) in modules:
            best = tuple(cur)
        else:
            break
    return best


PATH = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
# A path that starts at a module brought in by `use` (`routes::current::handle` after `use crate::routes`).
BARE = re.compile(r"(?<![:\w])([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)::[A-Za-z_]")
USE_GROUP = re.compile(r"\b(crate|super|self)((?:::[a-z_][a-z0-9_]*)*)::\{([^;]*?)\};", re.S)

edges = {}
for mod, text in modules.items():
    paths = PATH.findall(text)
    for head, prefix, inner in USE_GROUP.findall(text):
        for item in re.split(r"[,{}]", inner):
            item = item.strip().split(" ")[0]
            if item and item != "self":
                paths.append(f"{head}{prefix}::{item}")
    for p in paths:
        segs = p.split("::")
        base = []
        if segs[0] == "crate":
            base = []
        elif segs[0] == "self":
            base = list(mod)
        else:
            base = list(mod)
            while segs and segs[0] == "super":
                base = base[:-1]
                segs = segs[1:]
            segs = ["super"] + segs
        target = resolve(base, segs[1:]) or tuple(base)
        if target != mod:
            edges.setdefault(mod, set()).add(target)
    for p in BARE.findall(text):
        segs = p.split("::")
        if segs[0] in ("crate", "super", "self"):
            continue
        target = resolve(mod, segs) or resolve((), segs)
        if target and target != mod:
            edges.setdefault(mod, set()).add(target)


def ancestor(a, b):
    return len(a) < len(b) and b[: len(a)] == a


# Two modules import each other when, below their closest common ancestor, the branch holding one
# reaches into the branch holding the other and back (`a::x` uses `b::y` and `b::z` uses `a`).
sibling_edges = set()
for a, targets in edges.items():
    for b in targets:
        if a == b or ancestor(a, b) or ancestor(b, a):
            continue
        n = 0
        while a[n] == b[n]:
            n += 1
        sibling_edges.add((a[: n + 1], b[: n + 1]))

bad = sorted({tuple(sorted(e)) for e in sibling_edges if (e[1], e[0]) in sibling_edges})
for a, b in bad:
    print(f"{'::'.join(a)} and {'::'.join(b)} import each other")
if bad:
    sys.exit(1)
print(f"module graph: {len(modules)} modules, no two import each other")
