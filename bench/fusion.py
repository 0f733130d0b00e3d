#!/usr/bin/env python3
"""Fusion methods compared on one collection's full-text and semantic rankings, as
`consailt search eval --runs DIR` writes them (TREC run files, the first 100 per query with
scores): reciprocal rank fusion over a grid of k and full-text weights, and weighted sums
of scores scaled three ways (min-max, share of the list's best, z-score). Prints nDCG@10
for each, then 2-fold cross-validation per family (20 random halvings; the setting is
chosen on one half and measured on the other), which says how much of a family's best is
fitted noise.

usage: fusion.py QRELS RUNS_DIR
"""
import collections, math, random, statistics, sys


def qrels(path):
    """As `consailt search eval` reads them: a BEIR TSV with a header (the score is the gain)
    or SMART lines `query doc code` (Cranfield: code 1 best to 4, gain 5 - code)."""
    judged = collections.defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    beir = bool(lines) and "\t" in lines[0]
    for n, line in enumerate(lines):
        columns = line.split()
        if not columns or (beir and n == 0 and columns[0] == "query-id"):
            continue
        query, doc, grade = columns
        grade = float(grade)
        judged[query][doc] = grade if beir else (5 - grade if 1 <= grade <= 4 else 0.0)
    return judged


def run(path):
    ranked = collections.defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            query, _, doc, _, score, _ = line.split()
            ranked[query].append((doc, float(score)))
    return ranked


def ndcg10(ranking, judged):
    """Linear gains, log2 discount, as `search::eval::Measures`."""
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted(judged.values(), reverse=True)[:10]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def ranked(scores):
    return [doc for doc, _ in sorted(scores.items(), key=lambda t: (-t[1], t[0]))]


def rrf(fulltext, semantic, k, weight):
    scores = collections.defaultdict(float)
    for rank, (doc, _) in enumerate(fulltext):
        scores[doc] += weight / (k + rank + 1)
    for rank, (doc, _) in enumerate(semantic):
        scores[doc] += 1 / (k + rank + 1)
    return ranked(scores)


def min_max(hits):
    if not hits:
        return []
    hi, lo = max(s for _, s in hits), min(s for _, s in hits)
    return [(d, (s - lo) / (hi - lo) if hi > lo else 1.0) for d, s in hits]


def share_of_best(hits):
    best = max((s for _, s in hits), default=0.0)
    return [(d, s / best if best > 0 else 0.0) for d, s in hits]


def z_score(hits):
    if len(hits) < 2:
        return [(d, 1.0) for d, _ in hits]
    mean, sd = statistics.mean(s for _, s in hits), statistics.pstdev(s for _, s in hits) or 1.0
    return [(d, (s - mean) / sd) for d, s in hits]


def weighted(fulltext, semantic, scale, alpha):
    scores = collections.defaultdict(float)
    for doc, s in scale(fulltext):
        scores[doc] += alpha * s
    for doc, s in scale(semantic):
        scores[doc] += (1 - alpha) * s
    return ranked(scores)


def main():
    judged, fulltext, semantic = qrels(sys.argv[1]), run(f"{sys.argv[2]}/fulltext.run"), run(f"{sys.argv[2]}/semantic.run")
    queries = sorted(judged)
    settings = {}
    for k in (2, 5, 10, 20, 40, 60):
        for w in (0.7, 1.0, 1.3, 1.6):
            settings[("rrf", k, w)] = lambda f, s, k=k, w=w: rrf(f, s, k, w)
    alphas = [round(0.1 + 0.025 * i, 3) for i in range(29)]
    for name, scale in (("min-max", min_max), ("share of best", share_of_best), ("z-score", z_score)):
        for a in alphas:
            settings[(name, a)] = lambda f, s, scale=scale, a=a: weighted(f, s, scale, a)
    per_query = {
        key: {q: ndcg10(fuse(fulltext.get(q, []), semantic.get(q, [])), judged[q]) for q in queries}
        for key, fuse in settings.items()
    }
    mean = lambda key, qs: sum(per_query[key][q] for q in qs) / len(qs)
    print(f"{len(queries)} queries; full text {sum(ndcg10([d for d, _ in fulltext.get(q, [])], judged[q]) for q in queries) / len(queries):.4f}, "
          f"semantic {sum(ndcg10([d for d, _ in semantic.get(q, [])], judged[q]) for q in queries) / len(queries):.4f}")
    for family in ("rrf", "min-max", "share of best", "z-score"):
        keys = [key for key in settings if key[0] == family]
        best = max(keys, key=lambda key: mean(key, queries))
        rng, held_out = random.Random(1), []
        for _ in range(20):
            shuffled = queries[:]
            rng.shuffle(shuffled)
            halves = (shuffled[: len(shuffled) // 2], shuffled[len(shuffled) // 2 :])
            for fit, test in (halves, halves[::-1]):
                chosen = max(keys, key=lambda key: mean(key, fit))
                held_out.append(mean(chosen, test))
        print(f"{family:<14} best {best[1:]} {mean(best, queries):.4f}; cross-validated {statistics.mean(held_out):.4f}")
        if family == "rrf":
            print(f"{'':<14} k = 60, weight 1: {mean(('rrf', 60, 1.0), queries):.4f}")


if __name__ == "__main__":
    main()
