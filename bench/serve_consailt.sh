# Sourced by the API benchmarks: `serve_consailt [SERVE FLAGS...]` starts the release binary
# pinned to core 0 (SERVE_CORES: other cores, as taskset lists them) with a fresh data
# directory and rate limits out of the way, waits until it is ready, and sets $base (its URL)
# and $work (a scratch directory removed at exit, with the server stopped).
serve_consailt() {
    work=$(mktemp -d)
    trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
    cat >"$work/consailt.toml" <<TOML
[http]
rate_limit_per_ip = 100000000
rate_limit_per_principal = 100000000
TOML
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    CONSAILT_LOG=warn taskset -c "${SERVE_CORES:-0}" target/release/consailt serve "$@" --config "$work/consailt.toml" \
        --data-dir "$work/data" --listen "127.0.0.1:$port" &
    server=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -fs "$base/readyz" >/dev/null && return 0; sleep 0.1; done
    echo "bench: the server did not become ready" >&2
    return 1
}
