#!/usr/bin/env bash
# Regenerates every generated file from the specs in spec/, in the order they depend on each other:
#
#   bash tools/regenerate.sh           # after copying a new spec into spec/
#   bash tools/regenerate.sh --check   # fails when a generated file is not what the tools would write (CI)
#
# spec_json.py: spec/autumn-api-2.x.json (the copy the tests read); gen_models.py: src/models/generated.rs;
# gen_ops.py: the operation table, every client method (async and blocking) and the tests' case list;
# gen_schema.py: the conversion tables and `Op` for the operations the browser routes call. The tools need
# Python 3.11, PyYAML and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in spec_json gen_models gen_ops gen_schema; do
  python3 "tools/$tool.py" "$@"
done
