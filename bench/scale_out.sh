#!/usr/bin/env bash
# PostgreSQL next to SQLite through the REST API, and two instances on one PostgreSQL against
# one (issue 6). Interleaved, medians of REPS runs, wrk at CONNECTIONS connections:
#
#   bench/scale_out.sh            # REPS=3 SECONDS_PER=4 CONNECTIONS=16
#   SCENARIOS=append TARGETS="postgres postgres-two" CONSAILT_BIN=/tmp/old/consailt bench/scale_out.sh
#
# - append: POST /api/v1/items (every request one event, projected in its transaction);
# - get: GET /api/v1/items/{id}.
# Targets: `sqlite` (durability full, the default), `postgres` (one instance),
# `postgres-two` (two instances on the same database, each sent half the connections by its
# own wrk: a round-robin split of connections), and `postgres-two-redis` (the same with rate
# limits counted in the local Redis, CONSAILT_BENCH_REDIS_URL: two Redis calls a request). Scaling efficiency is the two instances'
# throughput over twice one instance's. This machine has two cores shared by the servers,
# PostgreSQL and wrk, so the ratio is bounded by the CPU: the CPU seconds each process used per
# second of the run are reported beside it. Needs wrk (Debian), psql and the local PostgreSQL
# (CONSAILT_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/consailt_bench,
# dropped and created afresh).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
SECONDS_PER=${SECONDS_PER:-4}
CONNECTIONS=${CONNECTIONS:-16}
URL=${CONSAILT_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/consailt_bench}
REDIS=${CONSAILT_BENCH_REDIS_URL:-redis://127.0.0.1:6379}
DATABASE=${URL##*/}
SERVER_URL=${URL%/*}/postgres
PASSWORD=plum-orchard-47-velvet-kayak
export CONSAILT_TOKEN_SECRET=${CONSAILT_TOKEN_SECRET:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}

for tool in wrk psql python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install wrk postgresql-client)" >&2; exit 1; }
done
# CONSAILT_BIN runs another build (an A/B of two commits); by default this tree's release build.
if [ -z "${CONSAILT_BIN:-}" ]; then cargo build --release --bin consailt; fi
CONSAILT=${CONSAILT_BIN:-target/release/consailt}
OUT=bench/results/scale-out-$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
wait_up() { for _ in $(seq 200); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.1; done; echo "bench: $1 never came up" >&2; exit 1; }

# serve NAME PORT [FLAGS...]: one instance, its pid in PID[NAME], its URL in BASE[NAME].
declare -A BASE PID KEY ID
serve() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$WORK/$name"
    cat >"$WORK/$name/consailt.toml" <<TOML
[http]
rate_limit_per_ip = 100000000
rate_limit_per_principal = 100000000
TOML
    CONSAILT_LOG=warn CONSAILT_NO_SEMANTIC=true "$CONSAILT" serve --config "$WORK/$name/consailt.toml" \
        --data-dir "$WORK/$name/data" --listen "127.0.0.1:$port" "$@" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    PIDS+=($!)
    BASE[$name]=http://127.0.0.1:$port
    wait_up "${BASE[$name]}/readyz"
}

# owner NAME: signs up on the instance and makes an owner API key and one item.
owner() {
    local base=${BASE[$1]} token
    token=$(curl -fs "$base/api/v1/auth/signup" -H 'content-type: application/json' \
        -d "{\"email\":\"u@example.com\",\"password\":\"$PASSWORD\",\"name\":\"Bench\",\"organization_name\":\"Bench\"}" \
        | json '["access_token"]')
    KEY[$1]=$(curl -fs "$base/api/v1/api-keys" -H "authorization: Bearer $token" -H 'content-type: application/json' \
        -d '{"name":"bench","role":"owner"}' | json '["secret"]')
    ID[$1]=$(curl -fs "$base/api/v1/items" -H "authorization: Bearer ${KEY[$1]}" -H 'content-type: application/json' \
        -d '{"kind":"note","title":"Seed","body":"The item every get reads."}' | json '["id"]')
}

BODY='{"kind":"note","title":"Quarterly review notes","body":"Discussed the roadmap, the risks of the migration and the staffing plan for the next quarter."}'
script() { # scenario -> wrk script path
    local file=$WORK/$1.lua
    if [ "$1" = append ]; then
        printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' "$BODY" >"$file"
    else
        printf 'wrk.method = "GET"\n' >"$file"
    fi
    echo "$file"
}
path() { [ "$1" = append ] && echo /api/v1/items || echo "/api/v1/items/$2"; }

# CPU seconds (user + system) a process and its threads have used.
cpu() { python3 -c "import os,sys; f=open(f'/proc/{sys.argv[1]}/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))" "$1"; }
# ... of every process named $1 (PostgreSQL's backends, Redis).
named_cpu() { local total=0; for p in $(pgrep -x "$1"); do total=$(python3 -c "print($total+$(cpu "$p" 2>/dev/null || echo 0))"); done; echo "$total"; }

# run REP SCENARIO TARGET INSTANCE...: wrk against each instance at once, CONNECTIONS split evenly.
run() {
    local rep=$1 scenario=$2 target=$3
    shift 3
    local per=$((CONNECTIONS / $#)) before=() pg_before redis_before wrks=() logs=()
    for name in "$@"; do before+=("$(cpu "${PID[$name]}")"); done
    pg_before=$(named_cpu postgres)
    redis_before=$(named_cpu redis-server)
    local started=$SECONDS n=0
    for name in "$@"; do
        local log=$WORK/wrk-$rep-$scenario-$target-$name.txt
        wrk -t1 -c"$per" -d"${SECONDS_PER}s" --latency -s "$(script "$scenario")" \
            -H "Authorization: Bearer ${KEY[$name]}" "${BASE[$name]}$(path "$scenario" "${ID[$name]}")" >"$log" 2>&1 &
        wrks+=($!)
        logs+=("$log")
    done
    wait "${wrks[@]}"
    local i=0 cpus=()
    for name in "$@"; do
        cpus+=("$name=$(python3 -c "print(round(($(cpu "${PID[$name]}") - ${before[$i]}) / $SECONDS_PER, 2))")")
        i=$((i + 1))
    done
    cpus+=("postgresql-server=$(python3 -c "print(round(($(named_cpu postgres) - $pg_before) / $SECONDS_PER, 2))")")
    cpus+=("redis-server=$(python3 -c "print(round(($(named_cpu redis-server) - $redis_before) / $SECONDS_PER, 2))")")
    for log in "${logs[@]}"; do
        python3 bench/wrk_result.py "$rep" "$scenario" "$target" "$per" "$log" \
            | python3 -c "import json,sys; r=json.load(sys.stdin); r['cpu']=dict(c.split('=') for c in sys.argv[1:]); print(json.dumps(r))" "${cpus[@]}" >>"$RESULTS"
    done
}

psql "$SERVER_URL" -qc "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" -c "CREATE DATABASE \"$DATABASE\""
serve sqlite 19101
serve postgres 19102 --database-url "$URL"
serve postgres-b 19103 --database-url "$URL"
PREFIX=bench-$(date +%s)
serve postgres-r 19104 --database-url "$URL" --redis-url "$REDIS" --redis-prefix "$PREFIX"
serve postgres-rb 19105 --database-url "$URL" --redis-url "$REDIS" --redis-prefix "$PREFIX"
owner sqlite
owner postgres
# The second instance shares the database: the same key and item work there.
KEY[postgres-b]=${KEY[postgres]}
ID[postgres-b]=${ID[postgres]}
for name in postgres-r postgres-rb; do KEY[$name]=${KEY[postgres]}; ID[$name]=${ID[postgres]}; done

SCENARIOS=${SCENARIOS:-"append get"}
TARGETS=${TARGETS:-"sqlite postgres postgres-two postgres-two-redis"}
declare -A INSTANCES=([sqlite]="sqlite" [postgres]="postgres" [postgres-two]="postgres postgres-b"
    [postgres-two-redis]="postgres-r postgres-rb")
for rep in $(seq "$REPS"); do
    for scenario in $SCENARIOS; do
        echo "rep $rep: $scenario" >&2
        for target in $TARGETS; do
            # shellcheck disable=SC2086 # the instances are words
            run "$rep" "$scenario" "$target" ${INSTANCES[$target]}
        done
    done
done
python3 bench/scale_out_summary.py "$RESULTS" | tee "$OUT/summary.md"
