#!/usr/bin/env python3
"""The client of bench/search_http.sh (standard library only).

load BASE DOCS QUERIES OUT: signs up, creates an API key, loads DOCS through POST /api/v1/items
with 16 clients, times until the last one is searchable, indexes the same documents into an
in-memory SQLite FTS5 table (Porter tokenizer, one transaction) for the same-run baseline,
measures write-to-searchable for 200 single writes, and writes the query paths for wrk.
summary OUT: prints the results as a table.
"""
import concurrent.futures
import json
import re
import sqlite3
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from api_client import call, connect, percentile, sign_up  # noqa: E402

CLIENTS = 16
PROBES = 200


def searchable(conn, token, words):
    q = urllib.parse.quote(f'"{words}"')
    return call(conn, "GET", f"/api/v1/search?q={q}&mode=fulltext&limit=1", token)["total"] > 0


def load(base, docs_path, queries_path, out):
    conn = connect(base)
    token = sign_up(conn)
    key = call(conn, "POST", "/api/v1/api-keys", token, {"name": "bench", "role": "consultant"})["secret"]
    docs = [json.loads(line) for line in open(docs_path)]

    def load_chunk(chunk):
        c = connect(base)
        for doc in chunk:
            call(c, "POST", "/api/v1/items", key, {"kind": "document", "title": doc["title"][:300], "body": doc["text"]})
        c.close()

    # The last document carries a marker word, so "searchable" means the whole load is indexed.
    marker = "zqxjmarker"
    docs[-1] = dict(docs[-1], title=docs[-1]["title"] + " " + marker)
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(load_chunk, [docs[:-1][i::CLIENTS] for i in range(CLIENTS)]))
    load_chunk([docs[-1]])
    acknowledged = time.perf_counter() - started
    while not searchable(conn, key, marker):
        time.sleep(0.01)
    indexed = time.perf_counter() - started

    fts_started = time.perf_counter()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter')")
    with db:
        db.executemany("INSERT INTO docs (title, body) VALUES (?, ?)", ((d["title"], d["text"]) for d in docs))
    fts_seconds = time.perf_counter() - fts_started

    # Write-to-searchable: one write at a time, then search until it is found.
    latencies = []
    for i in range(PROBES):
        word = f"probe{i}x{int(time.time() * 1000) % 100000}"
        t0 = time.perf_counter()
        call(conn, "POST", "/api/v1/items", key, {"kind": "note", "title": f"Probe {word}", "body": "A probe."})
        while not searchable(conn, key, word):
            time.sleep(0.005)
        latencies.append((time.perf_counter() - t0) * 1000)

    claims = [json.loads(line)["text"] for line in open(queries_path)]
    words = lambda text: re.findall(r"[A-Za-z]{4,}", text)
    short = [" ".join(words(c)[: 1 + i % 3]) for i, c in enumerate(claims) if words(c)]
    with open(f"{out}/short-paths.txt", "w") as f:
        f.writelines(f"/api/v1/search?mode=fulltext&limit=10&q={urllib.parse.quote(q)}\n" for q in short)
    with open(f"{out}/long-paths.txt", "w") as f:
        f.writelines(f"/api/v1/search?mode=fulltext&limit=10&q={urllib.parse.quote(c[:1000])}\n" for c in claims)
    with open(f"{out}/api-key", "w") as f:
        f.write(key)
    report = {
        "documents": len(docs),
        "clients": CLIENTS,
        "acknowledged_docs_per_second": round(len(docs) / acknowledged, 1),
        "searchable_docs_per_second": round(len(docs) / indexed, 1),
        "fts5_docs_per_second": round(len(docs) / fts_seconds, 1),
        "write_to_searchable_ms": {"p50": round(statistics.median(latencies), 1),
                                   "p95": round(percentile(latencies, 95), 1),
                                   "max": round(max(latencies), 1), "probes": PROBES},
    }
    json.dump(report, open(f"{out}/load.json", "w"), indent=2)
    print(json.dumps(report, indent=2))


def summary(out):
    load_report = json.load(open(f"{out}/load.json"))
    rows = [json.loads(line) for line in open(f"{out}/results.jsonl")]
    ratio = load_report["searchable_docs_per_second"] / load_report["fts5_docs_per_second"]
    print(f"documents: {load_report['documents']}")
    print(f"searchable through the API: {load_report['searchable_docs_per_second']:.0f} docs/s "
          f"(acknowledged {load_report['acknowledged_docs_per_second']:.0f}); FTS5 in process "
          f"{load_report['fts5_docs_per_second']:.0f} docs/s; ratio {ratio:.2f}x (target >= 1.5x)")
    w = load_report["write_to_searchable_ms"]
    print(f"write-to-searchable p50 {w['p50']} ms, p95 {w['p95']} ms (target p95 <= 1000 ms)")
    for r in rows:
        print(f"{r['scenario']}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
              f"errors {r['errors']} (target p50 <= 1 ms, p99 <= 5 ms)")


if __name__ == "__main__":
    {"load": lambda: load(*sys.argv[2:6]), "summary": lambda: summary(sys.argv[2])}[sys.argv[1]]()
