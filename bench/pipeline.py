#!/usr/bin/env python3
"""The product path end to end next to the Python pipeline people assemble for the same job:
ONNX Runtime embeddings (int8 MiniLM), Chroma for the vectors, SQLite FTS5 for the words and
reciprocal rank fusion. Both sides get the same SciFact documents, cut into the same passages
(the product's rule, search::passages), and the same queries.

prepare CORPUS COUNT DIR        DIR/docs.jsonl (the first COUNT documents) and DIR/passages.jsonl
                                (the texts the product embeds, for embed-bench)
pipeline DIR QUERIES ONNX TOKENIZER
                                the Python pipeline: ingest (embed, add to Chroma, insert into
                                FTS5, committed every 64 documents), then hybrid queries, one
                                client and 8 concurrent clients; writes DIR/pipeline.json
ingest BASE DIR DATABASE QUERIES
                                the product: posts every document through POST /api/v1/items
                                with 8 clients and times until the last one has its vectors
                                (read from the database's item_embeddings), then times hybrid
                                queries one at a time; writes DIR/product.json and the query
                                paths for wrk (DIR/hybrid-paths.txt)
summary DIR                     prints the comparison and writes DIR/summary.json

Run through bench/pipeline.sh.
"""
import concurrent.futures
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_client import call, connect, percentile, sign_up  # noqa: E402

CLIENTS = 8
# What the product fuses: the best 100 of each ranking (search::hybrid::DEPTH, RRF_K).
DEPTH = 100
RRF_K = 60.0
# The product's passages (search::passages): at most 140 words, cut at a sentence end after 90.
MAX_WORDS, MIN_WORDS = 140, 90
# Documents per pipeline commit, as the product's embedder takes 64 events per step.
STEP = 64
SINGLE_QUERIES = 300
CONCURRENT_SECONDS = 10


def passages(body):
    """search::passages::split, in Python."""
    out, start, words = [], None, 0
    for word in re.finditer(r"\S+", body):
        start = word.start() if start is None else start
        words += 1
        if words >= MAX_WORDS or (words >= MIN_WORDS and word.group().endswith((".", "?", "!", ";"))):
            out.append(body[start:word.end()])
            start, words = None, 0
    if start is not None:
        out.append(body[start:].rstrip())
    return out or [""]


def passage_texts(doc):
    """search::passages::text for every passage of a document: the title, then the passage."""
    title = doc["title"].strip()
    return [f"{doc['title']}\n{p}" if title and p else (p or doc["title"]) for p in passages(doc["text"])]


def prepare(corpus, count, out):
    os.makedirs(out, exist_ok=True)
    docs = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            docs.append({"_id": doc["_id"], "title": doc.get("title", "")[:300], "text": doc.get("text", "")})
            if len(docs) == int(count):
                break
    with open(f"{out}/docs.jsonl", "w") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    with open(f"{out}/passages.jsonl", "w") as f:
        f.writelines(json.dumps(t) + "\n" for d in docs for t in passage_texts(d))


def fts5_match(text):
    """Any of the query's words, each quoted so that FTS5's operators cannot trip it."""
    return " OR ".join(f'"{w}"' for w in re.findall(r"\w+", text.lower())) or '""'


def rrf(*rankings):
    scores = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(scores, key=scores.get, reverse=True)


def pipeline(out, queries_path, onnx_path, tokenizer_path):
    import chromadb
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from embeddings import MAX_TOKENS, pool, run

    docs = [json.loads(line) for line in open(f"{out}/docs.jsonl", encoding="utf-8")]
    queries = [json.loads(line)["text"] for line in open(queries_path, encoding="utf-8")]
    tokenizer = Tokenizer.from_file(tokenizer_path)
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count()
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    def forward(ids, mask):
        return session.run(["last_hidden_state"], {
            "input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]

    def embed_query(text):
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        return pool(forward(ids, mask), mask)[0]

    scratch = tempfile.mkdtemp(prefix="pipeline-", dir=out)
    client = chromadb.PersistentClient(path=f"{scratch}/chroma")
    collection = client.create_collection("passages", metadata={"hnsw:space": "ip"})
    db_path = f"{scratch}/fts.db"
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize='porter')")
    embed_query("warm up")

    started = time.perf_counter()
    tokens = 0
    for first in range(0, len(docs), STEP):
        step = docs[first:first + STEP]
        ids, metadatas, texts = [], [], []
        for doc in step:
            for number, text in enumerate(passage_texts(doc)):
                ids.append(f"{doc['_id']}#{number}")
                metadatas.append({"doc": doc["_id"]})
                texts.append(text)
        encodings = [e.ids for e in tokenizer.encode_batch(texts)]
        tokens += sum(len(e) for e in encodings)
        vectors, _ = run(encodings, forward)
        collection.add(ids=ids, embeddings=vectors, metadatas=metadatas)
        with db:
            db.executemany("INSERT INTO docs (id, title, body) VALUES (?, ?, ?)",
                           ((d["_id"], d["title"], d["text"]) for d in step))
    ingest_seconds = time.perf_counter() - started

    local = threading.local()

    def search(text):
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(db_path, check_same_thread=False)
        vector = embed_query(text)
        near = collection.query(query_embeddings=[vector], n_results=DEPTH, include=["metadatas"])
        semantic = list(dict.fromkeys(m["doc"] for m in near["metadatas"][0]))
        words = [row[0] for row in local.db.execute(
            "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (fts5_match(text), DEPTH))]
        top = rrf(words, semantic)[:10]
        marks = ",".join("?" * len(top))
        return local.db.execute(f"SELECT id, title FROM docs WHERE id IN ({marks})", top).fetchall()

    single = timed_one_at_a_time(search, queries)
    concurrent = concurrent_rate(search, queries)
    report = {
        "engine": f"onnxruntime {ort.__version__} int8 + chromadb {chromadb.__version__} + SQLite {sqlite3.sqlite_version} FTS5 + RRF",
        "documents": len(docs), "passages": collection.count(), "tokens": tokens,
        "ingest_seconds": ingest_seconds, "ingest_docs_per_second": len(docs) / ingest_seconds,
        "hybrid_one_client": single, "hybrid_concurrent": concurrent,
    }
    write(f"{out}/pipeline.json", report)


def timed_one_at_a_time(search, queries):
    for text in queries[:20]:
        search(text)
    latencies = []
    for text in queries[:SINGLE_QUERIES]:
        began = time.perf_counter()
        search(text)
        latencies.append((time.perf_counter() - began) * 1e3)
    return {"queries": len(latencies), "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99)}


def concurrent_rate(search, queries):
    """Queries per second of CLIENTS threads, each searching one query after another."""
    deadline = time.perf_counter() + CONCURRENT_SECONDS
    done = [0] * CLIENTS

    def client(number):
        i = number
        while time.perf_counter() < deadline:
            search(queries[i % len(queries)])
            done[number] += 1
            i += CLIENTS

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    return {"clients": CLIENTS, "queries_per_second": sum(done) / (time.perf_counter() - began)}


def ingest(base, out, database, queries_path):
    docs = [json.loads(line) for line in open(f"{out}/docs.jsonl", encoding="utf-8")]
    queries = [json.loads(line)["text"] for line in open(queries_path, encoding="utf-8")]
    conn = connect(base)
    token = sign_up(conn)
    key = call(conn, "POST", "/api/v1/api-keys", token, {"name": "bench", "role": "consultant"})["secret"]
    embedded = sqlite3.connect(f"file:{database}?mode=ro", uri=True)

    def with_vectors():
        return embedded.execute("SELECT count(*) FROM item_embeddings").fetchone()[0]

    def post(chunk):
        c = connect(base)
        for doc in chunk:
            call(c, "POST", "/api/v1/items", key, {"kind": "document", "title": doc["title"], "body": doc["text"]})
        c.close()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(post, [docs[i::CLIENTS] for i in range(CLIENTS)]))
    acknowledged = time.perf_counter() - started
    while with_vectors() < len(docs):
        time.sleep(0.05)
    ingest_seconds = time.perf_counter() - started

    paths = [f"/api/v1/search?mode=hybrid&limit=10&q={urllib.parse.quote(q[:1000])}" for q in queries]

    def search(path):
        answer = call(conn, "GET", path, key)
        if answer["mode"] != "hybrid":
            raise SystemExit(f"the product answered in {answer['mode']} mode: semantic search is off")

    single = timed_one_at_a_time(search, paths)
    with open(f"{out}/hybrid-paths.txt", "w") as f:
        f.writelines(p + "\n" for p in paths)
    with open(f"{out}/api-key", "w") as f:
        f.write(key)
    write(f"{out}/product.json", {
        "documents": len(docs), "clients": CLIENTS, "acknowledged_seconds": acknowledged,
        "ingest_seconds": ingest_seconds, "ingest_docs_per_second": len(docs) / ingest_seconds,
        "hybrid_one_client": single,
    })


def summary(out):
    product = json.load(open(f"{out}/product.json"))
    baseline = json.load(open(f"{out}/pipeline.json"))
    pure = json.load(open(f"{out}/embed.json"))
    concurrent = json.load(open(f"{out}/wrk.json"))
    pure_docs = product["documents"] / pure["seconds"]
    ours_qps = concurrent["rps"]
    report = {
        "documents": product["documents"], "passages": baseline["passages"], "tokens": pure["tokens"],
        "product": {**product, "hybrid_concurrent": {"clients": CLIENTS, "queries_per_second": ours_qps,
                                                      "errors": concurrent["errors"]}},
        "pipeline": baseline,
        "pure_embedding": {"engine": pure["engine"], "seconds": pure["seconds"], "docs_per_second": pure_docs},
        "ratios": {
            "ingest_vs_pipeline": product["ingest_docs_per_second"] / baseline["ingest_docs_per_second"],
            "ingest_vs_pure_embedding": product["ingest_docs_per_second"] / pure_docs,
            "concurrent_qps_vs_pipeline": ours_qps / baseline["hybrid_concurrent"]["queries_per_second"],
        },
    }
    write(f"{out}/summary.json", report)
    r, p, b = report["ratios"], product, baseline
    print(f"{report['documents']} documents, {report['passages']} passages, {report['tokens']} tokens")
    print(f"ingest: product {p['ingest_docs_per_second']:.1f} docs/s, pipeline {b['ingest_docs_per_second']:.1f}: "
          f"{r['ingest_vs_pipeline']:.2f}x (target >= 1.5x); {r['ingest_vs_pure_embedding']:.0%} of pure embedding "
          f"({pure_docs:.1f} docs/s; target >= 90%)")
    print(f"hybrid query, one client: product p50 {p['hybrid_one_client']['p50_ms']:.2f} ms (target <= 15 ms), "
          f"pipeline p50 {b['hybrid_one_client']['p50_ms']:.2f} ms")
    print(f"hybrid queries/s at {CLIENTS} clients: product {ours_qps:.1f}, pipeline "
          f"{b['hybrid_concurrent']['queries_per_second']:.1f}: {r['concurrent_qps_vs_pipeline']:.2f}x (target >= 3x)")


def write(path, report):
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"prepare": prepare, "pipeline": pipeline, "ingest": ingest, "summary": summary}[command](*args)
