#!/usr/bin/env bash
# Writes contract/abi/ITaskContract.sol from the contract's export-abi build (the same output as
# `cargo stylus export-abi` in contract/). With --check, fails if the checked-in file is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
out=contract/abi/ITaskContract.sol
generated=$(cargo run --quiet -p task-contract --features export-abi --bin task-contract-abi)
if [ "${1:-}" = "--check" ]; then
  if [ "$generated" != "$(cat "$out")" ]; then
    echo "$out is stale: run scripts/export-abi.sh" >&2
    diff <(echo "$generated") "$out" >&2 || true
    exit 1
  fi
  echo "$out is up to date"
else
  printf '%s\n' "$generated" > "$out"
  echo "wrote $out"
fi
