"""Hybrid retrieval over plaintext notes: dense + BM25 + entity graph, fused, time-aware.

1. A month, year or day named in the query becomes a time window on each note's
   event time; when notes fall in it, only they are ranked (dense by brute force when the
   window is small).
2. Dense (FAISS) and lexical (BM25) rankings are fused; their best hits seed a two-hop
   walk over the note↔entity graph, and the entities named in the query a one-hop walk,
   so a note sharing a rare entity with a good hit is reached even when it shares no
   words with the query (multi-hop). A reached note scores path × rarity of the bridging
   entity × (similarity to the query with its seed's direction removed + its BM25 match),
   boosted when it shares a topic tag with the query.
3. The walk also follows the note↔note links the add path writes (similar notes, shared
   keywords), each kind with its own weight; a hit brings the previous and next turn of its
   conversation when they carry what the query asks (memcube.session_context); a time
   window also admits notes whose own words name a day in it ("last Tuesday", resolved
   against the note's time).
4. Every candidate gets its exact dense score, and the rankings are fused by weighted,
   min-max normalised score; each hit says why it is there (graph: the path and its edges;
   session: whose neighbour it is and why).
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from memcube.admission import Admission, naive_utc
from memcube.fusion import FusedHit, fuse, fused_scores
from memcube.hybrid_inputs import HybridConfig, Note
from memcube.keywords import MONTHS, extract_entities, topic_tags
from memcube.lexical import LexicalIndex
from memcube.residual import dot_rows, residual_similarity
from memcube.session_context import NeighbourScoring, SessionTurns, neighbour_ranking
from memcube.time_window import time_range_in
from memcube.timeline import Timeline
from storage.graph_store import GraphHit, LinkGraph
from storage.vector_index import VectorIndex

TimeWindow = tuple[datetime | None, datetime | None]  # (since, until) on event time
__all__ = ["ENTITY_PREFIX", "HybridConfig", "HybridRetriever", "Note", "entity_nodes",
           "time_range_in"]

ENTITY_PREFIX = "entity:"
_DATE_ENTITY = re.compile(rf"^(\d+|.*\b({'|'.join(m.capitalize() for m in MONTHS)})\b.*|[\d-]+)$")


class HybridRetriever:
    """Dense, lexical and entity-graph search over notes, fused and filtered by time."""

    def __init__(self, dim: int, config: HybridConfig | None = None,
                 vectors: VectorIndex | None = None):
        self.config = config or HybridConfig()
        self._vectors = vectors if vectors is not None else VectorIndex(dim)
        self._lexical = LexicalIndex()
        self._graph = LinkGraph()
        self._notes: dict[str, Note] = {}
        self._seq_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._timeline: list[tuple[datetime, str]] = []  # sorted by event time
        self._timeline_ids: list[str] = []  # the ids of _timeline, for slicing
        self._timeline_seqs: list[int] = []  # and their index sequence numbers
        self._entity_notes: Counter[str] = Counter()
        self._mentions = Timeline()  # days named in the notes' words
        self._turns = SessionTurns()
        self._next_seq = 0
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._notes)

    @property
    def vector_index(self) -> VectorIndex:
        """The FAISS index underneath (keyed by internal sequence numbers)."""
        return self._vectors

    def __contains__(self, note_id: object) -> bool:
        return note_id in self._notes

    def ids(self) -> list[str]:
        """The ids of the indexed notes."""
        with self._lock:
            return list(self._notes)

    def note(self, note_id: str) -> Note:
        """An indexed note (KeyError when unknown)."""
        return self._notes[note_id]

    def id_at(self, seq: int) -> str | None:
        """The id of the note with this number in the vector index (None: no such note)."""
        return self._id_of.get(seq)

    def add(self, notes: Sequence[Note], seqs: Sequence[int] | None = None) -> None:
        """Index notes (an id already present is replaced).

        ``seqs`` are the notes' ids in the vector index when the caller owns that numbering
        (a saved index loaded with ``vectors=``): vectors already there are not added again.
        """
        with self._lock:
            self.remove([note.id for note in notes if note.id in self._notes])
            if seqs is None:
                seqs = np.arange(self._next_seq, self._next_seq + len(notes), dtype=np.int64)
            seqs = np.asarray(seqs, dtype=np.int64)
            self._next_seq = max(self._next_seq, int(seqs.max(initial=-1)) + 1)
            fresh = [i for i, seq in enumerate(seqs.tolist()) if seq not in self._vectors]
            if fresh:
                self._vectors.add(seqs[fresh], np.stack([notes[i].embedding for i in fresh]))
            self._lexical.add([note.id for note in notes], [note.text for note in notes])
            for seq, note in zip(seqs.tolist(), notes, strict=True):
                self._remember(seq, note)

    def remove(self, ids: Iterable[str]) -> None:
        """Forget notes; unknown ids are ignored."""
        with self._lock:
            gone = [self._notes.pop(i) for i in ids if i in self._notes]
            if not gone:
                return
            self._vectors.remove([self._seq_of[note.id] for note in gone])
            self._lexical.remove([note.id for note in gone])
            for note in gone:
                self._forget(note)

    def add_link(self, source: str, target: str, kind: str, weight: float) -> None:
        """Let the walk follow a note↔note link, weighted by its kind (0: not followed)."""
        with self._lock:
            scaled = weight * self.config.link_weights.get(kind, 0.0)
            if scaled > 0 and source in self._notes and target in self._notes \
                    and source != target:
                self._graph.add_link(source, target, kind, min(scaled, 1.0))

    def set_tags(self, note_id: str, tags: Sequence[str]) -> None:
        """Replace an indexed note's topic tags (KeyError when unknown)."""
        with self._lock:
            self._notes[note_id].tags = list(tags)

    def search(self, query_text: str, query_vector: np.ndarray, k: int = 10,
               filters: Mapping[str, Any] | None = None,
               expand_graph: bool = True, *, window: TimeWindow | None = None,
               ) -> list[FusedHit]:
        """The k best notes for the query, best first, each with the reasons it was found.

        `filters` are matched for equality against note metadata (any key, ``since`` and
        ``until`` included). `window` is (since, until) on event time, either end open;
        without it, a month, day or year named in the query restricts the search to notes
        from then, if any exist.
        """
        with self._lock:
            if k <= 0 or not self._notes:
                return []
            admits = self._admission(query_text, filters or {}, window)
            rankings = {
                "dense": self._dense(query_vector, admits),
                "lexical": self._lexical_ranking(query_text, admits),
            }
            details: dict[str, dict] = {}
            # Session neighbours, then the graph (which may start from them) contribute notes
            # and a score; the dense score of every candidate is exact, so a note they bring
            # is judged by its own similarity too.
            if self.config.weights.get("session", 0) > 0 and self.config.session_seeds:
                rankings["session"], details["session"] = self._session_ranking(
                    query_text, query_vector, rankings, admits)
            if self.config.hops and expand_graph:
                rankings["graph"], details["graph"] = self._graph_ranking(
                    query_text, query_vector, rankings, admits)
            extra = [i for source in ("graph", "session") for i, _ in rankings.get(source, [])]
            rankings["dense"] = self._with_exact(query_vector, rankings["dense"], extra)
            fused = fuse(rankings, self.config.weights, self.config.method, details=details)
            return fused[:k]

    # admission: filters and the time window

    def _admission(self, query_text: str, filters: Mapping[str, Any],
                   explicit: TimeWindow | None) -> Admission:
        since, until = explicit or (None, None)
        window = (since, until) if since or until else time_range_in(query_text)
        equal = dict(filters)
        if window is None:
            return Admission(self._notes, equal, None)
        low, high = self._window_bounds(*window)
        ids, seqs = self._timeline_ids[low:high], self._timeline_seqs[low:high]
        if not (since or until) and self.config.mention_dates:
            members = set(ids)
            named = [i for i in self._mentions.between(*window) if i not in members]
            ids, seqs = ids + named, seqs + [self._seq_of[i] for i in named]
        if not ids and not (since or until):
            return Admission(self._notes, equal, None)  # the query's date matches nothing
        return Admission(self._notes, equal, set(ids), ids, seqs)

    def _window_bounds(self, start: datetime | None, end: datetime | None) -> tuple[int, int]:
        low = bisect.bisect_left(self._timeline, (naive_utc(start or datetime.min), ""))
        high = bisect.bisect_left(self._timeline, (naive_utc(end or datetime.max), ""))
        return low, high

    # the three sources

    def _dense(self, query_vector: np.ndarray, admits: Admission) -> list[tuple[str, float]]:
        pool = self.config.pool
        if admits.members is not None and len(admits.members) <= self.config.brute_force_window:
            if admits.equal:
                ids = [i for i in admits.window_ids if admits(i)]
                return self._exact(query_vector, ids, limit=pool)
            return self._exact(query_vector, admits.window_ids, pool, admits.window_seqs)
        found = self._vectors.search(query_vector, pool if admits.open else 8 * pool)
        return [(self._id_of[s], score) for s, score in found if admits(self._id_of[s])][:pool]

    def _exact(self, query_vector: np.ndarray, ids: Sequence[str], limit: int | None = None,
               seqs: Sequence[int] | None = None) -> list[tuple[str, float]]:
        """Exact similarities of `ids` to the query, best first, the best `limit` only."""
        if not ids:
            return []
        matrix = self._vectors.vectors(seqs if seqs is not None else
                                       [self._seq_of[i] for i in ids])
        scores = dot_rows(matrix, np.asarray(query_vector, dtype=np.float32))
        order = np.arange(len(ids))
        if limit is not None and limit < len(ids):
            order = np.argpartition(-scores, limit - 1)[:limit]
        order = order[np.argsort(-scores[order], kind="stable")]
        return [(ids[i], float(scores[i])) for i in order]

    def _lexical_ranking(self, query_text: str, admits: Admission) -> list[tuple[str, float]]:
        pool = self.config.pool
        found = self._lexical.search(query_text, pool if admits.open else 8 * pool)
        return [(note_id, score) for note_id, score in found if admits(note_id)][:pool]

    def _graph_ranking(self, query_text, query_vector, rankings, admits):
        """Notes bridged to the best hits or to the query's entities by a shared entity."""
        seeds = dict(fused_scores(rankings, self.config.weights,
                                  self.config.method)[: self.config.seeds])
        top = max(seeds.values(), default=1.0)
        walked = self._walk({i: s / top for i, s in seeds.items()}, self.config.hops)
        entities = {ENTITY_PREFIX + e.lower(): 1.0 for e in extract_entities(query_text)}
        for node, hit in self._walk(entities, 1).items():
            if hit.score > walked.get(node, GraphHit(0.0)).score:
                walked[node] = hit
        reached = [node for node in walked if admits(node)]
        similarity = self._residual_similarity(query_vector, reached, walked)
        topics = set(topic_tags(query_text))
        boost = {n: 1.0 + self.config.topic_boost * (not topics.isdisjoint(self._notes[n].tags))
                 for n in reached}
        lexical = self._lexical.scores(query_text, reached)
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        mix = self.config.lexical_mix
        scored = sorted(((n, walked[n].score * boost[n] * (max(similarity[n], 0.0)
                                                          + mix * lexical[n] / top_lexical))
                         for n in reached), key=lambda pair: -pair[1])[: self.config.graph_limit]
        return scored, {node: {"path": walked[node].path, "edges": self._edges(walked[node].path)}
                        for node, _ in scored}

    def _session_ranking(self, query_text, query_vector, rankings, admits):
        """Previous and next turns of the best hits, when they carry what the query asks."""
        fused = fused_scores({s: rankings[s] for s in ("dense", "lexical")},
                             self.config.weights, self.config.method)[: self.config.session_seeds]

        def relevance(origin_of: dict[str, str]) -> dict[str, float]:
            walked = {n: GraphHit(1.0, [seed, n]) for n, seed in origin_of.items()}
            similarity = self._residual_similarity(query_vector, list(walked), walked)
            lexical = self._lexical.scores(query_text, list(walked))
            top = max(lexical.values(), default=0.0) or 1.0
            return {n: similarity[n] + self.config.lexical_mix * lexical[n] / top
                    for n in walked}

        return neighbour_ranking(dict(fused), self._turns,
                                 lambda i: self._notes[i].text, admits, relevance,
                                 NeighbourScoring(self.config.question_boost,
                                                  self.config.plain_neighbour,
                                                  self.config.lexical_mix))

    def _edges(self, path: list[str]) -> list[str]:
        """The kind of each step of a walk: "entity" or the note link's kind."""
        return ["entity" if ENTITY_PREFIX in a + b else self._link_kind(a, b)
                for a, b in itertools.pairwise(path)]

    def _link_kind(self, a: str, b: str) -> str:
        """The kind of the strongest link between two notes (the one the walk used)."""
        kinds = [(weight, kind) for kind, weight in self._graph.kinds(a, b).items()]
        return max(kinds)[1] if kinds else "link"

    def _walk(self, seeds: dict[str, float], hops: int) -> dict[str, GraphHit]:
        """Notes reached from the seeds, scored path × rarity of the entity they were reached by."""
        # Walk wider than we keep: many notes tie on path score until similarity splits them.
        walked = self._graph.expand(seeds, hops=hops, decay=self.config.decay,
                                    limit=4 * self.config.graph_limit, include_seeds=False)
        rarity: dict[str, float] = {}
        reached = {}
        for node, hit in walked.items():
            if node.startswith(ENTITY_PREFIX):
                continue
            bridge = hit.path[-2]  # an entity, or a note linked to this one
            if bridge not in rarity:
                rarity[bridge] = self._rarity(bridge) if bridge.startswith(ENTITY_PREFIX) \
                    else 1.0  # a note link's weight already says how much it counts
            reached[node] = GraphHit(hit.score * rarity[bridge], hit.path)
        return reached

    def _residual_similarity(self, query_vector, nodes, walked) -> dict[str, float]:
        """Similarity of each bridged note to what the query asks beyond its seed note."""
        if not nodes:
            return {}
        matrix = self._vectors.vectors([self._seq_of[n] for n in nodes])
        scores = residual_similarity(
            query_vector, matrix, [walked[n].path[0] for n in nodes],
            lambda seed: None if seed.startswith(ENTITY_PREFIX)
            else self._vectors.vector(self._seq_of[seed]),
            self.config.residual_mix)
        return dict(zip(nodes, scores.tolist(), strict=True))

    def _with_exact(self, query_vector, ranking, extra_ids) -> list[tuple[str, float]]:
        """The dense ranking, extended with exact similarities of notes it lacks."""
        known = {note_id for note_id, _ in ranking}
        missing = [note_id for note_id in extra_ids if note_id not in known]
        return sorted([*ranking, *self._exact(query_vector, missing)], key=lambda p: -p[1])

    def _rarity(self, entity_node: str) -> float:
        """IDF of an entity, scaled to (0, 1]: 1 for an entity in one note."""
        total = max(len(self._notes), 2)
        count = min(max(self._entity_notes[entity_node], 1), total)
        return max(math.log(total / count) / math.log(total), 1e-3)

    # bookkeeping

    def _remember(self, seq: int, note: Note) -> None:
        self._notes[note.id] = note
        self._seq_of[note.id] = seq
        self._id_of[seq] = note.id
        if note.event_time is not None:
            entry = (naive_utc(note.event_time), note.id)
            at = bisect.bisect_left(self._timeline, entry)
            self._timeline.insert(at, entry)
            self._timeline_ids.insert(at, note.id)
            self._timeline_seqs.insert(at, seq)
        self._graph.add_node(note.id)
        self._turns.add(note.id, note.session, note.turn)
        for day in note.dates:
            self._mentions.add(naive_utc(day), note.id)
        for node in _entity_nodes(note):
            self._entity_notes[node] += 1
            if self._graph.degree(node) < self.config.max_entity_notes:
                self._graph.add_link(note.id, node, "mentions", 1.0)

    def _forget(self, note: Note) -> None:
        del self._id_of[self._seq_of.pop(note.id)]
        self._graph.remove_node(note.id)
        self._turns.remove(note.id)
        self._mentions.remove(note.id)
        self._entity_notes.subtract(_entity_nodes(note))
        if note.event_time is not None:
            at = bisect.bisect_left(self._timeline, (naive_utc(note.event_time), note.id))
            del self._timeline[at], self._timeline_ids[at], self._timeline_seqs[at]


def _entity_nodes(note: Note) -> list[str]:
    return entity_nodes(note.entities)


def entity_nodes(entities: Iterable[str]) -> list[str]:
    """Graph nodes of the entities a note links to; dates are left to the time window."""
    nodes = {ENTITY_PREFIX + e.lower() for e in entities if not _DATE_ENTITY.match(e)}
    return sorted(nodes)
