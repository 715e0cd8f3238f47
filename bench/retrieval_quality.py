"""Evidence recall@1/5/10 per question category: dense only, the previous hybrid, the new one.

    python bench/retrieval_quality.py [--seed 7] [--conversations 8] [--heldout-seed 3]

Two sets: the tuning set (bench/retrieval_data.py, the one the defaults were chosen on) and
the held-out set (bench/retrieval_heldout.py: other names and places, relative dates,
answers in the turn after a question, paraphrased questions; never tuned on).

Every system indexes the same note texts ("[4 February 2022] Tom: ...") embedded with the
default embedder. (a) is FAISS alone. (b) is the previous hybrid: hand-written entity rules,
the entity graph, BM25 and query time windows, no note links, no session turns, no dates
from the notes' words. (c) is memos end to end: the turns are added to a MemCube (SQLite in
a temporary home, the session date as event time, the speaker as metadata, one session id
per conversation session) and found with ``MemCube.search``. The rows under it run the new
hybrid retriever alone over the same notes and links, then without one new signal at a
time. Recall@k is the share of a question's evidence turns in the top k, averaged over the
questions of a category (a two-turn multi-hop question found halfway scores 0.5).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import retrieval_heldout
from retrieval_data import Dataset, generate

from memcube.entities import EntityExtractor, Extraction
from memcube.hybrid import HybridConfig, HybridRetriever, Note
from memcube.keywords import CorpusStats, extract_attributes
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


PREVIOUS = {"link_weights": {}, "mention_dates": False,
            "weights": {"dense": 1.0, "lexical": 0.5, "graph": 0.5}}


def _day(turn) -> datetime:
    return datetime(turn.date.year, turn.date.month, turn.date.day)


def extractions(data: Dataset, mode: str):
    """Entities and dates of every turn, as the given extractor mode finds them."""
    extractor = EntityExtractor(mode)
    return extractor.extract_many([t.note_text for t in data.turns], [_day(t) for t in data.turns])


def hybrid(data: Dataset, turn_vectors: np.ndarray, config: HybridConfig, found, links=(),
           time_aware=True, sessions=True):
    """Search function of memos' HybridRetriever over the same turns as notes."""
    stats = CorpusStats()
    for turn in data.turns:
        stats.add(turn.note_text)
    notes = []
    for position, (turn, vector, extraction) in enumerate(
            zip(data.turns, turn_vectors, found, strict=True)):
        attributes = extract_attributes(turn.note_text, stats)
        notes.append(Note(
            id=turn.id, text=turn.note_text, embedding=vector, event_time=_day(turn),
            metadata={"speaker": turn.speaker}, keywords=attributes.keywords,
            entities=extraction.entities, tags=attributes.tags, dates=extraction.dates,
            session=_session(turn) if sessions else None, turn=position,
        ))
    retriever = HybridRetriever(turn_vectors.shape[1], config)
    retriever.add(notes)
    for source, target, kind, weight in links:
        retriever.add_link(source, target, kind, weight)
    undated = (datetime.min, None)  # an explicit open window switches off query dates

    def search(question, vector, k):
        window = None if time_aware else undated
        return [hit.id for hit in retriever.search(question, vector, k, window=window)]

    return search


def _session(turn) -> str:
    return f"{turn.id.split('s')[0]}s{turn.session}"


def memos_cube(data: Dataset, embedder: Embedder, home: Path):
    """Search function of a real MemCube holding the turns as notes, and its note links."""
    mos = MemOS(home=home, embedder=embedder)
    cube = mos.create_cube("conversations", owner="bench")
    items = cube.add_many([
        {"text": turn.note_text, "force": True, "metadata": {"speaker": turn.speaker},
         "event_time": _day(turn).replace(tzinfo=UTC), "session_id": _session(turn)}
        for turn in data.turns])
    turn_of = {item.id: turn.id for item, turn in zip(items, data.turns, strict=True)}
    links = {(min(turn_of[item.id], turn_of[link["id"]]), max(turn_of[item.id],
              turn_of[link["id"]]), link["kind"], link["weight"])
             for item in items for link in cube.links(item.id) if link["id"] in turn_of}

    def search(question, vector, k):
        return [turn_of[hit.item.id] for hit in cube.search(question, k)]

    return search, sorted(links)


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


def run_set(title: str, data: Dataset, embedder: Embedder) -> None:
    """Every system on one set of conversations, as one table."""
    started = time.perf_counter()
    turn_vectors = embedder.embed([turn.note_text for turn in data.turns])
    question_vectors = embedder.embed([question.text for question in data.questions])
    print(f"\n{title}: {len(data.turns)} turns, {len(data.questions)} questions, "
          f"embedded in {time.perf_counter() - started:.1f} s\n")
    found = {mode: extractions(data, mode) for mode in ("heuristic", "spacy", "both")}
    # the rules' names with spaCy's dates, so that row changes only where names come from
    found["rules"] = [Extraction(rules.entities, model.dates)
                      for rules, model in zip(found["heuristic"], found["spacy"], strict=True)]
    new = HybridConfig()
    with tempfile.TemporaryDirectory() as home:
        cube_search, links = memos_cube(data, embedder, Path(home))
        systems = {
            "(a) dense only (FAISS)": dense_only(data, turn_vectors),
            "(b) previous hybrid": hybrid(data, turn_vectors, HybridConfig(**PREVIOUS),
                                          found["heuristic"], sessions=False),
            "(c) new hybrid (MemCube.search)": cube_search,
            "new hybrid retriever alone": hybrid(data, turn_vectors, new, found["both"], links),
            "  names from spaCy only (no rules)": hybrid(data, turn_vectors, new, found["spacy"],
                                                         links),
            "  names from the rules only (no spaCy)": hybrid(data, turn_vectors, new,
                                                             found["rules"], links),
            "  with shared-keyword links too": hybrid(
                data, turn_vectors, HybridConfig(link_weights={"similar": 0.5, "keyword": 0.5}),
                found["both"], links),
            "  without dates from the notes' words": hybrid(
                data, turn_vectors, HybridConfig(mention_dates=False), found["both"], links),
            "  without note links": hybrid(data, turn_vectors, new, found["both"]),
            "  without session turns": hybrid(data, turn_vectors, new, found["both"], links,
                                              sessions=False),
            "  without graph": hybrid(data, turn_vectors, HybridConfig(hops=0), found["both"],
                                      links),
            "  without time window": hybrid(data, turn_vectors, new, found["both"], links,
                                            time_aware=False),
        }
        results = {name: recall_table(data, question_vectors, search)
                   for name, search in systems.items()}
    counts = {c: sum(q.category == c for q in data.questions) for c in CATEGORIES}
    print_table(results, counts)


def main() -> None:
    """Generate both sets, run every system on each and print their recall tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--heldout-seed", type=int, default=3)
    parser.add_argument("--only", choices=("tuning", "heldout"), default=None)
    args = parser.parse_args()
    embedder = Embedder.load(device="cpu")
    if args.only != "heldout":
        run_set(f"tuning set (bench/retrieval_data.py, seed {args.seed})",
                generate(seed=args.seed, conversations=args.conversations), embedder)
    if args.only != "tuning":
        run_set(f"held-out set (bench/retrieval_heldout.py, seed {args.heldout_seed})",
                retrieval_heldout.generate(seed=args.heldout_seed), embedder)


if __name__ == "__main__":
    main()
