"""Medians of bench/http.sh results as a Markdown table, with Consailt's ratio to PocketBase."""
import json
import math
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["scenario"], r["connections"], r["target"])].append(r)


def med(rows, key):
    values = [r[key] for r in rows if r[key] is not None]
    return statistics.median(values) if values else float("nan")


targets = {"create": "1.5x, p99 <= 7 ms at 16", "get": "2x", "list": "10x", "health": "2.5x"}
print("| scenario | connections | PocketBase req/s (p50/p99 ms) | Consailt normal req/s (p50/p99 ms) | ratio | Consailt full req/s (p50/p99 ms) | ratio | target |")
print("|---|---|---|---|---|---|---|---|")
for scenario in targets:
    for conns in sorted({k[1] for k in runs if k[0] == scenario}):
        cells, base = [], None
        for target in ["pocketbase", "consailt-normal", "consailt-full"]:
            rows = runs.get((scenario, conns, target), [])
            rps = med(rows, "rps")
            errors = sum(r["errors"] for r in rows)
            cell = f"{rps:,.0f} ({med(rows, 'p50_ms'):.2f}/{med(rows, 'p99_ms'):.2f})" + (f" {errors} errors" if errors else "")
            if target == "pocketbase":
                base = rps
                cells.append(cell)
            else:
                cells.append(cell)
                cells.append(f"{rps / base:.2f}x" if base else "")
        print(f"| {scenario} | {conns} | " + " | ".join(cells) + f" | {targets[scenario]} |")

floor = runs.get(("floor", 1, "floor"), [])
if floor:
    rps = med(floor, "rps")
    ceilings = []
    for scenario in targets:
        base = med(runs.get((scenario, 1, "pocketbase"), []), "rps")
        if not math.isnan(base) and base:  # the scenario ran at one connection
            ceilings.append(f"{scenario} {rps / base:.2f}x")
    print()
    print(f"Loopback floor at one connection (`bench/http_floor.rs`, a server that only answers): "
          f"{rps:,.0f} req/s (p50 {med(floor, 'p50_ms'):.2f} ms). No server answers one connection faster, "
          f"so the most any server could reach against PocketBase there: {', '.join(ceilings)}.")
