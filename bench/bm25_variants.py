#!/usr/bin/env python3
"""Ranking variants of the full-text side, replayed in numpy on the quality collections.

The product's full text scores a plain query as BM25 (k1 1.2, b 0.75, tantivy's IDF) over one
field holding title and body, words split at anything not a letter or digit, lowercased,
accents folded, Porter2 stems, and document lengths encoded in one byte as tantivy stores them.
This script rebuilds that ranking from the collections (nDCG@10 within 0.001 of
`consailt search eval`), then changes one thing at a time: exact lengths, the Porter stemmer,
FTS5's IDF (together: FTS5's own `bm25()`), k1 and b, and a bonus for query words found next
to each other. It reads ../shared/data and needs numpy and snowballstemmer.

    python3 bench/bm25_variants.py [DATA]          # a table, about four minutes
"""
import bisect
import collections
import glob
import json
import math
import re
import sys
import unicodedata

import numpy as np
import snowballstemmer

DATA = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"


def field_norms():
    """tantivy's table of the lengths one byte encodes."""
    path = glob.glob(f"{glob.os.path.expanduser('~')}/.cargo/registry/src/*/tantivy-0.25.0/src/fieldnorm/code.rs")[0]
    table = open(path).read().split("pub const FIELD_NORMS_TABLE")[1]
    return [int(x.replace("_", "")) for x in re.findall(r"^\s+([\d_]+),", table, re.M)]


NORMS = field_norms()


def encoded(length):
    return NORMS[bisect.bisect_right(NORMS, length) - 1]


class Analyzer:
    def __init__(self, algorithm):
        self.stem, self.memory = snowballstemmer.stemmer(algorithm).stemWord, {}

    def __call__(self, text):
        words = []
        for token in re.findall(r"[^\W_]+", text):
            if len(token.encode()) >= 40:
                continue
            word = token.lower()
            if not word.isascii():
                word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
            if word not in self.memory:
                self.memory[word] = self.stem(word)
            words.append(self.memory[word])
        return words


def scifact():
    docs = [json.loads(line) for line in open(f"{DATA}/scifact/corpus.jsonl")]
    texts = [(d["_id"], d["title"], d["text"]) for d in docs]
    queries = {q["_id"]: q["text"] for q in map(json.loads, open(f"{DATA}/scifact/queries.jsonl"))}
    qrels = collections.defaultdict(dict)
    for line in list(open(f"{DATA}/scifact/qrels/train.tsv"))[1:]:
        q, doc, gain = line.split()
        qrels[q][doc] = float(gain)
    return texts, {q: queries[q] for q in qrels}, qrels


def cranfield():
    def records(path):
        out, field = [], None
        for line in open(path):
            if line.startswith(".I"):
                out.append({"I": line.split()[1], "T": "", "W": ""})
                field = None
            elif line.startswith("."):
                field = line[1]
            elif field in ("T", "W"):
                out[-1][field] += line
        return out

    texts = [(r["I"], r["T"], r["W"]) for r in records(f"{DATA}/cranfield/cran.all.1400")]
    queries = {str(i + 1): r["W"] for i, r in enumerate(records(f"{DATA}/cranfield/cran.qry"))}
    qrels = collections.defaultdict(dict)
    for line in open(f"{DATA}/cranfield/cranqrel"):
        q, doc, code = line.split()[:3]
        if 0 < int(code) < 5:
            qrels[q][doc] = float(5 - int(code))
    return texts, queries, qrels


class Collection:
    def __init__(self, texts, queries, qrels, analyzer):
        self.ids = [t[0] for t in texts]
        self.words = [analyzer(t[1]) + analyzer(t[2]) for t in texts]
        self.queries = {q: analyzer(text) for q, text in queries.items()}
        self.qrels = qrels
        self.lengths = np.array([len(w) for w in self.words], dtype=np.float64)
        postings = collections.defaultdict(list)
        for doc, words in enumerate(self.words):
            for word, freq in collections.Counter(words).items():
                postings[word].append((doc, freq))
        self.postings = {w: (np.array([d for d, _ in p]), np.array([f for _, f in p], dtype=np.float64))
                         for w, p in postings.items()}

    def ndcg(self, q, ranked):
        judged = self.qrels[q]
        dcg = sum(judged.get(self.ids[d], 0) / math.log2(r + 2) for r, d in enumerate(ranked[:10]))
        ideal = sorted((g for g in judged.values() if g > 0), reverse=True)
        idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal[:10]))
        return dcg / idcg if idcg else 0.0

    def run(self, k1=1.2, b=0.75, exact=False, fts5_idf=False, proximity=0.0):
        n = len(self.ids)
        lengths = self.lengths if exact else np.array([encoded(int(x)) for x in self.lengths], dtype=np.float64)
        norm = k1 * (1 - b + b * lengths / (self.lengths.sum() / n))
        total = 0.0
        for q, words in self.queries.items():
            scores, idfs = np.zeros(n), {}
            for w in words:
                if w not in self.postings:
                    continue
                docs, freqs = self.postings[w]
                held = len(docs)
                idfs[w] = (max(math.log((n - held + 0.5) / (held + 0.5)), 1e-6) if fts5_idf
                           else math.log(1 + (n - held + 0.5) / (held + 0.5)))
                scores[docs] += idfs[w] * (k1 + 1) * freqs / (freqs + norm[docs])
            ranked = [d for d in np.argsort(-scores, kind="stable")[:100] if scores[d] > 0]
            if proximity:
                pairs = [(x, y) for x, y in zip(words, words[1:]) if x in idfs and y in idfs and x != y]
                bonus = {}
                for d in ranked:
                    at = collections.defaultdict(set)
                    for p, w in enumerate(self.words[d]):
                        at[w].add(p)
                    near = [sum(p + 1 in at[y] for p in at[x]) for x, y in pairs]
                    bonus[d] = sum(min(idfs[x], idfs[y]) * (k1 + 1) * c / (c + norm[d])
                                   for (x, y), c in zip(pairs, near) if c)
                ranked.sort(key=lambda d: -(scores[d] + proximity * bonus[d]))
            total += self.ndcg(q, ranked)
        return total / len(self.queries)


def main():
    variants = [
        ("the product (encoded lengths, Porter2, tantivy's IDF)", "english", {}),
        ("exact lengths", "english", {"exact": True}),
        ("Porter instead of Porter2", "porter", {}),
        ("exact lengths, Porter, FTS5's IDF (FTS5's bm25())", "porter", {"exact": True, "fts5_idf": True}),
        ("k1 1.5, b 0.75 (SciFact's best of k1 0.6-2.0, b 0.3-0.9)", "english", {"k1": 1.5}),
        ("k1 1.2, b 0.6", "english", {"b": 0.6}),
        ("adjacent query words, bonus 0.1 (re-ranks the first 100)", "english", {"proximity": 0.1}),
        ("adjacent query words, bonus 0.4", "english", {"proximity": 0.4}),
    ]
    loaded = {}
    print("| variant | SciFact train nDCG@10 | Cranfield nDCG@10 |\n|---|---|---|")
    for name, algorithm, options in variants:
        row = []
        for label, source in (("scifact", scifact), ("cranfield", cranfield)):
            if (label, algorithm) not in loaded:
                loaded[(label, algorithm)] = Collection(*source(), Analyzer(algorithm))
            row.append(loaded[(label, algorithm)].run(**options))
        print(f"| {name} | {row[0]:.4f} | {row[1]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
