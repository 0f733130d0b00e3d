#!/usr/bin/env python3
"""Turns one pgbench run (its output file and per-transaction logs) into a JSON result line."""
import glob
import json
import re
import sys

writers, output, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
text = open(output).read()
match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", text)
if not match:
    sys.exit(f"pgbench produced no rate:\n{text}")
latencies = sorted(int(line.split()[2]) for f in glob.glob(prefix + "*") for line in open(f) if line.strip())


def percentile(p):
    return latencies[round((len(latencies) - 1) * p)] / 1000.0 if latencies else 0.0


print(json.dumps({
    "bench": "pg_appends", "writers": writers, "events": len(latencies), "events_per_sec": float(match.group(1)),
    "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
}))
