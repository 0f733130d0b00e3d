#!/usr/bin/env python3
"""The vector index next to Chroma and faiss HNSW, over the same real MiniLM vectors (at
least 100,000 passages of the evaluation collections, cached by bench/vectors.sh) and the
same queries (every query of SciFact and Cranfield, embedded the same way).

All three answer the same three kinds of top-10 queries, one at a time on one thread:
unfiltered, filtered to one engagement (10% of the passages) and filtered to a tag (1%).
Recall@10 is against the exact answer computed here with numpy. HNSW parameters are the same
everywhere: 16 links per node, 128 candidates while building, 64 while searching. Chroma
runs in process (EphemeralClient), with metadata for the filters. Prints and writes one JSON
object.

Run through bench/vectors.sh.
"""
import argparse, json, os, subprocess, sys, tempfile, time

import numpy as np

DIMENSIONS = 384
ENGAGEMENTS = 10
FILTER_ENGAGEMENT = 3
M, EF_CONSTRUCTION, EF_SEARCH = 16, 128, 64


def exact_top10(vectors, queries, mask=None):
    """[[row, similarity] x 10] per query, over the rows `mask` keeps."""
    rows = np.arange(len(vectors)) if mask is None else np.flatnonzero(mask)
    sims = queries @ vectors[rows].T
    top = np.argsort(-sims, axis=1)[:, :10]
    return [[[int(rows[j]), float(sims[q, j])] for j in top[q]] for q in range(len(queries))]


def recall(found, truth):
    hits = sum(len(set(f) & {row for row, _ in t}) for f, t in zip(found, truth))
    return hits / sum(len(t) for t in truth)


def percentiles(latencies):
    latencies = sorted(latencies)
    at = lambda q: latencies[int((len(latencies) - 1) * q)]
    return {"p50_ms": at(0.5) * 1e3, "p99_ms": at(0.99) * 1e3}


def timed(queries, search):
    for q in queries[:50]:
        search(q)  # warm-up
    found, latencies = [], []
    for q in queries:
        start = time.perf_counter()
        found.append(search(q))
        latencies.append(time.perf_counter() - start)
    return found, latencies


def run_chroma(vectors, queries, truth, engagement, tagged):
    import chromadb

    client = chromadb.EphemeralClient()
    collection = client.create_collection(
        "bench",
        metadata={"hnsw:space": "ip", "hnsw:M": M, "hnsw:construction_ef": EF_CONSTRUCTION, "hnsw:search_ef": EF_SEARCH},
    )
    ids = [str(i) for i in range(len(vectors))]
    metadatas = [{"engagement": f"e{int(e)}", "tag": "t" if t else "-"} for e, t in zip(engagement, tagged)]
    batch = client.get_max_batch_size()
    start = time.perf_counter()
    for i in range(0, len(vectors), batch):
        collection.add(ids=ids[i:i + batch], embeddings=vectors[i:i + batch], metadatas=metadatas[i:i + batch])
    build = time.perf_counter() - start
    out = {"engine": f"chromadb {chromadb.__version__} (in process)", "build_seconds": build}
    for name, where in [("unfiltered", None), ("engagement", {"engagement": f"e{FILTER_ENGAGEMENT}"}), ("tag", {"tag": "t"})]:
        def search(q, where=where):
            reply = collection.query(query_embeddings=[q], n_results=10, where=where, include=[])
            return [int(i) for i in reply["ids"][0]]
        found, latencies = timed(queries, search)
        out[name] = {**percentiles(latencies), "recall_at_10": recall(found, truth[name])}
    return out


def run_faiss(vectors, queries, truth, engagement, tagged):
    import faiss

    index = faiss.IndexHNSWFlat(DIMENSIONS, M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    start = time.perf_counter()
    index.add(vectors)
    build = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    out = {"engine": f"faiss-cpu {faiss.__version__} IndexHNSWFlat", "build_seconds": build}
    selectors = {
        "unfiltered": None,
        "engagement": faiss.IDSelectorBatch(np.flatnonzero(engagement == FILTER_ENGAGEMENT).astype("int64")),
        "tag": faiss.IDSelectorBatch(np.flatnonzero(tagged).astype("int64")),
    }
    for name, selector in selectors.items():
        params = faiss.SearchParametersHNSW(efSearch=EF_SEARCH, sel=selector) if selector else faiss.SearchParametersHNSW(efSearch=EF_SEARCH)
        def search(q, params=params):
            _, found = index.search(q[None, :], 10, params=params)
            return [int(i) for i in found[0] if i >= 0]
        found, latencies = timed(queries, search)
        out[name] = {**percentiles(latencies), "recall_at_10": recall(found, truth[name])}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vectors", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--vector-bench", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    vectors = np.fromfile(args.vectors, dtype="<f4").reshape(-1, DIMENSIONS)
    queries = np.fromfile(args.queries, dtype="<f4").reshape(-1, DIMENSIONS)
    rows = np.arange(len(vectors))
    engagement, tagged = rows % ENGAGEMENTS, rows % 100 == 7
    truth = {
        "unfiltered": exact_top10(vectors, queries),
        "engagement": exact_top10(vectors, queries, engagement == FILTER_ENGAGEMENT),
        "tag": exact_top10(vectors, queries, tagged),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(truth, f)
    ours = json.loads(subprocess.run([args.vector_bench, "--vectors", args.vectors, "--queries", args.queries, "--truth", f.name],
                                     check=True, capture_output=True, text=True).stdout)
    os.unlink(f.name)
    result = {"passages": len(vectors), "queries": len(queries), "consailt": ours,
              "chroma": run_chroma(vectors, queries, truth, engagement, tagged),
              "faiss": run_faiss(vectors, queries, truth, engagement, tagged)}
    c, ch = ours, result["chroma"]
    result["ratios"] = {
        "build_vs_chroma": ch["build_seconds"] / c["build_seconds"],
        "engagement_filtered_p50_vs_chroma": ch["engagement"]["p50_ms"] / c["engagement"]["p50_ms"],
        "tag_filtered_p50_vs_chroma": ch["tag"]["p50_ms"] / c["tag"]["p50_ms"],
    }
    text = json.dumps(result, indent=2)
    print(text)
    with open(args.out, "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
