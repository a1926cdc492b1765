#!/usr/bin/env bash
# Runs scripts/deploy.sh against a fresh local devnet (the flow used for Arbitrum Sepolia, with the
# devnet's endpoint and a development key; the task contract goes through cargo-stylus's
# StylusDeployer with its constructor), then checks what it left behind (each activation paid its
# data fee; a program over 24 KiB deploys as fragments): the contract's settings
# on chain, that nobody can run the constructor again, that recording other settings is refused,
# and that a node worker configured only from the written deployment.env joins the contract.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin="${CARGO_TARGET_DIR:-$root/target}/debug"
work=$(mktemp -d)
devnet_pid=
cleanup() {
  if [ -n "$devnet_pid" ]; then kill "$devnet_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "deploy-check: $*" >&2
  exit 1
}

cargo build --quiet --workspace --bin devnet --bin taskctl --bin node-worker
"$bin/devnet" --port 0 > "$work/devnet.log" 2>&1 &
devnet_pid=$!
rpc_url=
for _ in $(seq 100); do
  rpc_url=$(grep -o 'RPC URL http://[0-9.:]*' "$work/devnet.log" | cut -d' ' -f3 || true)
  [ -n "$rpc_url" ] && break
  sleep 0.1
done
[ -n "$rpc_url" ] || fail "the devnet did not start: $(cat "$work/devnet.log")"

# Development accounts 0 (deployer), 3 (a node), 8 (relay) and 9 (treasury).
deployer_key=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
node_key=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
relay=0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f
treasury=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720
out="$work/deployment"

RPC_URL=$rpc_url RELAY_URL=http://127.0.0.1:8548 PRIVATE_KEY=$deployer_key RELAY_ADDRESS=$relay TREASURY_ADDRESS=$treasury \
  MIN_STAKE=0.05eth EXECUTION_TIMEOUT=900 VALIDATION_TIMEOUT=4000 QUEUE_SIZE=32 SAMPLING_RATE=20 \
  DEPLOYMENT_DIR=$out scripts/deploy.sh

for f in deployment.json deployment.env ITaskContract.sol ITaskContract.json; do
  [ -s "$out/$f" ] || fail "deploy.sh did not write $f"
done
set -a
# shellcheck disable=SC1091
. "$out/deployment.env"
set +a
[ "$TASKCTL_RPC_URL" = "$rpc_url" ] || fail "deployment.env names $TASKCTL_RPC_URL, not $rpc_url"
for v in TASKCTL_RELAY_URL NODE_WORKER_RELAY_URL; do
  [ "${!v:-}" = "http://127.0.0.1:8548" ] || fail "deployment.env sets $v to '${!v:-}', not the relay URL"
done

config=$("$bin/taskctl" contract config --json)
python3 - "$config" "$relay" "$treasury" <<'EOF'
import json, sys
c = json.loads(sys.argv[1])
expected = {
    "constructed": True,
    "owner": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "relay": sys.argv[2],
    "treasury": sys.argv[3],
    "min_stake_wei": "50000000000000000",
    "upload_timeout_s": 300,
    "execution_timeout_s": 900,
    "validation_timeout_s": 4000,
    "distance_threshold": 24,
    "sampling_rate": 20,
    "queue_size_limit": 32,
    "max_gpu_classes": 32,
}
norm = lambda v: v.lower() if isinstance(v, str) else v  # addresses: any checksum case
wrong = {k: (c.get(k), v) for k, v in expected.items() if norm(c.get(k)) != norm(v)}
if wrong:
    sys.exit(f"deploy-check: settings on chain differ (got, expected): {wrong}")
EOF

# Each of the three programs was activated with its data fee paid: ArbWasm's ProgramActivated
# events carry the program and a fee above zero.
logs=$(curl -s -X POST -H 'Content-Type: application/json' "$rpc_url" \
  --data '{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"fromBlock":"0x0","address":"0x0000000000000000000000000000000000000071"}]}')
python3 - "$logs" "$out/deployment.json" <<'EOF'
import json, sys
logs = json.loads(sys.argv[1])["result"]
d = json.load(open(sys.argv[2]))
programs = {a.lower() for a in (d["task_contract"], d["extension"], d["settings"]["vrf_verifier"])}
fees = {}
for log in logs:
    # ProgramActivated(bytes32 indexed codehash, bytes32 moduleHash, address program,
    # uint256 dataFee, uint16 version): data words moduleHash, program, dataFee, version.
    words = [log["data"][2 + 64 * i: 2 + 64 * (i + 1)] for i in range(4)]
    fees["0x" + words[1][24:]] = int(words[2], 16)
if not programs <= set(fees) or any(fees[p] == 0 for p in programs):
    sys.exit(f"deploy-check: not every program was activated with a data fee: {fees}, want {programs}")
print("data fees paid (wei):", ", ".join(str(fees[p]) for p in sorted(programs)))
EOF

# Recording the deployment again with the same settings confirms them; with other settings it is
# refused.
printf '%s\n' "$deployer_key" > "$work/deployer.key"
read -r extension verifier < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["extension"], d["settings"]["vrf_verifier"])' "$out/deployment.json")
same=(--private-key-file "$work/deployer.key" --extension "$extension" --vrf-verifier "$verifier"
  --relay "$relay" --treasury "$treasury" --min-stake 0.05eth --execution-timeout 900
  --validation-timeout 4000 --queue-size 32 --sampling-rate 20)
"$bin/taskctl" contract record "${same[@]}" | grep -q "holds the expected settings" \
  || fail "recording the same settings again did not confirm them"
if "$bin/taskctl" contract record "${same[@]/0.05eth/1eth}" 2> "$work/err"; then
  fail "recording other settings than those on chain was accepted"
fi
grep -q "holds other settings" "$work/err" || fail "unexpected error: $(cat "$work/err")"

# A program over 24 KiB compressed (devnet/programs/big-table: a 30 KB incompressible table):
# cargo-stylus deploys it as ArbOS 60 fragments and a root, activates it, and it answers.
if ! (cd devnet/programs/big-table && cargo stylus deploy --endpoint "$rpc_url" --no-verify \
  --private-key-path "$work/deployer.key") > "$work/big-table.log" 2>&1; then
  fail "cargo stylus deploy of big-table failed: $(tail -5 "$work/big-table.log")"
fi
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$work/big-table.log")
grep -q '(2 fragments)' <<<"$plain" || fail "big-table was not split into 2 fragments: $plain"
grep -q 'successfully activated' <<<"$plain" || fail "big-table was not activated: $plain"
big=$(grep -o 'deployed code at address: 0x[0-9a-fA-F]*' <<<"$plain" | grep -oE '0x[0-9a-fA-F]{40}' | tail -1)
rpc() {
  curl -s -X POST -H 'Content-Type: application/json' "$rpc_url" \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}"
}
grep -q '"result":"0xeff00200' <<<"$(rpc eth_getCode "[\"$big\",\"latest\"]")" \
  || fail "big-table's code at $big is not a Stylus root program"
# byteAt(0x1234) (selector keccak256("byteAt(uint256)")[:4] = 0x710422c6) against the table
# build.rs writes.
answer=$(rpc eth_call "[{\"to\":\"$big\",\"data\":\"0x710422c6$(printf '%064x' 0x1234)\"},\"latest\"]")
python3 - "$answer" <<'EOF'
import json, sys
x, mask, table = 0x2545F4914F6CDD1D, (1 << 64) - 1, []
for _ in range(30_000):
    x ^= (x << 13) & mask
    x ^= x >> 7
    x ^= (x << 17) & mask
    table.append(x & 0xFF)
got = int(json.loads(sys.argv[1])["result"], 16)
if got != table[0x1234]:
    sys.exit(f"deploy-check: big-table answered {got:#x}, not {table[0x1234]:#x}")
print(f"big-table: 2 fragments and a root, byteAt(0x1234) = {got:#x}")
EOF

# The program cache as on Arbitrum: the chain owner enables it (`devnet cache-manager` deploys the
# cache manager program and adds it with ArbOwner.addWasmCacheManager); then cargo-stylus's own
# `cache status` finds the manager and big-table uncached, `cache bid` caches it, and `cache status`
# (ArbWasmCache.codehashIsCached of its code hash) says it is cached.
cargo build --quiet --release --target wasm32-unknown-unknown -p cache-manager
manager=$("$bin/devnet" --quiet cache-manager --rpc-url "$rpc_url" \
  "${CARGO_TARGET_DIR:-$root/target}/wasm32-unknown-unknown/release/cache_manager.wasm")
cache_status() {
  cargo stylus cache status --endpoint "$rpc_url" --address "$big" 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
}
status=$(cache_status)
grep -qi "cache manager address: $manager" <<<"$status" || fail "cargo stylus cache status did not find the manager $manager: $status"
grep -q "is not yet cached" <<<"$status" || fail "big-table is cached before any bid: $status"
if ! cargo stylus cache bid "$big" 0 --endpoint "$rpc_url" --private-key-path "$work/deployer.key" \
  > "$work/bid.log" 2>&1; then
  fail "cargo stylus cache bid failed: $(tail -5 "$work/bid.log")"
fi
status=$(cache_status)
grep -Eq ' "?is cached' <<<"$status" || fail "big-table is not cached after the bid: $status"
echo "cache: manager $manager, big-table cached by cargo stylus cache bid"

# Nobody can run the constructor again: the deployment transaction ran it.
constructor=$(python3 -c '
import sys
# keccak256("stylus_constructor()")[:4], then each argument as a 32-byte word.
selector = "5585258d"
words = []
for a in sys.argv[1:]:
    v = int(a, 16) if a.startswith("0x") else int(a)
    words.append("%064x" % v)
print("0x" + selector + "".join(words))' $("$bin/taskctl" contract constructor-args "${same[@]}"))
answer=$(curl -s -X POST -H 'Content-Type: application/json' "$rpc_url" \
  --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_call\",\"params\":[{\"to\":\"$TASKCTL_CONTRACT\",\"data\":\"$constructor\"},\"latest\"]}")
# AlreadyInitialized() = 0x0dc149f0
grep -q '0x0dc149f0' <<<"$answer" || fail "a second constructor call was not refused: $answer"

# A node configured by deployment.env alone joins the deployed contract.
printf '%s\n' "$node_key" > "$work/node.key"
export NODE_WORKER_PRIVATE_KEY_FILE="$work/node.key" NODE_WORKER_DATA_DIR="$work/node"
export NODE_WORKER_GPU_NAME="NVIDIA GeForce RTX 4090" NODE_WORKER_GPU_VRAM_GB=24 NODE_WORKER_STAKE=0.05eth
"$bin/node-worker" join
"$bin/node-worker" status --json > "$work/status.json"
python3 - "$work/status.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
text = json.dumps(s)
if "Available" not in text or "50000000000000000" not in text:
    sys.exit(f"deploy-check: the node did not join with its stake: {text}")
EOF
echo "deploy-check: deploy.sh deployed, constructed and recorded a working contract on the devnet"
