#!/usr/bin/env python3
"""The texts of the vector-index benchmark, from the evaluation collections: passages
(sentences, titles included, then windows of two sentences, until COUNT) and queries (every
query of both collections), each written one JSON string per line (the input of
embed-bench). Deterministic: the same collections give the same texts in the same order.

usage: vector_passages.py DATA_DIR COUNT PASSAGES_OUT QUERIES_OUT
"""
import json, re, sys

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
# Cranfield is lower case, with a space before each full stop.
CRANFIELD_SENTENCE_END = re.compile(r"(?<=\s\.)\s+")


def documents(data):
    with open(f"{data}/scifact/corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            yield doc["title"], SENTENCE_END.split(doc["text"])
    with open(f"{data}/cranfield/cran.all.1400", encoding="utf-8") as f:
        for record in re.split(r"(?m)^\.I ", f.read().replace("\r\n", "\n"))[1:]:
            fields = dict(re.findall(r"\n\.([TABW])\n(.*?)(?=\n\.[TABW]\n|\Z)", record, re.S))
            text = " ".join(fields.get("W", "").split())
            yield " ".join(fields.get("T", "").split()), CRANFIELD_SENTENCE_END.split(text)


def queries(data):
    with open(f"{data}/scifact/queries.jsonl", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)["text"]
    with open(f"{data}/cranfield/cran.qry", encoding="utf-8") as f:
        for record in re.split(r"(?m)^\.I ", f.read().replace("\r\n", "\n"))[1:]:
            yield " ".join(record.split("\n.W\n", 1)[-1].split())


def write(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps(text) + "\n")


def main():
    data, count, out, queries_out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    split = []
    for title, sentences in documents(data):
        sentences = [s for s in sentences if len(s.split()) >= 4]
        split.append(([title] if title else []) + sentences)
    passages = [s for doc in split for s in doc]
    passages += [f"{a} {b}" for doc in split for a, b in zip(doc[1:], doc[2:])]
    if len(passages) < count:
        sys.exit(f"only {len(passages)} passages in {data}, {count} asked")
    write(out, passages[:count])
    words = sum(len(p.split()) for p in passages[:count])
    print(f"{count} passages, {words} words -> {out}", file=sys.stderr)
    asked = list(queries(data))
    write(queries_out, asked)
    print(f"{len(asked)} queries -> {queries_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
