"""Evidence recall@1/5/10 per question category: dense-only FAISS vs memos' hybrid retrieval.

    python bench/retrieval_quality.py [--seed 7] [--conversations 8]

Both systems index the same note texts ("[4 February 2022] Tom: ...") embedded with the
default embedder. Row (b) is memos end to end: the turns are added to a MemCube (SQLite in
a temporary home, with each turn's session date as its event time and its speaker as
metadata) and found with ``MemCube.search``. Recall@k is the share of a question's
evidence turns in the top k, averaged over the questions of a category (a two-turn
multi-hop question found halfway scores 0.5). The last rows run the hybrid retriever alone,
then with one part switched off at a time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from retrieval_data import Dataset, generate

from memcube.hybrid import HybridConfig, HybridRetriever, Note
from memcube.keywords import CorpusStats, extract_attributes, extract_entities
from memos import MemOS
from memos.embedder import Embedder
from storage.vector_index import VectorIndex

CUTOFFS = (1, 5, 10)
CATEGORIES = ("single-hop", "multi-hop", "temporal")


def dense_only(data: Dataset, turn_vectors: np.ndarray):
    """Search function of plain FAISS over the raw turns."""
    index = VectorIndex.build(turn_vectors.shape[1], np.arange(len(data.turns)), turn_vectors)
    ids = [turn.id for turn in data.turns]
    return lambda question, vector, k: [ids[i] for i, _ in index.search(vector, k)]


def hybrid(data: Dataset, turn_vectors: np.ndarray, config: HybridConfig, time_aware=True):
    """Search function of memos' HybridRetriever over the same turns as notes."""
    stats = CorpusStats()
    for turn in data.turns:
        stats.add(turn.note_text)
    notes = []
    for turn, vector in zip(data.turns, turn_vectors, strict=True):
        attributes = extract_attributes(turn.note_text, stats)
        notes.append(Note(
            id=turn.id, text=turn.note_text, embedding=vector,
            event_time=datetime(turn.date.year, turn.date.month, turn.date.day),
            metadata={"speaker": turn.speaker}, keywords=attributes.keywords,
            entities=extract_entities(turn.note_text), tags=attributes.tags,
        ))
    retriever = HybridRetriever(turn_vectors.shape[1], config)
    retriever.add(notes)
    undated = (datetime.min, None)  # an explicit open window switches off query dates

    def search(question, vector, k):
        window = None if time_aware else undated
        return [hit.id for hit in retriever.search(question, vector, k, window=window)]

    return search


def memos_cube(data: Dataset, embedder: Embedder, home: Path):
    """Search function of a real MemCube holding the turns as notes."""
    mos = MemOS(home=home, embedder=embedder)
    cube = mos.create_cube("conversations", owner="bench")
    items = cube.add_many([
        {"text": turn.note_text, "force": True, "metadata": {"speaker": turn.speaker},
         "event_time": datetime(turn.date.year, turn.date.month, turn.date.day, tzinfo=UTC)}
        for turn in data.turns])
    turn_of = {item.id: turn.id for item, turn in zip(items, data.turns, strict=True)}

    def search(question, vector, k):
        return [turn_of[hit.item.id] for hit in cube.search(question, k)]

    return search


def recall_table(data: Dataset, question_vectors: np.ndarray, search) -> dict[str, list[float]]:
    """Mean evidence recall at each cutoff, per category."""
    found: dict[str, list[list[float]]] = {c: [] for c in CATEGORIES}
    for question, vector in zip(data.questions, question_vectors, strict=True):
        ranked = search(question.text, vector, max(CUTOFFS))
        evidence = set(question.evidence)
        found[question.category].append(
            [len(evidence & set(ranked[:k])) / len(evidence) for k in CUTOFFS]
        )
    return {c: np.mean(rows, axis=0).tolist() for c, rows in found.items()}


def print_table(results: dict[str, dict[str, list[float]]], counts: dict[str, int]) -> None:
    header = "| system | " + " | ".join(
        f"{c} R@{k}" for c in CATEGORIES for k in CUTOFFS) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, table in results.items():
        cells = " | ".join(f"{table[c][i]:.3f}" for c in CATEGORIES for i in range(len(CUTOFFS)))
        print(f"| {name} | {cells} |")
    print("questions: " + ", ".join(f"{c} {n}" for c, n in counts.items()))


def main() -> None:
    """Generate the corpus, embed it, run every system and print the recall table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--conversations", type=int, default=8)
    args = parser.parse_args()
    data = generate(seed=args.seed, conversations=args.conversations)
    embedder = Embedder.load(device="cpu")
    started = time.perf_counter()
    turn_vectors = embedder.embed([turn.note_text for turn in data.turns])
    question_vectors = embedder.embed([question.text for question in data.questions])
    print(f"{len(data.turns)} turns, {len(data.questions)} questions, "
          f"embedded in {time.perf_counter() - started:.1f} s")
    config = HybridConfig()
    with tempfile.TemporaryDirectory() as home:
        systems = {
            "(a) dense only (FAISS)": dense_only(data, turn_vectors),
            "(b) memos (MemCube.search)": memos_cube(data, embedder, Path(home)),
            "hybrid retriever alone": hybrid(data, turn_vectors, config),
            "  without graph": hybrid(data, turn_vectors, HybridConfig(hops=0)),
            "  without time window": hybrid(data, turn_vectors, config, time_aware=False),
        }
        results = {name: recall_table(data, question_vectors, search)
                   for name, search in systems.items()}
    counts = {c: sum(q.category == c for q in data.questions) for c in CATEGORIES}
    print_table(results, counts)


if __name__ == "__main__":
    main()
