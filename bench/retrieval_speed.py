"""Bulk-add throughput and search latency of plaintext retrieval at 10k and 100k notes.

    python bench/retrieval_speed.py [--embed 2000] [--sizes 10000 100000] [--queries 200]
                                    [--torch-threads N] [--against TREE] [--json PATH]

Texts are turns from bench/retrieval_data.py (several seeds). Throughput is measured on
`--embed` unique texts, end to end through `MemCube.add_many` in batches of `--batch`
(embedding, attributes, SQLite rows and history, duplicate check, indexing, linking and tag
evolution), next to embedding alone as the baseline in the same run. The latency indexes are
built with HybridRetriever.add. Indexes larger than that reuse the embedded texts with
synthesised vectors (the embedded ones plus small Gaussian noise, renormalised); the output
says how many of each. Latency is per query: VectorIndex.search alone, HybridRetriever.search
with a precomputed query vector (wall, and CPU time of the searching thread, which other
processes on a shared machine disturb less), and the same including embedding the query.

``--against TREE`` first runs the same measurements with the memos code of another checkout
(this script, with TREE first on PYTHONPATH; for example a worktree of main) and prints its
numbers next to this tree's, one run after the other.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import torch
from retrieval_data import generate

from memcube.entities import EntityExtractor, Extraction
from memcube.hybrid import HybridRetriever, Note
from memcube.keywords import extract_attributes
from memos import MemOS
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


def make_notes(ids, texts, times, vectors, found=None) -> list[Note]:
    """Notes with the attributes memos derives from text (entities and dates in one batch,
    unless ``found`` already holds them); every 20 consecutive notes form one session."""
    found = found or EntityExtractor().extract_many(texts, times)
    notes = []
    for id_, text, when, vector, extraction in zip(ids, texts, times, vectors, found,
                                                   strict=True):
        attributes = extract_attributes(text)
        number = int(id_.removeprefix("n"))
        notes.append(Note(id_, text, vector, when, {}, attributes.keywords,
                          extraction.entities, attributes.tags, extraction.dates,
                          session=f"s{number // 20}", turn=number))
    return notes


def build_retriever(embedder: Embedder, texts, times) -> tuple[HybridRetriever, np.ndarray]:
    """A HybridRetriever over `texts` (the latency indexes start from it) and their vectors."""
    retriever = HybridRetriever(embedder.dim)
    vectors = embedder.embed(texts)
    retriever.add(make_notes([f"n{i}" for i in range(len(texts))], texts, times, vectors))
    return retriever, vectors


def extracted(retriever: HybridRetriever, count: int) -> list[Extraction]:
    """The entities and dates of the first ``count`` notes, to reuse for their copies."""
    notes = [retriever.note(f"n{i}") for i in range(count)]
    return [Extraction(note.entities, note.dates) for note in notes]


def fill_cube(cube, texts, times, batch: int) -> tuple[float, float]:
    """Add `texts` with MemCube.add_many; notes per second (wall) and per CPU-second."""
    began, cpu_began = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        cube.add_many([{"text": text, "event_time": when.replace(tzinfo=UTC)}
                       for text, when in zip(texts[start:start + batch],
                                             times[start:start + batch], strict=True)])
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    return len(texts) / wall, len(texts) / cpu


def cube_search_latency(cube, questions, vectors) -> tuple[str, str]:
    """p50 / p99 ms of MemCube.search with the query vector given, and embedding it too."""
    cube.search(questions[0], 10)
    given, _ = timings(lambda i: cube.search(questions[i], 10, vector=vectors[i]), len(questions))
    embedded, _ = timings(lambda i: cube.search(questions[i], 10), len(questions))
    return percentiles(given), percentiles(embedded)


def embedding_rate(embedder: Embedder, texts, batch: int) -> tuple[float, float]:
    """Notes per second (wall) and per CPU-second of embedding alone, the baseline."""
    began, cpu_began = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), batch):
        embedder.embed(texts[start:start + batch])
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    return len(texts) / wall, len(texts) / cpu


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
    originals = extracted(retriever, len(texts))
    notes = make_notes([f"n{i}" for i in range(have, target)], [texts[r] for r in rows],
                       [times[r] for r in rows], new_vectors, [originals[r] for r in rows])
    began = time.perf_counter()
    retriever.add(notes)
    for note, row in zip(notes, rows.tolist(), strict=True):  # a synthesised note is similar
        retriever.add_link(note.id, f"n{row}", "similar", 0.8)  # to the note it was made from
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


def cube_measures(embedder: Embedder, texts, times, batch: int, questions,
                  query_vectors) -> dict:
    """MemCube.add_many against embedding alone, and MemCube.search at that size."""
    embed_wall, embed_cpu = embedding_rate(embedder, texts, batch)
    with tempfile.TemporaryDirectory() as home:
        mos = MemOS(home=Path(home), embedder=embedder)
        cube = mos.create_cube("speed", owner="bench")
        cube_wall, cube_cpu = fill_cube(cube, texts, times, batch)
        given, embedded = cube_search_latency(cube, questions, query_vectors)
        mos.close()
    return {"notes": len(texts), "batch": batch, "embed_wall": embed_wall,
            "embed_cpu": embed_cpu, "add_wall": cube_wall, "add_cpu": cube_cpu,
            "search_given": given, "search_embedded": embedded}


def print_cube_measures(cube: dict) -> None:
    """The bulk-add table and the MemCube.search line."""
    print(f"\nbulk add of {cube['notes']:,} notes in batches of {cube['batch']}:\n")
    print("| path | notes/s (wall) | notes per CPU-second | share of embedding-only rate |")
    print("|---|---|---|---|")
    print(f"| embedding only (baseline) | {cube['embed_wall']:.0f} | {cube['embed_cpu']:.0f} "
          "| 100% |")
    print(f"| MemCube.add_many | {cube['add_wall']:.0f} | {cube['add_cpu']:.0f} | "
          f"{cube['add_wall'] / cube['embed_wall']:.0%} |\n")
    print(f"MemCube.search over those {cube['notes']:,} notes (SQLite rows of the hits and the "
          f"retrieval counters included): p50/p99 {cube['search_given']} ms with the query "
          f"vector given, {cube['search_embedded']} ms embedding the query\n")


LATENCY_HEADER = ("| notes | embedded / synthesised | index | build s | VectorIndex p50/p99 ms "
                  "| hybrid p50/p99 ms | hybrid CPU p50/p99 ms "
                  "| hybrid + query embedding p50/p99 ms |\n|---|---|---|---|---|---|---|---|")


def latency_row(row: dict) -> str:
    return (f"| {row['size']:,} | {row['real']:,} / {row['size'] - row['real']:,} | "
            f"{row['mode']} | {row['build']:.1f} | {row['dense']} | {row['hybrid']} | "
            f"{row['hybrid_cpu']} | {row['embedded']} |")


def measure(args) -> dict:
    """Every measurement of one run, printed as it comes and returned."""
    rng = np.random.default_rng(0)
    texts, times, questions = corpus_texts(args.embed)
    questions = questions[: args.queries]
    faiss.omp_set_num_threads(1)  # one query at a time: OpenMP only adds wake-up latency
    embedder = Embedder.load(device="cpu")
    found = {"load": os.getloadavg()[0], "threads": torch.get_num_threads()}
    print(f"torch threads: {found['threads']}; embedder: {embedder.name}; "
          f"load average at start: {found['load']:.1f} on {os.cpu_count()} CPUs")
    embedder.embed(texts[:64])  # warm-up
    query_vectors = embedder.embed(questions)
    found["cube"] = cube_measures(embedder, texts, times, args.batch, questions, query_vectors)
    print_cube_measures(found["cube"])
    retriever, vectors = build_retriever(embedder, texts, times)
    print(LATENCY_HEADER)
    found["sizes"] = []
    for size in sorted(args.sizes):
        build = grow(retriever, texts, times, vectors, size, rng)
        row = latency(retriever, embedder, questions, query_vectors)
        row.update(size=size, real=min(size, len(texts)), build=build,
                   mode="HNSW" if retriever.vector_index.is_hnsw else "flat")
        found["sizes"].append(row)
        print(latency_row(row), flush=True)
    return found


def measure_elsewhere(tree: Path, args) -> dict:
    """The same measurements with another checkout's memos code (its output shown too)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "found.json"
        command = [sys.executable, __file__, "--json", str(out), "--embed", str(args.embed),
                   "--batch", str(args.batch), "--queries", str(args.queries),
                   "--torch-threads", str(args.torch_threads),
                   "--sizes", *map(str, args.sizes)]
        path = os.pathsep.join([str(tree), str(tree / "tests")])
        env = {**os.environ, "PYTHONPATH": path}
        subprocess.run(command, env=env, check=True)
        return json.loads(out.read_text())


def print_comparison(tree: Path, before: dict, after: dict) -> None:
    """One table: the other checkout's numbers, then this tree's."""
    b, a = before["cube"], after["cube"]
    print(f"\n{tree} (run first, load {before['load']:.1f}) against this tree "
          f"(load {after['load']:.1f}):\n")
    print("| measure | " + str(tree) + " | this tree |\n|---|---|---|")
    rows = [("embedding only, notes/s (per CPU-second)",
             *(f"{c['embed_wall']:.0f} ({c['embed_cpu']:.0f})" for c in (b, a))),
            ("MemCube.add_many, notes/s (per CPU-second)",
             *(f"{c['add_wall']:.0f} ({c['add_cpu']:.0f})" for c in (b, a))),
            ("add_many share of embedding rate, wall (CPU)",
             *(f"{c['add_wall'] / c['embed_wall']:.0%} ({c['add_cpu'] / c['embed_cpu']:.0%})"
               for c in (b, a))),
            (f"MemCube.search {b['notes']:,} notes, p50/p99 ms (vector given)",
             b["search_given"], a["search_given"])]
    for old, new in zip(before["sizes"], after["sizes"], strict=True):
        rows.append((f"hybrid at {old['size']:,}, p50/p99 ms wall", old["hybrid"],
                     new["hybrid"]))
        rows.append((f"hybrid at {old['size']:,}, p50/p99 ms CPU", old["hybrid_cpu"],
                     new["hybrid_cpu"]))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    """Run the throughput and latency measurements and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed", type=int, default=2000, help="unique texts to embed")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=200, help="notes per MemCube.add_many")
    parser.add_argument("--torch-threads", type=int, default=0,
                        help="torch intra-op threads for embedding (0: torch's default)")
    parser.add_argument("--against", type=Path, help="another checkout to measure first")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    before = measure_elsewhere(args.against, args) if args.against else None
    if before:
        print(f"\n--- this tree ({Path(__file__).resolve().parent.parent}) ---")
    after = measure(args)
    if args.json:
        args.json.write_text(json.dumps(after))
    if before:
        print_comparison(args.against, before, after)


if __name__ == "__main__":
    main()
