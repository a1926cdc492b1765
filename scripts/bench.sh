#!/usr/bin/env bash
# The benchmark report, from one run: gas per protocol call side by side with the original Solidity
# contracts (on the devnet with the real contract WASM), program sizes against Stylus's limit, the
# worker's overhead per task, pHash throughput and devnet transactions per second. Prints one
# Markdown table and writes target/bench/report.json. Extra arguments go to `bench` (--help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
cargo build --quiet --profile dist -p bench -p node-worker
exec target/dist/bench --node-worker target/dist/node-worker --json target/bench/report.json "$@"
