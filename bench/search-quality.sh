#!/usr/bin/env bash
# Ranking quality of full-text search next to SQLite FTS5 (bm25) on the shared evaluation
# collections: SciFact's training queries and Cranfield. Writes
# bench/results/quality-<time>/<collection>.json, each mode's ranking as TREC run files under
# <collection>-runs/, prints a table, and compares fusion methods on those rankings
# (bench/fusion.py) when semantic search ran.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
out=bench/results/quality-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
cargo build --release --quiet --bin consailt
run() {
    local name=$1 collection=$2 qrels=$3
    ./target/release/consailt search eval --collection "$collection" --qrels "$qrels" --json \
        --runs "$out/$name-runs" >"$out/$name.json"
    python3 - "$name" "$out/$name.json" <<'PY'
import json, sys
name, path = sys.argv[1], sys.argv[2]
report = json.load(open(path))
for mode, m in report["modes"].items():
    if m is None:
        print(f"{name:<9} {mode:<9} not measured")
    else:
        print(f"{name:<9} {mode:<9} nDCG@10 {m['ndcg@10']:.4f}  recall@100 {m['recall@100']:.4f}  MRR {m['mrr']:.4f}")
PY
    if [ -f "$out/$name-runs/semantic.run" ]; then
        python3 bench/fusion.py "$qrels" "$out/$name-runs"
    fi
}
run scifact "$data/scifact" "$data/scifact/qrels/train.tsv"
run cranfield "$data/cranfield" "$data/cranfield/cranqrel"
echo "results in $out"
