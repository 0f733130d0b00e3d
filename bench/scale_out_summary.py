"""Summarizes bench/scale_out.sh: per scenario, the median over reps of each target's
throughput (two instances: the sum of both), p99, CPU use, PostgreSQL next to SQLite, and
the two instances' scaling efficiency (their throughput over twice one instance's), and what
counting rate limits in Redis costs two instances."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1])]
runs = defaultdict(list)  # (scenario, target, rep) -> rows of that run (one per wrk)
for row in rows:
    runs[(row["scenario"], row["target"], row["rep"])].append(row)

def summary(scenario, target):
    reps = [r for (s, t, _), r in runs.items() if s == scenario and t == target]
    rps = statistics.median(sum(w["rps"] for w in run) for run in reps)
    p99 = statistics.median(max(w["p99_ms"] or 0 for w in run) for run in reps)
    errors = sum(w["errors"] for run in reps for w in run)
    cpu = defaultdict(list)
    for run in reps:
        for name, used in run[0]["cpu"].items():
            cpu[name].append(float(used))
    cpu = {name: statistics.median(values) for name, values in cpu.items()}
    return rps, p99, errors, cpu

print("| scenario | target | requests/s (median) | p99 ms | CPU cores used (median) | errors |")
print("|---|---|---|---|---|---|")
figures = {}
present = {(row["scenario"], row["target"]) for row in rows}
for scenario in ("append", "get"):
    for target in ("sqlite", "postgres", "postgres-two", "postgres-two-redis"):
        if (scenario, target) not in present:
            continue
        rps, p99, errors, cpu = summary(scenario, target)
        figures[(scenario, target)] = rps
        used = ", ".join(f"{name} {value:.2f}" for name, value in sorted(cpu.items()))
        print(f"| {scenario} | {target} | {rps:,.0f} | {p99:.2f} | {used} | {errors} |")
print()
for scenario in ("append", "get"):
    if not all((scenario, t) in figures for t in ("postgres", "postgres-two", "sqlite")):
        continue
    one, two, lite = (figures[(scenario, t)] for t in ("postgres", "postgres-two", "sqlite"))
    print(f"- {scenario}: PostgreSQL {one / lite:.2f}x SQLite; two instances {two:,.0f}/s against one "
          f"{one:,.0f}/s: scaling efficiency {two / (2 * one):.2f}")
for scenario in ("append", "get"):
    if not all((scenario, t) in figures for t in ("postgres-two", "postgres-two-redis")):
        continue
    local, shared = (figures[(scenario, t)] for t in ("postgres-two", "postgres-two-redis"))
    print(f"- {scenario}: two instances with limits counted in Redis {shared:,.0f}/s, "
          f"{shared / local:.2f}x the same two counting locally")
