#!/usr/bin/env python3
"""Full-text speed: the product's index and SQLite FTS5 (both in one Rust process, through
fulltext-bench) next to the `tantivy` Python package (the same engine, as a ceiling), over the
same documents and queries. Each side indexes every document, then answers every query one at
a time for its top 10. Prints and writes one JSON object.

Run through bench/fulltext.sh.
"""
import argparse, json, re, subprocess, time

import tantivy


def run_tantivy(docs_path, queries):
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="en_stem")
    builder.add_text_field("body", tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    docs = [json.loads(line) for line in open(docs_path, encoding="utf-8")]
    start = time.perf_counter()
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for doc in docs:
        writer.add_document(tantivy.Document(id=doc["_id"], title=doc["title"], body=doc["text"]))
    writer.commit()
    writer.wait_merging_threads()
    seconds = time.perf_counter() - start
    index.reload()
    searcher = index.searcher()

    def search(text):
        words = [w.lower() for w in re.split(r"\W+", text) if w]
        if not words:
            return 0
        query = index.parse_query(" ".join(words), ["title", "body"])
        return len(searcher.search(query, 10).hits)

    for q in queries[:100]:
        search(q)
    latencies, hits = [], 0
    for q in queries:
        begun = time.perf_counter()
        hits += search(q)
        latencies.append((time.perf_counter() - begun) * 1e3)
    latencies.sort()
    at = lambda p: latencies[int((len(latencies) - 1) * p)]
    return {"engine": f"tantivy-py {tantivy.__version__}", "index_seconds": seconds, "docs_per_second": len(docs) / seconds,
            "ranked_top10": {"p50_ms": at(0.5), "p99_ms": at(0.99), "mean_hits": hits / len(queries)}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", required=True, action="append", help="NAME=PATH, repeatable")
    parser.add_argument("--queries", required=True)
    parser.add_argument("--fulltext-bench", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    queries = [json.loads(line) for line in open(args.queries, encoding="utf-8")]
    result = {}
    for named in args.docs:
        name, path = named.split("=", 1)
        ours = json.loads(subprocess.run([args.fulltext_bench, "--docs", path, "--queries", args.queries],
                                         check=True, capture_output=True, text=True).stdout)
        ours["tantivy_py"] = run_tantivy(path, queries)
        c, f, t = ours["consailt"], ours["fts5"], ours["tantivy_py"]
        ours["ratios"] = {
            "ranked_p50_vs_fts5": f["ranked_top10"]["p50_ms"] / c["ranked_top10"]["p50_ms"],
            "ranked_p50_vs_tantivy_py": t["ranked_top10"]["p50_ms"] / c["ranked_top10"]["p50_ms"],
            "indexing_vs_fts5": c["docs_per_second"] / f["docs_per_second"],
        }
        result[name] = ours
    text = json.dumps(result, indent=2)
    print(text)
    with open(args.out, "w") as out:
        out.write(text + "\n")


if __name__ == "__main__":
    main()
