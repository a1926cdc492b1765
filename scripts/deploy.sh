#!/usr/bin/env bash
# Deploys the network's Stylus programs with cargo-stylus: the VRF verifier, the task contract's
# extension, then the task contract itself through cargo-stylus's StylusDeployer, which deploys,
# activates and runs its constructor in one transaction (nobody can configure it first). Then it
# checks the settings on chain and writes the deployment where the node worker, the relay and
# taskctl read it. Arbitrum Sepolia by default; the same flow serves the local devnet.
#
# Environment (unset settings take the protocol's defaults: `taskctl contract constructor-args
# --help`):
#   PRIVATE_KEY_FILE      file holding the deployer's private key (hex)   } one of the two
#   PRIVATE_KEY           the key itself (hex; kept out of the process list) } is required
#   RPC_URL               default https://sepolia-rollup.arbitrum.io/rpc (chain id 421614)
#   RELAY_URL             the URL your relay will serve at (required: written to deployment.env
#                         for the workers and taskctl)
#   OWNER_ADDRESS         the contract's owner          (default: the deployer)
#   RELAY_ADDRESS         the relay's account          (default: the owner)
#   TREASURY_ADDRESS      where slashed stakes go      (default: the owner)
#   MIN_STAKE             wei, or ether as 0.01eth      (default 0.01eth)
#   QUEUE_TIMEOUT, UPLOAD_TIMEOUT, EXECUTION_TIMEOUT, VALIDATION_TIMEOUT   seconds
#   DISTANCE_THRESHOLD    pHash distance
#   SAMPLING_RATE         one task in this many is validated by a group
#   QUEUE_SIZE            queued tasks at most
#   MAX_GPU_CLASSES       GPU classes with joined nodes at most
#   MAX_FEE_PER_GAS_GWEI  optional fee cap for the deployment transactions
#   DEPLOYMENT_DIR        output folder                 (default deployments/<chain id>)
#
# Output in DEPLOYMENT_DIR: deployment.json (addresses, settings), deployment.env
# (NODE_WORKER_*, RELAY_*, TASKCTL_* variables: `set -a; . DIR/deployment.env; set +a`), and the
# ABI (ITaskContract.sol, ITaskContract.json).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
root=$(pwd)
stylus_version=0.10.10
rpc_url=${RPC_URL:-https://sepolia-rollup.arbitrum.io/rpc}
relay_url=${RELAY_URL:-}

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
[ -n "$relay_url" ] || fail "set RELAY_URL to the URL your relay will serve at (e.g. https://relay.example.org); workers and taskctl read it from deployment.env"

step "cargo-stylus $stylus_version"
if ! cargo stylus --version 2>/dev/null | grep -q "stylus $stylus_version"; then
  echo "installing cargo-stylus $stylus_version (a few minutes, once)"
  cargo install --quiet --locked cargo-stylus --version "$stylus_version"
fi
cargo stylus --version

step "taskctl (constructor arguments, checks the deployment)"
cargo build --quiet --workspace --bin taskctl
taskctl="${CARGO_TARGET_DIR:-$root/target}/debug/taskctl"
chain_id=$("$taskctl" contract chain-id --rpc-url "$rpc_url") || fail "cannot reach $rpc_url"
echo "endpoint $rpc_url, chain id $chain_id"
out=${DEPLOYMENT_DIR:-deployments/$chain_id}

step "build and size"
scripts/contract-size.sh

# Runs cargo-stylus in the contract's folder (it builds the package of the current directory).
# The endpoint goes first: --constructor-args takes every argument after it.
stylus() {
  local dir=$1 command=$2
  shift 2
  (cd "$root/$dir" && cargo stylus "$command" --endpoint "$rpc_url" "$@")
}
fee_args=()
if [ -n "${MAX_FEE_PER_GAS_GWEI:-}" ]; then fee_args=(--max-fee-per-gas-gwei "$MAX_FEE_PER_GAS_GWEI"); fi

deploy() {
  local dir=$1 package=$2 log="$work/$2.log"
  shift 2
  step "check $package"
  stylus "$dir" check --contract "$package"
  step "deploy $package"
  # --no-verify: build here rather than in cargo-stylus's reproducible Docker image.
  if ! stylus "$dir" deploy --contract "$package" --no-verify --private-key-path "$key_file" \
    "${fee_args[@]}" "$@" 2>&1 | tee "$log"; then
    fail "cargo stylus deploy of $package failed"
  fi
  address=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'deployed code at address: 0x[0-9a-fA-F]*' \
    | grep -oE '0x[0-9a-fA-F]{40}' | tail -1)
  [ -n "$address" ] || fail "no address in cargo-stylus's output for $package"
  # A program with a constructor is activated inside its deployment transaction.
  if [ $# -eq 0 ]; then
    grep -q 'successfully activated\|already activated' <(sed 's/\x1b\[[0-9;]*m//g' "$log") \
      || fail "$package at $address was deployed but not activated"
  fi
}
deploy vrf-verifier vrf-verifier
verifier=$address
deploy contract/extension task-contract-extension
extension=$address

# The constructor's settings, as taskctl takes them.
settings=(--extension "$extension" --vrf-verifier "$verifier" --private-key-file "$key_file"
  --min-stake "${MIN_STAKE:-0.01eth}")
add_setting() { if [ -n "${2:-}" ]; then settings+=("$1" "$2"); fi; }
add_setting --owner "${OWNER_ADDRESS:-}"
add_setting --relay "${RELAY_ADDRESS:-}"
add_setting --treasury "${TREASURY_ADDRESS:-}"
add_setting --queue-timeout "${QUEUE_TIMEOUT:-}"
add_setting --upload-timeout "${UPLOAD_TIMEOUT:-}"
add_setting --execution-timeout "${EXECUTION_TIMEOUT:-}"
add_setting --validation-timeout "${VALIDATION_TIMEOUT:-}"
add_setting --distance-threshold "${DISTANCE_THRESHOLD:-}"
add_setting --sampling-rate "${SAMPLING_RATE:-}"
add_setting --queue-size "${QUEUE_SIZE:-}"
add_setting --max-gpu-classes "${MAX_GPU_CLASSES:-}"
constructor_args=()
while IFS= read -r line; do constructor_args+=("$line"); done \
  < <("$taskctl" contract constructor-args "${settings[@]}" || echo "FAILED")
[ "${#constructor_args[@]}" -eq 14 ] || fail "invalid settings: ${constructor_args[*]}"
deploy contract task-contract --constructor-args "${constructor_args[@]}"
contract=$address

step "check the settings on chain and record the deployment"
"$taskctl" contract record --rpc-url "$rpc_url" --contract "$contract" --relay-url "$relay_url" \
  "${settings[@]}" --out "$out"
cp contract/abi/ITaskContract.sol contract/abi/ITaskContract.json "$out/"

step "deployed on chain $chain_id"
"$taskctl" contract config --rpc-url "$rpc_url" --contract "$contract"
echo
echo "task contract  $contract"
echo "extension      $extension"
echo "VRF verifier   $verifier"
echo "written to     $out/ (deployment.json, deployment.env, ITaskContract.sol, ITaskContract.json)"
echo "use it with:   set -a; . $out/deployment.env; set +a"
