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
cargo test --workspace
scripts/export-abi.sh --check
# Size of the programs: printed figures (the script exits non-zero when a program is over the limit).
scripts/contract-size.sh || echo "WARNING: a program is over the Stylus size limit (see the README, \"Contract size\")" >&2
