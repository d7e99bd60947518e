#!/usr/bin/env bash
# The published package holds the library, its docs and licences, and nothing of the test suites;
# `cargo publish --dry-run` builds it from the packaged files alone.
set -euo pipefail
cd "$(dirname "$0")/.."
list=$(cargo package --locked --list --allow-dirty)
echo "$list"
for need in Cargo.toml README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE src/lib.rs src/offline/default_catalog.json; do
  grep -qx "$need" <<<"$list" || { echo "the package lacks $need" >&2; exit 1; }
done
if grep -E '^(tests|fuzz|benches|spec|tools|examples|\.ci)/|node_modules|captures' <<<"$list"; then
  echo "the package ships files a user does not need (above)" >&2
  exit 1
fi
cargo publish --locked --dry-run --allow-dirty
