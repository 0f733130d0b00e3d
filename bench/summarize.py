#!/usr/bin/env python3
"""Summarizes bench/run.sh results (JSON lines) as medians and ratios, in Markdown."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)
    key = (r["bench"], r.get("writers"), r.get("batch"))
    runs[key].append(r)


def med(key, field):
    values = [r[field] for r in runs.get(key, []) if field in r]
    return statistics.median(values) if values else float("nan")


print("| measure | Consailt | peer | ratio | target |")
print("|---|---|---|---|---|")
for w in (1, 8, 32):
    ours, pg = ("appends", w, None), ("pg_appends", w, None)
    rate, peer = med(ours, "events_per_sec"), med(pg, "events_per_sec")
    target = {1: ">= 1x", 32: ">= 2x, p99 <= 10 ms"}.get(w, "report")
    print(f"| durable appends, {w} writers (events/s) | {rate:,.0f} | PostgreSQL {peer:,.0f} | {rate / peer:.2f}x | {target} |")
    print(f"| p50 / p99 latency, {w} writers (ms) | {med(ours, 'p50_ms'):.2f} / {med(ours, 'p99_ms'):.2f} | "
          f"{med(pg, 'p50_ms'):.2f} / {med(pg, 'p99_ms'):.2f} | | |")
single_row = med(("sqlite_cli_bulk", None, None), "events_per_sec")
multi_row = med(("sqlite_cli_bulk_multirow", None, None), "events_per_sec")
ceiling = max(single_row, multi_row)
print(f"| sqlite3 CLI ceiling: one INSERT per row / 500 rows per INSERT (events/s) | | {single_row:,.0f} / {multi_row:,.0f} | | |")
for b in (100, 1000):
    rate = med(("bulk", None, b), "events_per_sec")
    print(f"| bulk import, batches of {b} (events/s) | {rate:,.0f} | sqlite3 CLI {ceiling:,.0f} | {rate / ceiling:.0%} | >= 60% |")
for w in (1, 32):
    key = ("app", w, None)
    print(f"| application layer, {w} writers (events/s) | {med(key, 'events_per_sec'):,.0f} | | | report |")
    print(f"| application layer p50 / p99, {w} writers (ms) | {med(key, 'p50_ms'):.2f} / {med(key, 'p99_ms'):.2f} | | | |")
rate = med(("replay", None, None), "events_per_sec")
print(f"| replay of all projections (events/s) | {rate:,.0f} | | | >= 100,000 |")
reps = max(len(v) for v in runs.values())
print(f"\nMedians of {reps} interleaved repetitions.")
