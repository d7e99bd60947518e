#!/usr/bin/env python3
"""Fails when a normal (or build) dependency in the locked graph declares a newer `rust-version` than ours.

Reads `cargo metadata` (every public feature, the committed lockfile) and walks the graph from this package along
normal and build edges only: dev-dependencies do not reach users.
"""

import json
import subprocess
import sys


def version(v):
    return tuple(int(x) for x in v.split(".")) + (0,) * (3 - len(v.split(".")))


def main() -> int:
    meta = json.loads(
        subprocess.run(
            # Every public feature; `__dev` only serves this repository's own tests.
            ["cargo", "metadata", "--format-version", "1", "--locked",
             "--features", "rustls,native-tls,blocking,offline"],
            capture_output=True,
            check=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    ours = packages[root]["rust_version"]
    if not ours:
        print("the crate declares no rust-version", file=sys.stderr)
        return 1
    seen, stack, bad = {root}, [root], []
    while stack:
        node = nodes[stack.pop()]
        for dep in node["deps"]:
            if not any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
                continue
            if dep["pkg"] in seen:
                continue
            seen.add(dep["pkg"])
            stack.append(dep["pkg"])
            pkg = packages[dep["pkg"]]
            if pkg["rust_version"] and version(pkg["rust_version"]) > version(ours):
                bad.append(f"{pkg['name']} {pkg['version']} needs Rust {pkg['rust_version']}")
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print(f"the crate declares rust-version {ours}, but the lockfile needs more", file=sys.stderr)
        return 1
    print(f"all {len(seen) - 1} normal dependencies build with Rust {ours}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
