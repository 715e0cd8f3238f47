"""The derived, rebuildable search structures of one cube.

The FAISS index (keyed by each item's SQL sequence number) and the graph of note links are
saved in the cube folder; hybrid retrieval (dense + BM25 + entity graph + note links +
session turns + time windows) runs over them in memory. Entities and dates come from
``memcube.entities`` in one batch per upsert. SQL stays the source of truth: every
structure here can be rebuilt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from memcube.entities import EntityExtractor, Extraction
from memcube.hybrid import HybridConfig, HybridRetriever, Note
from memcube.item import MemoryItem
from memcube.lifecycle import State
from memcube.search import SearchFilters, SearchHit
from storage.errors import CorruptBlob
from storage.graph_store import LinkGraph
from storage.vector_index import VectorIndex

CHANGE_SEQ_FILE = "change_seq"
Loader = Callable[[Iterable[str]], dict[str, MemoryItem]]


class PlaintextIndex:
    """Dense, lexical and graph indexes over a cube's notes; SQL stays the source of truth."""

    def __init__(self, folder: Path, vectors: VectorIndex, graph: LinkGraph,
                 config: HybridConfig | None = None,
                 extractor: EntityExtractor | None = None) -> None:
        self.folder = Path(folder)
        self._extractor = extractor or EntityExtractor()
        self._extracted: dict[str, tuple[str, datetime | None, Extraction]] = {}
        self._vectors = vectors
        self._graph = graph
        self._retriever = HybridRetriever(vectors.dim, config, vectors=vectors)
        self.keyword_index: dict[str, set[str]] = {}
        self._keywords_of: dict[str, list[str]] = {}

    @classmethod
    def open(cls, folder: Path, dim: int, entries: Sequence[tuple[int, MemoryItem]],
             links: Sequence[tuple[str, str, str, float]], *,
             config: HybridConfig | None = None,
             extractor: EntityExtractor | None = None) -> PlaintextIndex:
        """Load the saved index files when they match SQL, else rebuild them from SQL."""
        folder = Path(folder)
        vectors = _load_vectors(folder / "vectors.faiss", entries)
        graph = _load_graph(folder / "graph.json", links)
        rebuilt = vectors is None or graph is None
        if vectors is None:
            vectors = VectorIndex(dim)
            if entries:
                vectors.add(np.array([seq for seq, _ in entries], dtype=np.int64),
                            np.stack([item.embedding for _, item in entries]))
        graph = graph or LinkGraph.build(links)
        index = cls(folder, vectors, graph, config, extractor)
        index._retriever.add(index._notes(entries), [seq for seq, _ in entries])
        for _, item in entries:
            index._remember_keywords(item)
        for source, target, kind, weight in links:
            index._retriever.add_link(source, target, kind, weight)
        if rebuilt:
            index.save()
        return index

    @property
    def size(self) -> int:
        """How many notes are indexed."""
        return len(self._retriever)

    def contains(self, item_id: str) -> bool:
        """Whether a note is indexed."""
        return item_id in self._retriever

    def ids(self) -> list[str]:
        """The ids of the indexed notes."""
        return self._retriever.ids()

    def text_of(self, item_id: str) -> str | None:
        """The text a note was indexed with (None when it is not indexed)."""
        return self._retriever.note(item_id).text if item_id in self._retriever else None

    @property
    def link_count(self) -> int:
        """How many links the graph holds."""
        return self._graph.edge_count

    def upsert(self, seq: int, item: MemoryItem) -> None:
        """Index a new note, or re-index a changed one."""
        self.upsert_many([(seq, item)])

    def upsert_many(self, entries: Sequence[tuple[int, MemoryItem]]) -> None:
        """Index new notes, or re-index changed ones, as (seq, item) pairs."""
        known = []
        for _, item in entries:
            if item.id in self._retriever:
                known.append(item.id)
                self.remove(item.id, keep_links=True)
        self._retriever.add(self._notes(entries), [seq for seq, _ in entries])
        for _, item in entries:
            self._remember_keywords(item)
        for item_id in known:  # the retriever forgot the links of re-indexed notes
            for other, kind, weight in self._graph.links(item_id):
                self._retriever.add_link(item_id, other, kind, weight)

    def remove(self, item_id: str, keep_links: bool = False) -> None:
        """Drop a note from every index."""
        if item_id not in self._retriever:
            return
        self._retriever.remove([item_id])
        if not keep_links:
            self._extracted.pop(item_id, None)
        for keyword in self._keywords_of.pop(item_id, []):
            self.keyword_index.get(keyword, set()).discard(item_id)
        if not keep_links:
            self._graph.remove_node(item_id)

    def add_link(self, source: str, target: str, kind: str, weight: float) -> None:
        """Record a link between two notes in the graph."""
        self._graph.add_link(source, target, kind, weight)
        self._retriever.add_link(source, target, kind, weight)

    def set_tags(self, item_id: str, tags: list[str]) -> None:
        """Give an indexed note the tags its SQL row now has (unknown ids are ignored)."""
        if item_id in self._retriever:
            self._retriever.set_tags(item_id, tags)

    def links(self, item_id: str) -> list[dict]:
        """Links of a note: other id, kind and weight."""
        return [{"id": other, "kind": kind, "weight": weight}
                for other, kind, weight in self._graph.links(item_id)]

    def nearest_many(self, vectors: np.ndarray, k: int, states: frozenset[State], load: Loader,
                     min_score: float = -1.0) -> list[list[tuple[MemoryItem, float]]]:
        """Per row of ``vectors``, the ``k`` most similar notes in ``states`` scoring at least
        ``min_score`` (cosine), with their scores; only those candidates are loaded, in one go."""
        ids = self._retriever.id_at  # the retriever numbers the notes in the vector index
        found = [[(ids(seq), score) for seq, score in row
                  if ids(seq) is not None and score >= min_score]
                 for row in self._vectors.search_many(vectors, max(4 * k, 16))]
        items = load({item_id for row in found for item_id, _ in row})
        return [[(items[i], score) for i, score in row
                 if i in items and items[i].state in states][:k] for row in found]

    def search(self, query: str, vector: np.ndarray, k: int, filters: SearchFilters,
               load: Loader, expand_graph: bool = True) -> list[SearchHit]:
        """Hybrid hits that pass the filters, best first, each saying why it was found."""
        window = (filters.event_after, filters.event_before)
        # The retriever knows event times and metadata; states, tags and write times are
        # checked on the SQL rows, so ask for more than k and keep the admitted ones.
        fused = self._retriever.search(query, vector, 4 * k + 20, filters.metadata,
                                       expand_graph, window=window)
        hits: list[SearchHit] = []
        page = k + 5  # rows are loaded a page at a time: most searches need only the first
        for start in range(0, len(fused), page):
            candidates = fused[start:start + page]
            items = load(hit.id for hit in candidates)
            hits += [SearchHit(items[hit.id], hit.score, hit.why) for hit in candidates
                     if hit.id in items and filters.admits(items[hit.id])]
            if len(hits) >= k:
                break
        return hits[:k]

    def save(self, change_seq: int | None = None) -> None:
        """Write the FAISS index and the graph to the cube folder (atomically), and the
        change-log sequence they reflect when known."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._vectors.save(self.folder / "vectors.faiss")
        self._graph.save(self.folder / "graph.json")
        if change_seq is not None:
            write_text_atomically(self.folder / CHANGE_SEQ_FILE, str(change_seq))

    def _notes(self, entries: Sequence[tuple[int, MemoryItem]]) -> list[Note]:
        """The retriever's view of the items, their entities and dates found in one batch."""
        items = [item for _, item in entries]
        moments = [item.event_time or item.created_at for item in items]
        todo = [i for i, item in enumerate(items)
                if self._extracted.get(item.id, (None, None))[:2] != (item.text, moments[i])]
        found = self._extractor.extract_many([items[i].text for i in todo],
                                             [moments[i] for i in todo])
        for i, extraction in zip(todo, found, strict=True):
            self._extracted[items[i].id] = (items[i].text, moments[i], extraction)
        return [_note(item, self._extracted[item.id][2]) for item in items]

    def _remember_keywords(self, item: MemoryItem) -> None:
        keywords = [word.lower() for word in item.keywords]
        self._keywords_of[item.id] = keywords
        for keyword in keywords:
            self.keyword_index.setdefault(keyword, set()).add(item.id)


def saved_change_seq(folder: Path) -> int | None:
    """The change-log sequence the saved index files reflect (None: unknown)."""
    try:
        return int((Path(folder) / CHANGE_SEQ_FILE).read_text())
    except (OSError, ValueError):
        return None


def write_text_atomically(path: Path, content: str) -> None:
    """Replace a small text file in one step (write beside it, then rename)."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(content)
    os.replace(partial, path)


def _note(item: MemoryItem, extraction: Extraction) -> Note:
    return Note(id=item.id, text=item.text, embedding=item.embedding,
                event_time=item.event_time, metadata=item.metadata, keywords=item.keywords,
                entities=extraction.entities, tags=item.tags, dates=extraction.dates,
                session=item.provenance.session_id, turn=item.seq)


# Saved files are trusted only when they hold exactly what SQL holds: files written before a
# crash can miss later changes (a re-embedded note, a new link) while their sizes still match.


def _load_vectors(path: Path, entries: Sequence[tuple[int, MemoryItem]]) -> VectorIndex | None:
    if not path.is_file():
        return None
    try:
        vectors = VectorIndex.load(path)
    except CorruptBlob:
        return None
    if len(vectors) != len(entries) or not all(
        seq in vectors and np.array_equal(vectors.vector(seq), item.embedding)
        for seq, item in entries
    ):
        return None
    return vectors


def _load_graph(path: Path, links: Sequence[tuple[str, str, str, float]]) -> LinkGraph | None:
    if not path.is_file():
        return None
    try:
        graph = LinkGraph.load(path)
    except CorruptBlob:
        return None
    if graph.edge_count != len(links) or not all(
        (target, kind, weight) in graph.links(source) for source, target, kind, weight in links
    ):
        return None
    return graph
