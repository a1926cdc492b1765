#!/usr/bin/env bash
# Deploys the network's two Stylus programs with cargo-stylus (the VRF verifier, then the task
# contract), initialises the task contract, and writes the deployment where the node worker, the
# relay and taskctl read it. Arbitrum Sepolia by default; the same flow serves the local devnet.
#
# Environment:
#   PRIVATE_KEY_FILE      file holding the deployer's private key (hex)   } one of the two
#   PRIVATE_KEY           the key itself (hex; kept out of the process list) } is required
#   RPC_URL               default https://sepolia-rollup.arbitrum.io/rpc (chain id 421614)
#   RELAY_ADDRESS         the relay's account          (default: the deployer)
#   TREASURY_ADDRESS      where slashed stakes go      (default: the deployer)
#   MIN_STAKE             wei, or ether as 0.01eth      (default 0.01eth)
#   TASK_TIMEOUT          seconds                       (default 600)
#   DISTANCE_THRESHOLD    pHash distance                (default 24)
#   QUEUE_SIZE            queued tasks at most          (default 64)
#   MAX_FEE_PER_GAS_GWEI  optional fee cap for the deployment transactions
#   DEPLOYMENT_DIR        output folder                 (default deployments/<chain id>)
#
# Output in DEPLOYMENT_DIR: deployment.json (addresses, settings, transactions), deployment.env
# (NODE_WORKER_*, RELAY_*, TASKCTL_* variables: `set -a; . DIR/deployment.env; set +a`), and the
# ABI (ITaskContract.sol, ITaskContract.json).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
root=$(pwd)
stylus_version=0.10.10
rpc_url=${RPC_URL:-https://sepolia-rollup.arbitrum.io/rpc}

step() { printf '\n== %s\n' "$*"; }
fail() { echo "deploy.sh: $*" >&2; exit 1; }

# The key goes to cargo-stylus and taskctl as a file (never on a command line).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${PRIVATE_KEY_FILE:-}" ]; then
  [ -r "$PRIVATE_KEY_FILE" ] || fail "PRIVATE_KEY_FILE $PRIVATE_KEY_FILE cannot be read"
  key_file=$(realpath "$PRIVATE_KEY_FILE")
elif [ -n "${PRIVATE_KEY:-}" ]; then
  key_file="$work/key"
  (umask 077 && printf '%s\n' "$PRIVATE_KEY" > "$key_file")
else
  fail "set PRIVATE_KEY_FILE (or PRIVATE_KEY) to the deployer's key; see the README's Deployment section"
fi

step "cargo-stylus $stylus_version"
if ! cargo stylus --version 2>/dev/null | grep -q "stylus $stylus_version"; then
  echo "installing cargo-stylus $stylus_version (a few minutes, once)"
  cargo install --quiet --locked cargo-stylus --version "$stylus_version"
fi
cargo stylus --version

step "taskctl (initialises the contract)"
cargo build --quiet --workspace --bin taskctl
taskctl="${CARGO_TARGET_DIR:-$root/target}/debug/taskctl"
chain_id=$("$taskctl" contract chain-id --rpc-url "$rpc_url") || fail "cannot reach $rpc_url"
echo "endpoint $rpc_url, chain id $chain_id"
out=${DEPLOYMENT_DIR:-deployments/$chain_id}

step "build and size"
scripts/contract-size.sh

# Runs cargo-stylus in the contract's folder (it builds the package of the current directory).
stylus() {
  local dir=$1
  shift
  (cd "$root/$dir" && cargo stylus "$@" --endpoint "$rpc_url")
}
fee_args=()
if [ -n "${MAX_FEE_PER_GAS_GWEI:-}" ]; then fee_args=(--max-fee-per-gas-gwei "$MAX_FEE_PER_GAS_GWEI"); fi

deploy() {
  local dir=$1 package=$2 log="$work/$2.log"
  step "check $package"
  stylus "$dir" check --contract "$package"
  step "deploy $package"
  # --no-verify: build here rather than in cargo-stylus's reproducible Docker image.
  if ! stylus "$dir" deploy --contract "$package" --no-verify --private-key-path "$key_file" \
    "${fee_args[@]}" 2>&1 | tee "$log"; then
    fail "cargo stylus deploy of $package failed"
  fi
  address=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'deployed code at address: 0x[0-9a-fA-F]*' \
    | grep -oE '0x[0-9a-fA-F]{40}' | tail -1)
  [ -n "$address" ] || fail "no address in cargo-stylus's output for $package"
  grep -q 'successfully activated\|already activated' <(sed 's/\x1b\[[0-9;]*m//g' "$log") \
    || fail "$package at $address was deployed but not activated"
}
deploy vrf-verifier vrf-verifier
verifier=$address
deploy contract task-contract
contract=$address

step "initialize"
init_args=(--rpc-url "$rpc_url" --contract "$contract" --private-key-file "$key_file"
  --vrf-verifier "$verifier" --min-stake "${MIN_STAKE:-0.01eth}"
  --task-timeout "${TASK_TIMEOUT:-600}" --distance-threshold "${DISTANCE_THRESHOLD:-24}"
  --queue-size "${QUEUE_SIZE:-64}" --out "$out")
if [ -n "${RELAY_ADDRESS:-}" ]; then init_args+=(--relay "$RELAY_ADDRESS"); fi
if [ -n "${TREASURY_ADDRESS:-}" ]; then init_args+=(--treasury "$TREASURY_ADDRESS"); fi
"$taskctl" contract initialize "${init_args[@]}"
cp contract/abi/ITaskContract.sol contract/abi/ITaskContract.json "$out/"

step "deployed on chain $chain_id"
"$taskctl" contract config --rpc-url "$rpc_url" --contract "$contract"
echo
echo "task contract  $contract"
echo "VRF verifier   $verifier"
echo "written to     $out/ (deployment.json, deployment.env, ITaskContract.sol, ITaskContract.json)"
echo "use it with:   set -a; . $out/deployment.env; set +a"
