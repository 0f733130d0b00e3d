#!/usr/bin/env python3
"""The generated documents of the full-text benchmark: COUNT documents made of real sentences
of the evaluation collections (SciFact and Cranfield), each a title (the first words of one
sentence) and a body of 3 to 9 sentences drawn at random with a fixed seed, written as BEIR
corpus lines (`{"_id", "title", "text"}`). Deterministic.

usage: fulltext_docs.py DATA_DIR COUNT OUT
"""
import json, random, sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from vector_passages import documents  # noqa: E402


def main():
    data, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    pool = [s for _, sentences in documents(data) for s in sentences if len(s.split()) >= 4]
    rng = random.Random(7)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(count):
            title = " ".join(rng.choice(pool).split()[:12])
            body = " ".join(rng.choice(pool) for _ in range(rng.randint(3, 9)))
            f.write(json.dumps({"_id": f"g{i}", "title": title, "text": body}) + "\n")
    print(f"{count} documents from {len(pool)} sentences -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
