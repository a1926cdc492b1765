#!/usr/bin/env bash
# Builds the release WASM of the Stylus programs exactly as `cargo stylus` does (release profile,
# wasm32 flags of .cargo/config.toml) and prints raw and brotli-compressed sizes against Stylus's
# 24 KiB limit on deployed code (4-byte prefix + brotli, quality 11, window 22).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
command -v brotli >/dev/null || { echo "brotli is missing: sudo apt-get install -y brotli" >&2; exit 1; }
cargo build --quiet --release --target wasm32-unknown-unknown -p task-contract -p vrf-verifier
# The extension is the task-contract library with its `extension` feature: a cargo command of its
# own, since features unify within one.
cargo build --quiet --release --target wasm32-unknown-unknown -p task-contract-extension
limit=24576
status=0
for name in task_contract task_contract_extension vrf_verifier; do
  wasm="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/$name.wasm"
  raw=$(stat -c %s "$wasm")
  br=$(brotli -q 11 -w 22 -c "$wasm" | wc -c)
  deployed=$((br + 4))
  verdict=ok
  if [ "$deployed" -gt "$limit" ]; then verdict="OVER the limit by $((deployed - limit)) bytes"; status=1; fi
  printf '%-24s raw %7d B   brotli %6d B   deployed %6d B of %d (%s)\n' "$name" "$raw" "$br" "$deployed" "$limit" "$verdict"
done
exit $status
