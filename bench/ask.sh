#!/usr/bin/env bash
# Time to first token of `POST /api/v1/ask` (streamed) with the built-in local provider over
# an evaluation corpus, retrieval included: SciFact's 5,183 abstracts loaded through the API,
# then each of its 809 training claims asked once, one client at a time. Writes
# bench/results/ask-<time>/ask.json and prints p50/p95/p99.
#
#   bench/ask.sh                      # full-text retrieval (the server runs --no-semantic)
#   SEMANTIC=1 bench/ask.sh           # hybrid retrieval: embeds the corpus first (~20 min)
#
# The server runs pinned to core 0 and the client to core 1.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}/scifact
out=bench/results/ask-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
cargo build --release --quiet --bin consailt
. bench/serve_consailt.sh
semantic=(--no-semantic)
[ "${SEMANTIC:-0}" = 1 ] && semantic=()
serve_consailt "${semantic[@]}"
taskset -c 1 python3 bench/ask.py "$base" "$data" "$out/ask.json" "${SEMANTIC:-0}"
echo "results in $out"
