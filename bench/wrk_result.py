"""Turns one wrk --latency report into a JSON line: rep, scenario, target, connections,
requests per second, p50 and p99 latency in milliseconds, and non-2xx/3xx responses."""
import json
import re
import sys

rep, scenario, target, connections, path = sys.argv[1:6]
text = open(path).read()


def millis(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(json.dumps({
    "rep": int(rep),
    "scenario": scenario,
    "target": target,
    "connections": int(connections),
    "rps": float(rps.group(1)) if rps else 0.0,
    "p50_ms": millis(p50.group(1)) if p50 else None,
    "p99_ms": millis(p99.group(1)) if p99 else None,
    "errors": int(errors.group(1)) if errors else 0,
}))
