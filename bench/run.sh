#!/usr/bin/env bash
# Benchmarks of the event store next to its peers, interleaved (A B A B), medians of REPS runs.
# See bench/README.md for what each figure means. Results: bench/results/<time>/.
#
#   bench/run.sh            # REPS=3 SECONDS_PER=5
#   REPS=5 bench/run.sh
#
# Needs: PostgreSQL 15 on 127.0.0.1:5432 (user postgres, trust auth) with pgbench, the sqlite3
# command-line tool, taskset, python3. The durability is the same on both sides: every
# acknowledged write is fsynced (SQLite synchronous=FULL; PostgreSQL synchronous_commit=on).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
SECONDS_PER=${SECONDS_PER:-5}
BULK_EVENTS=${BULK_EVENTS:-200000}
REPLAY_EVENTS=${REPLAY_EVENTS:-100000}
PG="psql -X -q -h 127.0.0.1 -U postgres"

for tool in pgbench psql sqlite3 taskset python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (see bench/README.md)" >&2; exit 1; }
done

cargo build --release -p consailt-bench
BIN=target/release/consailt-bench
OUT=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d)
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl

# PostgreSQL server on core 0, load generators on core 1 (restored on exit).
pg_pids() { pgrep -x postgres || pgrep -f "postgres:" || true; }
pin_postgres() { for pid in $(pg_pids); do taskset -a -pc "$1" "$pid" >/dev/null 2>&1 || true; done; }
cleanup() { pin_postgres 0-1; rm -rf "$WORK"; }
trap cleanup EXIT
pin_postgres 0

$PG -d postgres -c "DROP DATABASE IF EXISTS consailt_bench" -c "CREATE DATABASE consailt_bench"
$PG -d consailt_bench <<'SQL'
CREATE TABLE events (
    position        BIGSERIAL PRIMARY KEY,
    stream_id       TEXT    NOT NULL,
    stream_version  BIGINT  NOT NULL,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    org_id          TEXT,
    recorded_at     BIGINT  NOT NULL,
    hash            BYTEA   NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_org_position ON events (org_id, position);
SQL
# The same work as one store append: read the stream's version, insert the next event.
cat > "$WORK/append.sql" <<'SQL'
INSERT INTO events (stream_id, stream_version, event_type, schema_version, payload, metadata, org_id, recorded_at, hash)
SELECT 'bench-' || :client_id, COALESCE(MAX(stream_version), 0) + 1, 'bench.appended', 1,
       '{"n":' || :client_id || ',"pad":"' || repeat('x', 160) || '"}', '{"org_id":"org_bench","actor":"usr_bench"}',
       'org_bench', (extract(epoch from clock_timestamp()) * 1000000)::bigint, sha256(convert_to(random()::text, 'UTF8'))
FROM events WHERE stream_id = 'bench-' || :client_id;
SQL

pgbench_run() {
    local writers=$1 prefix="$WORK/pg_$1_$2"
    $PG -d consailt_bench -c "TRUNCATE events"
    taskset -c 1 pgbench -h 127.0.0.1 -U postgres -n -M prepared -c "$writers" -j 1 -T "$SECONDS_PER" \
        -f "$WORK/append.sql" -l --log-prefix "$prefix" consailt_bench >"$prefix.out" 2>&1
    python3 bench/pgbench_result.py "$writers" "$prefix.out" "$prefix.[0-9]*" >>"$RESULTS"
    rm -f "$prefix"*
}

sqlite_cli_run() {
    local sql=$1 bench=$2 db="$WORK/cli.db"
    rm -f "$db" "$db-wal" "$db-shm"
    sqlite3 "$db" < crates/store-sqlite/migrations/0001_event_log.sql
    local started ended
    started=$(date +%s.%N)
    sqlite3 "$db" < "$sql" >/dev/null
    ended=$(date +%s.%N)
    python3 -c "import json,sys; s=float(sys.argv[2])-float(sys.argv[1]); print(json.dumps({'bench':sys.argv[4],'events':int(sys.argv[3]),'events_per_sec':int(sys.argv[3])/s}))" \
        "$started" "$ended" "$BULK_EVENTS" "$bench" >>"$RESULTS"
}

# The ceiling: the same rows, the same schema and indexes, one transaction, in the sqlite3
# tool; once as one INSERT per row and once as multi-row INSERTs of 500 rows (the higher of
# the two is the ceiling).
python3 - "$BULK_EVENTS" "$WORK/bulk.sql" "$WORK/bulk_multi.sql" <<'PY'
import sys
n, single, multi = int(sys.argv[1]), open(sys.argv[2], "w"), open(sys.argv[3], "w")
pad = "x" * 160
head = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; BEGIN;\n"
row = lambda i: (f"({i+1},'import-s{i//100}',{i%100+1},'bench.appended',1,'{{\"n\":{i},\"pad\":\"{pad}\"}}',"
                 f"'{{\"org_id\":\"org_bench\"}}','org_bench',1700000000000000,randomblob(32))")
single.write(head)
multi.write(head)
for i in range(n):
    single.write(f"INSERT INTO events VALUES {row(i)};\n")
for start in range(0, n, 500):
    multi.write("INSERT INTO events VALUES " + ",".join(row(i) for i in range(start, min(n, start + 500))) + ";\n")
single.write("COMMIT;\n")
multi.write("COMMIT;\n")
PY

fresh() { rm -f "$WORK"/c.db*; echo "$WORK/c.db"; }
consailt() { "$BIN" --db "$(fresh)" "$@" >>"$RESULTS"; }

# The replay history is generated once and copied for each repetition.
"$BIN" --db "$WORK/history.db" replay --events "$REPLAY_EVENTS" >/dev/null

for rep in $(seq "$REPS"); do
    echo "bench: repetition $rep of $REPS" >&2
    for writers in 1 8 32; do
        consailt appends --writers "$writers" --seconds "$SECONDS_PER"
        pgbench_run "$writers" "$rep"
    done
    consailt bulk --batch 100 --total "$BULK_EVENTS"
    sqlite_cli_run "$WORK/bulk.sql" sqlite_cli_bulk
    sqlite_cli_run "$WORK/bulk_multi.sql" sqlite_cli_bulk_multirow
    consailt bulk --batch 1000 --total "$BULK_EVENTS"
    consailt app --writers 1 --seconds "$SECONDS_PER"
    consailt app --writers 32 --seconds "$SECONDS_PER"
    rm -f "$WORK"/r.db*
    # A SQLite database is its file and its write-ahead log together.
    cp "$WORK/history.db" "$WORK/r.db"
    if [ -f "$WORK/history.db-wal" ]; then cp "$WORK/history.db-wal" "$WORK/r.db-wal"; fi
    "$BIN" --db "$WORK/r.db" replay >>"$RESULTS"
done

python3 bench/summarize.py "$RESULTS" | tee "$OUT/summary.md"
