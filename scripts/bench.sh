#!/usr/bin/env bash
# The benchmark report, from one run: gas per protocol call side by side with the original Solidity
# contracts (on the devnet with the real contract WASM), program sizes against Stylus's limit, the
# worker's overhead per task, pHash throughput, devnet transactions per second, and the relay's
# throughput and memory on both storage backends. Prints one
# Markdown table and writes target/bench/report.json. Extra arguments go to `bench` (--help).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
cargo build --quiet --profile dist -p bench -p node-worker -p relay
# The relay is measured on SQLite + files and on PostgreSQL + S3 (servers started here).
servers=$(mktemp -d)
trap 'scripts/relay-servers.sh stop "$servers"' EXIT
scripts/relay-servers.sh start "$servers" >/dev/null
source "$servers/env"
RELAY_BENCH_DATABASE_URL=$RELAY_TEST_DATABASE_URL RELAY_BENCH_BLOB_STORE=$RELAY_TEST_BLOB_STORE/bench \
  target/dist/bench --node-worker target/dist/node-worker --relay target/dist/relay \
  --json target/bench/report.json "$@"
