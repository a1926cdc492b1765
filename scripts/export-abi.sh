#!/usr/bin/env bash
# Writes the task contract's Solidity interface (contract/abi/ITaskContract.sol, the output of
# `cargo stylus export-abi` in contract/) and its JSON ABI (contract/abi/ITaskContract.json, from
# the bindings every crate builds from that interface). With --check, fails if either checked-in
# file is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
sol=contract/abi/ITaskContract.sol
json=contract/abi/ITaskContract.json
generated_sol=$(cargo run --quiet -p task-contract --features export-abi --bin task-contract-abi)
stale() {
  echo "$1 is stale: run scripts/export-abi.sh" >&2
  diff <(echo "$2") "$1" >&2 || true
  exit 1
}
if [ "${1:-}" = "--check" ]; then
  [ "$generated_sol" = "$(cat "$sol")" ] || stale "$sol" "$generated_sol"
else
  printf '%s\n' "$generated_sol" > "$sol"
  echo "wrote $sol"
fi
# Built with the workspace's feature set, so that this reuses the test build instead of
# rebuilding alloy with other features.
cargo build --quiet --workspace --bin taskctl
generated_json=$("${CARGO_TARGET_DIR:-target}/debug/taskctl" contract abi)
if [ "${1:-}" = "--check" ]; then
  [ "$generated_json" = "$(cat "$json")" ] || stale "$json" "$generated_json"
  echo "$sol and $json are up to date"
else
  printf '%s\n' "$generated_json" > "$json"
  echo "wrote $json"
fi
