#!/usr/bin/env bash
# The vector index next to Chroma and faiss HNSW over real MiniLM vectors of COUNT passages
# (default 100,000). The vectors are embedded once by the product's embedder and cached in
# ~/.cache/consailt-bench (about 30-40 minutes on two cores); later runs reuse them.
# Writes bench/results/vectors-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
count=${COUNT:-100000}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/consailt-bench
venv=target/bench-venv
out=bench/results/vectors-$(date -u +%Y%m%dT%H%M%SZ).json
mkdir -p bench/results "$cache"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy chromadb==1.5.9 faiss-cpu==1.15.1
cargo build --release --quiet -p consailt-bench --bin embed-bench --bin vector-bench
passages=$cache/passages-$count
queries=$cache/queries
if [ ! -f "$passages.f32" ] || [ ! -f "$queries.f32" ]; then
    python3 bench/vector_passages.py "$data" "$count" "$passages.jsonl" "$queries.jsonl"
    echo "embedding $count passages once (cached in $cache)" >&2
    target/release/embed-bench --texts "$queries.jsonl" --vectors "$queries.f32.part" --queries 1 >/dev/null
    mv "$queries.f32.part" "$queries.f32"
    target/release/embed-bench --texts "$passages.jsonl" --vectors "$passages.f32.part" --queries 1 >/dev/null
    mv "$passages.f32.part" "$passages.f32"
fi
"$venv/bin/python" bench/vectors.py --vectors "$passages.f32" --queries "$queries.f32" \
    --vector-bench target/release/vector-bench --out "$out"
echo "results in $out"
