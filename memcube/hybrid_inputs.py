"""What hybrid search is given: the notes it indexes and the knobs it is tuned with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from memcube.fusion import FusionMethod


@dataclass(slots=True)
class Note:
    """What the retriever needs to know about one plaintext memory."""

    id: str
    text: str
    embedding: np.ndarray
    event_time: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    dates: list[datetime] = field(default_factory=list)  # days its words name, resolved
    session: str | None = None  # the conversation it is a turn of
    turn: int = 0  # its place in that conversation


@dataclass(slots=True)
class HybridConfig:
    """Knobs of hybrid search; the defaults are what bench/retrieval_quality.py measured."""

    pool: int = 50  # candidates taken from each source
    seeds: int = 5  # fused dense+lexical hits the graph walk starts from
    hops: int = 2  # note → entity → note
    decay: float = 0.5
    graph_limit: int = 100
    max_entity_notes: int = 128  # an entity stops gaining links past this many notes
    topic_boost: float = 1.0  # bridged notes sharing a topic tag with the query
    lexical_mix: float = 0.5  # bridged notes: weight of their BM25 match to the query
    residual_mix: float = 0.5  # bridged notes: share of similarity to the query's residual
    brute_force_window: int = 20000  # time windows up to this size are ranked exactly
    weights: dict[str, float] = field(
        default_factory=lambda: {"dense": 1.0, "lexical": 0.5, "graph": 0.5, "session": 0.5}
    )
    method: FusionMethod = "weighted"
    # note↔note links the walk follows, by kind: their weight times the link's own weight.
    # Shared-keyword links are left out: on the tuning set they cost 4-6 points of
    # multi-hop recall (bench/retrieval_quality.py).
    link_weights: dict[str, float] = field(default_factory=lambda: {"similar": 0.5})
    session_seeds: int = 10  # fused hits whose previous and next turns are considered
    question_boost: float = 1.0  # the turn after a question counts (1 + this) times
    plain_neighbour: float = 1.0  # ... and any other neighbouring turn this much
    mention_dates: bool = True  # a query's time window admits notes naming a day in it

    def __post_init__(self):
        sizes = (self.pool, self.seeds, self.graph_limit, self.brute_force_window,
                 self.max_entity_notes)
        if min(sizes) <= 0:
            raise ValueError("pool, seeds, graph_limit, brute_force_window and "
                             "max_entity_notes must be positive")
        if self.hops < 0 or not 0 < self.decay <= 1:
            raise ValueError("need hops >= 0 and 0 < decay <= 1")
