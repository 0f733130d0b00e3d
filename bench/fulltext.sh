#!/usr/bin/env bash
# Full-text speed next to SQLite FTS5 and the tantivy Python package, over COUNT generated
# documents (default 200,000, made of real sentences) and over SciFact, with the queries of
# SciFact and Cranfield. Writes bench/results/fulltext-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
count=${COUNT:-200000}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/consailt-bench
venv=target/bench-venv
out=bench/results/fulltext-$(date -u +%Y%m%dT%H%M%SZ).json
mkdir -p bench/results "$cache"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check tantivy==0.27.0
cargo build --release --quiet -p consailt-bench --bin fulltext-bench
[ -f "$cache/generated-$count.jsonl" ] || python3 bench/fulltext_docs.py "$data" "$count" "$cache/generated-$count.jsonl"
[ -f "$cache/queries.jsonl" ] || python3 bench/vector_passages.py "$data" 1 /dev/null "$cache/queries.jsonl"
"$venv/bin/python" bench/fulltext.py --docs "generated=$cache/generated-$count.jsonl" \
    --docs "scifact=$data/scifact/corpus.jsonl" --queries "$cache/queries.jsonl" \
    --fulltext-bench target/release/fulltext-bench --out "$out"
echo "results in $out"
