#!/usr/bin/env bash
# Full-text search through the product's HTTP API at COUNT documents (default 200,000
# generated from real sentences, bench/fulltext_docs.py): how fast documents loaded through
# `POST /api/v1/items` become searchable (next to FTS5 indexing the same documents in the same
# run), write-to-searchable latency, and `GET /api/v1/search` latency under wrk at one
# connection for short (typed, 1 to 3 words) and long (10 to 30 word claims) queries.
# Writes bench/results/search-http-<time>/ and prints a summary.
#
#   bench/search_http.sh                 # COUNT=200000 SECONDS_PER=10
#
# The server runs pinned to core 0, the clients and wrk to core 1; semantic search is off
# (--no-semantic): this measures the full-text path. Queries are timed once the server is idle
# after the load (its segment merges done).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}
count=${COUNT:-200000}
seconds=${SECONDS_PER:-10}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/consailt-bench
out=bench/results/search-http-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" "$cache"
for tool in wrk taskset python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk)" >&2; exit 1; }
done
cargo build --release --quiet --bin consailt
[ -f "$cache/generated-$count.jsonl" ] || python3 bench/fulltext_docs.py "$data" "$count" "$cache/generated-$count.jsonl"
. bench/serve_consailt.sh
. bench/steal.sh
steal_start
serve_consailt --no-semantic
taskset -c 1 python3 bench/search_http.py load "$base" "$cache/generated-$count.jsonl" "$data/scifact/queries.jsonl" "$out"
key=$(cat "$out/api-key")
# Queries are timed on a settled index: the load can leave segment merges running on the
# server's core, and query figures should not depend on when they end. Wait until the server
# has used at most 1% of a core for five seconds in a row, at most five minutes.
settled=0
for waited in $(seq 300); do
    before=$(awk '{print $14 + $15}' "/proc/$server/stat")
    sleep 1
    after=$(awk '{print $14 + $15}' "/proc/$server/stat")
    if [ $((after - before)) -le 1 ]; then settled=$((settled + 1)); else settled=0; fi
    [ "$settled" -ge 5 ] && break
done
echo "bench: the server settled after ${waited} s" | tee "$out/settled.txt"
for kind in short long; do
    PATHS="$out/$kind-paths.txt" taskset -c 1 wrk -t1 -c1 -d"${seconds}s" --latency -s bench/paths.lua \
        -H "Authorization: Bearer $key" "$base" >"$out/wrk-$kind.txt" 2>&1
    python3 bench/wrk_result.py 1 "search-$kind" consailt 1 "$out/wrk-$kind.txt" >>"$out/results.jsonl"
done
rm -f "$out/api-key"
python3 bench/search_http.py summary "$out"
steal_report "$out/steal.txt"
echo "results in $out"
