#!/usr/bin/env python3
"""Fails when a tracked file refers to a path outside the repository.

A user's clone has nothing beside it, so every relative path a file names (dot-dot, slash, name) must
resolve, from the file's own folder, to something that exists inside the repository; absolute paths of
this workplace (under the work, root or home folders) are refused outright.
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Data that names no paths of ours, and lockfiles (registry URLs only).
SKIP = re.compile(r"(^|/)(package-lock\.json|Cargo\.lock)$|^spec/|^LICENSE-")
RELATIVE = re.compile(r"(?<![\w/.~-])((?:\.\./)+)([\w.-]*)")
FORBIDDEN = re.compile(r"(?<![\w.-])/(?:work|root|home)/[\w.-]+")


def main() -> int:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode().split("\0")
    bad = []
    for rel in filter(None, files):
        if SKIP.search(rel):
            continue
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        here = os.path.dirname(os.path.join(ROOT, rel))
        for n, line in enumerate(text.splitlines(), 1):
            for m in FORBIDDEN.finditer(line):
                bad.append(f"{rel}:{n}: names {m.group(0)!r}, outside the repository")
            for m in RELATIVE.finditer(line):
                target = os.path.normpath(os.path.join(here, m.group(1), m.group(2)))
                if os.path.commonpath([ROOT, target]) != ROOT:
                    bad.append(f"{rel}:{n}: {m.group(0)!r} resolves outside the repository")
                elif not os.path.exists(target):
                    bad.append(f"{rel}:{n}: {m.group(0)!r} names nothing in the repository")
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print(f"{len(bad)} reference(s) to paths outside the repository", file=sys.stderr)
        return 1
    print("every path a tracked file names lies inside the repository", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
