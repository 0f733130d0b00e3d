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
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/consailt.toml" <<TOML
[http]
rate_limit_per_ip = 100000000
rate_limit_per_principal = 100000000
TOML
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
semantic=(--no-semantic)
[ "${SEMANTIC:-0}" = 1 ] && semantic=()
CONSAILT_LOG=warn taskset -c 0 target/release/consailt serve "${semantic[@]}" --config "$work/consailt.toml" \
    --data-dir "$work/data" --listen "127.0.0.1:$port" &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
taskset -c 1 python3 bench/ask.py "http://127.0.0.1:$port" "$data" "$out/ask.json" "${SEMANTIC:-0}"
echo "results in $out"
