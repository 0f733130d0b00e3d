#!/usr/bin/env python3
"""The client of bench/ask.sh: loads a BEIR corpus through the API, waits until the index has
it, then asks every training query once with `stream: true` and times the first `delta` event
(time to first token) and the `done` event. Standard library only."""
import concurrent.futures
import json
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from api_client import call, connect, percentile, sign_up  # noqa: E402

WARMUP = 20


def main():
    base, data, out, semantic = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    conn = connect(base)
    token = sign_up(conn)

    docs = [json.loads(line) for line in open(f"{data}/corpus.jsonl")]

    def load(chunk):
        c = connect(base)
        for doc in chunk:
            title = (doc.get("title") or doc["_id"]).strip()[:300] or doc["_id"]
            call(c, "POST", "/api/v1/items", token, {"kind": "document", "title": title, "body": doc["text"]})
        c.close()

    started = time.perf_counter()
    chunks = [docs[i::16] for i in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(load, chunks))
    load_seconds = time.perf_counter() - started
    # The index follows the log; wait until the last document is found.
    last = docs[-1]
    probe = urllib.parse.quote((last.get("title") or last["text"])[:80])
    deadline = time.time() + (3600 if semantic else 120)
    while time.time() < deadline:
        found = call(conn, "GET", f"/api/v1/search?q={probe}&mode=fulltext&limit=5", token)
        if found["total"] > 0 and found["data"][0]["title"].startswith((last.get("title") or last["_id"])[:40]):
            break
        time.sleep(0.2)
    if semantic:
        # Hybrid retrieval is only measured once the embedder has caught up: it follows the log
        # in order, so the last document found by meaning means all of them are embedded.
        title = (last.get("title") or last["_id"])[:40]
        while time.time() < deadline:
            reply = call(conn, "GET", f"/api/v1/search?q={probe}&mode=semantic&limit=3", token)
            if any(hit["title"].startswith(title) for hit in reply["data"]):
                break
            time.sleep(5)
        else:
            raise SystemExit("the embedder did not catch up within the hour")

    queries = {}
    for line in open(f"{data}/queries.jsonl"):
        q = json.loads(line)
        queries[q["_id"]] = q["text"]
    train = []
    for line in open(f"{data}/qrels/train.tsv"):
        qid = line.split("\t")[0]
        if qid in queries and qid not in train:
            train.append(qid)

    first, whole, cited = [], [], 0
    for n, qid in enumerate(train):
        body = json.dumps({"question": queries[qid], "stream": True})
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/ask", body=body,
                     headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
        response = conn.getresponse()
        if response.status != 200:
            raise SystemExit(f"ask: HTTP {response.status} {response.read()[:300]!r}")
        ttft = None
        buffer = b""
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            if ttft is None and b"event: delta" in buffer + chunk:
                ttft = time.perf_counter() - t0
            buffer += chunk
        done = time.perf_counter() - t0
        if b"event: done" not in buffer:
            raise SystemExit(f"ask: no done event for query {qid}: {buffer[-300:]!r}")
        cited += b'"citations":[]' not in buffer
        if n >= WARMUP:
            first.append(ttft * 1000)
            whole.append(done * 1000)

    report = {
        "documents": len(docs),
        "load_seconds": round(load_seconds, 2),
        "load_docs_per_second": round(len(docs) / load_seconds, 1),
        "queries": len(first),
        "warmup": WARMUP,
        "retrieval": "hybrid" if semantic else "fulltext (server --no-semantic)",
        "answers_with_citations": cited,
        "ttft_ms": {"p50": round(statistics.median(first), 2), "p95": round(percentile(first, 95), 2),
                    "p99": round(percentile(first, 99), 2), "max": round(max(first), 2)},
        "complete_ms": {"p50": round(statistics.median(whole), 2), "p95": round(percentile(whole, 95), 2)},
    }
    json.dump(report, open(out, "w"), indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
