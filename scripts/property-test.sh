#!/usr/bin/env bash
# The long run of the contract's property test (random call sequences of every protocol action,
# invariants checked after each; contract_harness::invariants): CASES sequences (default 10,000)
# on the native harness chain, then CASES / 50 on the devnet's real WASM. The test command runs
# the short version (64 harness, 24 test-VM and 12 devnet cases). Optimised builds; measured on 2
# cores: 10,000 harness cases in 137 s and 200 devnet cases in 108 s, 12 min with the builds.
#   scripts/property-test.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
cases=${1:-10000}
case "$cases" in '' | *[!0-9]*) echo "usage: scripts/property-test.sh [CASES]" >&2; exit 2 ;; esac
echo "property test: $cases cases on the harness chain"
INVARIANT_CASES=$cases cargo test --profile dist -p contract-harness --test invariants -- \
  ether_is_never_stuck_and_nodes_hold_live_tasks
devnet_cases=$(( cases / 50 > 0 ? cases / 50 : 1 ))
echo "property test: $devnet_cases cases on the devnet's real WASM"
DEVNET_INVARIANT_CASES=$devnet_cases cargo test --profile dist -p devnet --test invariants_on_devnet -- \
  ether_is_never_stuck_on_the_real_wasm
