"""Bulk-add throughput and search latency of plaintext retrieval at 10k and 100k notes.

    python bench/retrieval_speed.py [--embed 2000] [--sizes 10000 100000] [--queries 200]
                                    [--torch-threads N]

Texts are turns from bench/retrieval_data.py (several seeds). Throughput is measured on
`--embed` unique texts, end to end: embedding (memos.embedder.Embedder, CPU), attribute
extraction and HybridRetriever.add. Indexes larger than that reuse the embedded texts with
synthesised vectors (the embedded ones plus small Gaussian noise, renormalised); the output
says how many of each. Latency is per query: VectorIndex.search alone, HybridRetriever.search
with a precomputed query vector (wall, and CPU time of the searching thread, which other
processes on a shared machine disturb less), and the same including embedding the query.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime

import faiss
import numpy as np
import torch
from retrieval_data import generate

from memcube.hybrid import HybridRetriever, Note
from memcube.keywords import extract_attributes, extract_entities
from memos.embedder import Embedder


def corpus_texts(count: int) -> tuple[list[str], list[datetime], list[str]]:
    """At least `count` turn texts with event times, and every question text, from many seeds."""
    texts, times, questions = [], [], []
    seed = 0
    while len(texts) < count:
        data = generate(seed=seed)
        texts += [turn.note_text for turn in data.turns]
        times += [datetime(t.date.year, t.date.month, t.date.day) for t in data.turns]
        questions += [question.text for question in data.questions]
        seed += 1
    return texts[:count], times[:count], questions


def make_notes(ids, texts, times, vectors) -> list[Note]:
    """Notes with the attributes memos derives from text."""
    notes = []
    for id_, text, when, vector in zip(ids, texts, times, vectors, strict=True):
        attributes = extract_attributes(text)
        notes.append(Note(id_, text, vector, when, {}, attributes.keywords,
                          extract_entities(text), attributes.tags))
    return notes


def bulk_add(embedder: Embedder, texts, times) -> tuple[HybridRetriever, np.ndarray, dict]:
    """Embed and index `texts` in batches of 1,000, timing each stage."""
    retriever = HybridRetriever(embedder.dim)
    spent = {"embed": 0.0, "attributes": 0.0, "index": 0.0}
    vectors = []
    for start in range(0, len(texts), 1000):
        chunk = slice(start, start + 1000)
        began = time.perf_counter()
        batch = embedder.embed(texts[chunk])
        spent["embed"] += time.perf_counter() - began
        began = time.perf_counter()
        ids = [f"n{i}" for i in range(start, start + len(batch))]
        notes = make_notes(ids, texts[chunk], times[chunk], batch)
        spent["attributes"] += time.perf_counter() - began
        began = time.perf_counter()
        retriever.add(notes)
        spent["index"] += time.perf_counter() - began
        vectors.append(batch)
    return retriever, np.concatenate(vectors), spent


def synthesise(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` vectors near the embedded ones (noise σ=0.02 per dimension), unit length."""
    picks = vectors[np.arange(count) % len(vectors)]
    noisy = picks + rng.normal(0.0, 0.02, picks.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


def grow(retriever: HybridRetriever, texts, times, vectors, target: int, rng) -> float:
    """Add synthesised notes until the retriever holds `target`; seconds spent indexing."""
    have = len(retriever)
    extra = target - have
    if extra <= 0:
        return 0.0
    rows = np.arange(have, target) % len(texts)
    new_vectors = synthesise(vectors, extra, rng)
    notes = make_notes([f"n{i}" for i in range(have, target)], [texts[r] for r in rows],
                       [times[r] for r in rows], new_vectors)
    began = time.perf_counter()
    retriever.add(notes)
    return time.perf_counter() - began


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return f"{np.percentile(ms, 50):.2f} / {np.percentile(ms, 99):.2f}"


def latency(retriever: HybridRetriever, embedder: Embedder, questions, vectors) -> dict[str, str]:
    """p50 / p99 milliseconds (wall, and CPU of this thread) of the three search paths."""
    retriever.search(questions[0], vectors[0], 10)  # lazy BM25 rebuild happens here, once
    count = len(questions)
    dense, _ = timings(lambda i: retriever.vector_index.search(vectors[i], 10), count)
    hybrid, hybrid_cpu = timings(lambda i: retriever.search(questions[i], vectors[i], 10), count)
    embedded, _ = timings(
        lambda i: retriever.search(questions[i], embedder.embed_one(questions[i]), 10), count
    )
    return {"dense": percentiles(dense), "hybrid": percentiles(hybrid),
            "hybrid_cpu": percentiles(hybrid_cpu), "embedded": percentiles(embedded)}


def timings(call, count: int) -> tuple[list[float], list[float]]:
    """Wall and thread-CPU seconds of call(0) … call(count - 1)."""
    wall, cpu = [], []
    for i in range(count):
        began, cpu_began = time.perf_counter(), time.thread_time()
        call(i)
        wall.append(time.perf_counter() - began)
        cpu.append(time.thread_time() - cpu_began)
    return wall, cpu


def main() -> None:
    """Run the throughput and latency measurements and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed", type=int, default=2000, help="unique texts to embed")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads for embedding (0: torch's default)")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    rng = np.random.default_rng(0)
    texts, times, questions = corpus_texts(args.embed)
    questions = questions[: args.queries]
    faiss.omp_set_num_threads(1)  # one query at a time: OpenMP only adds wake-up latency
    embedder = Embedder.load(device="cpu")
    print(f"torch threads: {torch.get_num_threads()}; embedder: {embedder.name}; "
          f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    began, cpu_began = time.perf_counter(), time.process_time()
    retriever, vectors, spent = bulk_add(embedder, texts, times)
    total, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    print(f"bulk add of {len(texts)} embedded notes: {len(texts) / total:.0f} notes/s wall "
          f"(embed {spent['embed']:.1f} s, attributes {spent['attributes']:.1f} s, "
          f"index {spent['index']:.1f} s, total {total:.1f} s); "
          f"process CPU {cpu:.1f} s = {len(texts) / cpu:.0f} notes per CPU-second")
    query_vectors = embedder.embed(questions)
    print("| notes | embedded / synthesised | index | build s | VectorIndex p50/p99 ms "
          "| hybrid p50/p99 ms | hybrid CPU p50/p99 ms | hybrid + query embedding p50/p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for size in sorted(args.sizes):
        build = grow(retriever, texts, times, vectors, size, rng)
        row = latency(retriever, embedder, questions, query_vectors)
        mode = "HNSW" if retriever.vector_index.is_hnsw else "flat"
        real = min(size, len(texts))
        print(f"| {size:,} | {real:,} / {size - real:,} | {mode} | {build:.1f} | {row['dense']} "
              f"| {row['hybrid']} | {row['hybrid_cpu']} | {row['embedded']} |", flush=True)


if __name__ == "__main__":
    main()
