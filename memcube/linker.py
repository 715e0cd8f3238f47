"""Linking new notes to older ones (similarity and shared keywords) and evolving their tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from memcube.item import MemoryItem
from memcube.item_store import ItemStore
from memcube.lifecycle import EDITABLE, SEARCHABLE, State
from memcube.plaintext_index import PlaintextIndex
from storage import change_log
from storage.clock import Clock
from storage.database import Database, upsert
from storage.schema import ItemRow, LinkRow


@dataclass(slots=True)
class LinkSettings:
    """When two notes get linked, and when a link changes the older note's tags."""

    similar_threshold: float = 0.55
    max_similar: int = 5
    max_keyword_fanout: int = 30  # keywords shared by more notes than this are too common
    evolve_threshold: float = 0.7

    @classmethod
    def from_cube(cls, settings: dict) -> LinkSettings:
        """Per-cube overrides of the defaults."""
        return cls(**{k: settings[k] for k in cls.__slots__ if k in settings})


class Linker:
    """Writes link rows for new notes and mirrors them into the cube's graph."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def rows(self, cube_id: str) -> list[tuple[str, str, str, float]]:
        """Every link of a cube as (source, target, kind, weight), but none to a deleted note.

        Deleting a note drops it from the live graph; a graph rebuilt from SQL must agree.
        """
        deleted = select(ItemRow.id).where(ItemRow.cube_id == cube_id,
                                           ItemRow.state == State.DELETED.value)
        with self._database.session() as session:
            rows = session.scalars(select(LinkRow).where(
                LinkRow.cube_id == cube_id, LinkRow.source_id.not_in(deleted),
                LinkRow.target_id.not_in(deleted)))
            return [(r.source_id, r.target_id, r.kind, r.weight) for r in rows]

    def rows_of(self, cube_id: str, item_ids: Sequence[str]) -> list[tuple[str, str, str, float]]:
        """The links of a cube that touch these notes, as ``rows`` gives them."""
        if not item_ids:
            return []
        ids = list(item_ids)
        with self._database.session() as session:
            rows = session.scalars(select(LinkRow).where(
                LinkRow.cube_id == cube_id,
                LinkRow.source_id.in_(ids) | LinkRow.target_id.in_(ids)))
            return [(r.source_id, r.target_id, r.kind, r.weight) for r in rows]

    def link_new(self, cube_id: str, cube_settings: dict, items: Sequence[MemoryItem],
                 index: PlaintextIndex, store: ItemStore) -> None:
        """Link each new note to its nearest notes and to notes sharing its keywords."""
        settings = LinkSettings.from_cube(cube_settings)
        chosen: dict[tuple[str, str], tuple[str, float]] = {}
        evolve: list[tuple[MemoryItem, MemoryItem]] = []
        neighbours = index.nearest_many(np.stack([item.embedding for item in items]),
                                        settings.max_similar + 1, SEARCHABLE, store.get_many,
                                        min_score=settings.similar_threshold)
        for item, nearest in zip(items, neighbours, strict=True):
            for other, score in nearest:
                if other.id != item.id:
                    _keep(chosen, item.id, other.id, "similar", score)
                    if score >= settings.evolve_threshold:
                        evolve.append((item, other))
            for other_id, weight in _keyword_neighbours(index.keyword_index, item, settings):
                _keep(chosen, item.id, other_id, "keyword", weight)
        self._store(cube_id, chosen, index)
        _evolve(store, cube_id, evolve, index)

    def _store(self, cube_id: str, chosen: dict, index: PlaintextIndex) -> None:
        if not chosen:
            return
        now = self._clock.now()
        rows = [{"source_id": source, "target_id": target, "cube_id": cube_id, "kind": kind,
                 "weight": round(weight, 4), "created_at": now}
                for (source, target), (kind, weight) in chosen.items()]
        with self._database.session() as session:
            upsert(session, LinkRow, rows, keys=("source_id", "target_id"))
            change_log.append(session, cube_id, [row["source_id"] for row in rows],
                              change_log.LINKED, now)
        for row in rows:
            index.add_link(row["source_id"], row["target_id"], row["kind"], row["weight"])


def _keep(chosen: dict, a: str, b: str, kind: str, weight: float) -> None:
    pair = (min(a, b), max(a, b))
    if pair not in chosen or chosen[pair][1] < weight:
        chosen[pair] = (kind, weight)


def _keyword_neighbours(keyword_index: dict[str, set[str]], item: MemoryItem,
                        settings: LinkSettings) -> list[tuple[str, float]]:
    shared: dict[str, int] = {}
    for keyword in {word.lower() for word in item.keywords}:
        holders = keyword_index.get(keyword, set())
        if len(holders) > settings.max_keyword_fanout:
            continue
        for other in holders - {item.id}:
            shared[other] = shared.get(other, 0) + 1
    return [(other, min(1.0, 0.3 + 0.2 * count)) for other, count in shared.items()]


def _evolve(store: ItemStore, cube_id: str, pairs: list[tuple[MemoryItem, MemoryItem]],
            index: PlaintextIndex) -> None:
    """Older notes learn the tags of the new notes they were linked to (recorded in history,
    and in the index)."""
    learned = _learned_tags(pairs)
    current = store.get_many(learned)
    changes = {}
    for old_id, (tags, sources) in learned.items():
        item = current.get(old_id)
        if item is None or item.state not in EDITABLE or tags <= set(item.tags):
            continue
        changes[old_id] = ({"tags": sorted(set(item.tags) | tags)},
                           "linked to " + ", ".join(sources))
    for item_id in store.update_many(cube_id, changes, actor="memos", event="evolved"):
        index.set_tags(item_id, changes[item_id][0]["tags"])


def _learned_tags(pairs: list[tuple[MemoryItem, MemoryItem]]) -> dict[str, tuple[set, list]]:
    """Per older note: the tags of the new notes linked to it, and those notes' ids."""
    learned: dict[str, tuple[set[str], list[str]]] = {}
    for new, old in pairs:
        tags, sources = learned.setdefault(old.id, (set(), []))
        tags.update(new.tags)
        sources.append(new.id)
    return learned
