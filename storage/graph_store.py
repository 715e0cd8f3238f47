"""Typed, weighted links between notes (and the entities they mention), derived and rebuildable.

An undirected networkx MultiGraph keyed by link kind: a pair of nodes has at most one link
per kind. `expand` spreads seed scores outward, multiplying by `decay` per hop and by the
edge weight (the strongest kind between two nodes), and keeps the best path to each node.
Saved as JSON, never pickle.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from storage.atomic import write_replacing
from storage.errors import CorruptBlob, InvalidInput

FORMAT_VERSION = 1


@dataclass(slots=True)
class GraphHit:
    """A node reached by expansion: its score and the path from the seed that gave it."""

    score: float
    path: list[str] = field(default_factory=list)

    @property
    def hops(self) -> int:
        """Edges between the seed and this node."""
        return len(self.path) - 1


class LinkGraph:
    """Undirected weighted links with a kind, and decayed multi-hop expansion."""

    def __init__(self):
        self._graph = nx.MultiGraph()
        self._lock = threading.RLock()

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str, float]]) -> LinkGraph:
        """A graph holding the (a, b, kind, weight) links given."""
        graph = cls()
        for a, b, kind, weight in rows:
            graph.add_link(a, b, kind, weight)
        return graph

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    @property
    def edge_count(self) -> int:
        """How many (node, node, kind) links the graph holds."""
        with self._lock:
            return self._graph.number_of_edges()

    def __contains__(self, node: object) -> bool:
        return node in self._graph

    def add_node(self, node: str) -> None:
        """Make `node` known even before it has links."""
        with self._lock:
            self._graph.add_node(node)

    def add_link(self, a: str, b: str, kind: str, weight: float = 1.0) -> None:
        """Link a and b; a second link of the same kind replaces the first's weight."""
        if a == b:
            raise InvalidInput("a node cannot link to itself")
        if not 0.0 < weight <= 1.0:
            raise InvalidInput(f"link weight must be in (0, 1], got {weight}")
        with self._lock:
            self._graph.add_edge(a, b, key=kind, weight=float(weight))

    def remove_link(self, a: str, b: str, kind: str) -> None:
        """Drop one kind of link between a and b, if present."""
        with self._lock:
            if self._graph.has_edge(a, b, key=kind):
                self._graph.remove_edge(a, b, key=kind)

    def remove_node(self, node: str) -> None:
        """Drop a node and all its links; unknown nodes are ignored."""
        with self._lock:
            if node in self._graph:
                self._graph.remove_node(node)

    def degree(self, node: str) -> int:
        """How many distinct neighbours `node` has."""
        with self._lock:
            return len(self._graph[node]) if node in self._graph else 0

    def links(self, node: str) -> list[tuple[str, str, float]]:
        """Every (other, kind, weight) link of `node`."""
        with self._lock:
            if node not in self._graph:
                return []
            return [
                (other, kind, data["weight"])
                for other, kinds in self._graph[node].items()
                for kind, data in kinds.items()
            ]

    def kinds(self, a: str, b: str) -> dict[str, float]:
        """The weight of each kind of link between a and b (empty when unlinked)."""
        with self._lock:
            between = self._graph._adj.get(a, {}).get(b, {})
            return {kind: data["weight"] for kind, data in between.items()}

    def expand(
        self,
        seeds: dict[str, float],
        hops: int = 2,
        decay: float = 0.5,
        limit: int = 50,
        *,
        include_seeds: bool = True,
    ) -> dict[str, GraphHit]:
        """Nodes within `hops` of the seeds, scored seed × decay^hops × edge weights."""
        if hops < 0 or not 0.0 < decay <= 1.0 or limit <= 0:
            raise InvalidInput("expand needs hops >= 0, 0 < decay <= 1 and limit > 0")
        with self._lock:
            best = {s: GraphHit(score, [s]) for s, score in seeds.items() if s in self._graph}
            frontier = dict(best)
            for _ in range(hops):
                frontier = self._step(frontier, decay, best, beam=4 * limit)
                if not frontier:
                    break
        if not include_seeds:
            best = {node: hit for node, hit in best.items() if node not in seeds}
        ranked = sorted(best.items(), key=lambda item: -item[1].score)[:limit]
        return dict(ranked)

    def _step(
        self, frontier: dict[str, GraphHit], decay: float, best: dict[str, GraphHit], beam: int
    ) -> dict[str, GraphHit]:
        reached: dict[str, tuple[float, GraphHit]] = {}  # node: (score, hit it is reached from)
        adjacency = self._graph._adj  # networkx's own dicts: its read-only views cost 2-3x
        for node, hit in frontier.items():
            base, path = hit.score * decay, hit.path
            for other, kinds in adjacency[node].items():
                score = base * _strongest(kinds)
                known = reached.get(other)
                if (known is not None and score <= known[0]) or other in path:
                    continue
                reached[other] = (score, hit)
        # Only the strongest nodes walk on, which bounds the cost around hub nodes; their
        # paths are built only now.
        kept = sorted(reached.items(), key=lambda item: -item[1][0])[:beam]
        stepped = {}
        for node, (score, parent) in kept:
            hit = stepped[node] = GraphHit(score, [*parent.path, node])
            if score > best.get(node, _NOWHERE).score:
                best[node] = hit
        return stepped

    def save(self, path: str | Path) -> None:
        """Write the graph atomically as JSON."""
        with self._lock:
            edges = [[a, b, kind, data["weight"]] for a, b, kind, data in
                     self._graph.edges(keys=True, data=True)]
            lonely = [n for n in self._graph.nodes if self._graph.degree(n) == 0]
        body = {"version": FORMAT_VERSION, "edges": edges, "nodes": lonely}
        write_replacing(Path(path), json.dumps(body, separators=(",", ":")).encode())

    @classmethod
    def load(cls, path: str | Path) -> LinkGraph:
        """Read a graph written by `save`; CorruptBlob if the file is damaged."""
        try:
            body = json.loads(Path(path).read_bytes())
            if body["version"] != FORMAT_VERSION:
                raise ValueError(f"unknown format version {body['version']}")
            graph = cls.build((str(a), str(b), str(k), float(w)) for a, b, k, w in body["edges"])
            for node in body["nodes"]:
                graph.add_node(str(node))
        except (ValueError, KeyError, TypeError, InvalidInput) as exc:
            raise CorruptBlob(f"link graph {path}: {exc}") from exc
        return graph


_NOWHERE = GraphHit(0.0)


def _strongest(kinds: dict[str, dict]) -> float:
    """The weight of the strongest of the links between two nodes."""
    if len(kinds) == 1:
        for data in kinds.values():
            return data["weight"]
    return max(data["weight"] for data in kinds.values())
