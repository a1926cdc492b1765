#!/usr/bin/env bash
# The project's test command: installs what it needs, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v brotli >/dev/null; then
  if command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq brotli
fi
cargo fmt --all --check
cargo clippy --quiet --workspace --all-targets -- -D warnings
# The program as deployed (no_std, own entry point) and the ABI export build are other cfgs.
cargo clippy --quiet -p task-contract --release --target wasm32-unknown-unknown -- -D warnings
cargo clippy --quiet -p task-contract --features export-abi -- -D warnings
cargo test --workspace
scripts/export-abi.sh --check
# Size of the programs against Stylus's 24 KiB limit (fails when one is over).
scripts/contract-size.sh
