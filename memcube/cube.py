"""MemCube: one user's managed memories, with their plaintext notes at its core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np

from memcube.cube_store import CubeInfo
from memcube.entry_checks import MAX_ATTRIBUTE_CHARS, MAX_TAGS, check_entry, check_fields
from memcube.index_sync import IndexSync
from memcube.item import MemoryItem, encode_embedding
from memcube.item_store import HistoryEntry, Holdings, ItemStore
from memcube.keywords import extract_attributes
from memcube.lifecycle import SEARCHABLE, State, check_transition, parse_state
from memcube.linker import Linker
from memcube.plaintext_index import PlaintextIndex
from memcube.search import SearchFilters, SearchHit, check_k, check_query, include_states
from memcube.supersession import (
    DETECTED,
    check_can_supersede,
    check_supersedes,
    detected_targets,
    detection_enabled,
    rank_current_first,
    supersede,
)
from memcube.validation import check_json_object, check_texts
from storage.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from storage.schema import ItemRow

# Checks that new notes fit the quotas: (holdings with them counted, their texts) -> None, or
# QuotaExceeded; called inside the transaction that stores them.
Quota = Callable[[Holdings, Sequence[str]], None]
# Drops copies of notes that left search: (texts, item ids, erase). ``erase`` (delete, purge,
# a changed text) also scrubs them from sessions and jobs; archive and merge only drop KV.
Forget = Callable[[list[str], list[str], bool], object]
EXPIRED_BY = "memos"


class MemCube:
    """A cube: add, read, change, search and retire its memories."""

    def __init__(self, info: CubeInfo, *, items: ItemStore, index: PlaintextIndex, embedder,
                 linker: Linker, exporter: Callable[[str, Path], dict] | None = None,
                 quota: Quota | None = None,
                 forget: Forget | None = None,
                 sync: IndexSync | None = None) -> None:
        self.info = info
        self._sync = sync  # catches the index up with other processes' changes
        self._quota = quota
        self._forget = forget  # drops derived copies of notes that leave search (KV, sessions)
        self._items = items
        self._index = index
        self._embedder = embedder
        self._linker = linker
        self._exporter = exporter

    @property
    def id(self) -> str:
        """The cube's id."""
        return self.info.id

    @property
    def name(self) -> str:
        """The cube's name."""
        return self.info.name

    @property
    def owner(self) -> str:
        """The user who owns the cube."""
        return self.info.owner

    @property
    def settings(self) -> dict:
        """Per-cube settings (thresholds, policies)."""
        return self.info.settings

    def export(self, path: str | Path) -> Path:
        """Write this cube to a portable ``.memcube`` archive; returns its path."""
        if self._exporter is None:
            raise InvalidInput("this cube was opened without an archive exporter")
        self._exporter(self.id, Path(path))
        return Path(path)

    def add(self, text: str, metadata: dict | None = None, **fields) -> MemoryItem:
        """Store one note (or return its near-duplicate, unless ``force=True``)."""
        return self.add_many([{"text": text, "metadata": metadata or {}, **fields}])[0]

    def add_many(self, entries: Sequence[Mapping]) -> list[MemoryItem]:
        """Store several notes with one batched embedding; near-duplicates collapse."""
        entries = [check_entry(entry) for entry in entries]
        if not entries:
            return []
        for entry in entries:  # every superseded note exists before anything is written
            if entry.get("supersedes"):
                check_can_supersede(self._items, self.id, entry["supersedes"])
        vectors = self._embedder.embed([entry["text"] for entry in entries])
        threshold = float(self.settings.get("dedupe_threshold", 0.97))
        within_batch = vectors @ vectors.T >= threshold
        stored_twins = self._stored_duplicates(vectors, threshold)
        result: list[MemoryItem | int] = []
        fresh: list[int] = []  # positions in entries of the notes to store
        for position, entry in enumerate(entries):
            earlier = np.flatnonzero(within_batch[position, fresh])  # indexes into fresh
            if entry.get("force") or not (len(earlier) or stored_twins[position]):
                result.append(len(fresh))
                fresh.append(position)
            elif len(earlier):
                result.append(int(earlier[0]))
            else:
                result.append(self._touch(stored_twins[position]))
        detected = self._detect_updates([entries[i] for i in fresh], vectors[fresh])
        stored = self._store([(entries[i], vectors[i]) for i in fresh])
        for item, (target, entry) in zip(stored, detected, strict=True):
            if target:
                supersede(self._items, self.id, target, item, entry.get("actor"), DETECTED)
        items = [stored[r] if isinstance(r, int) else r for r in result]
        for entry, item in zip(entries, items, strict=True):
            if entry.get("supersedes"):
                supersede(self._items, self.id, entry["supersedes"], item, entry.get("actor"))
        return items

    def get(self, item_id: str) -> MemoryItem:
        """One memory of this cube, or NotFound; counts as an access."""
        self.expire_due()
        item = self._items.get(item_id, self.id)
        self._items.touch([item_id])
        return item

    def peek_many(self, item_ids: Sequence[str]) -> dict[str, MemoryItem]:
        """Memories of this cube by id, in one read that counts no access (for overviews)."""
        found = self._items.get_many(item_ids)
        return {item_id: item for item_id, item in found.items() if item.cube_id == self.id}

    def update(self, item_id: str, actor: str | None = None, **fields) -> MemoryItem:
        """Change a memory's text, attributes or metadata; a new version is recorded.

        ``supersedes`` names an older note that this one replaces from its time on."""
        supersedes = check_supersedes(fields.pop("supersedes", None))
        if supersedes:
            check_can_supersede(self._items, self.id, supersedes)
        fields = check_fields({name: value for name, value in fields.items()
                                if value is not None})
        old_text = None
        if "text" in fields:
            fields["embedding"] = encode_embedding(self._embedder.embed_one(fields["text"]))
            old_text = self._items.get(item_id, self.id).text
        item = self._items.update(item_id, self.id, fields, actor=actor)
        if old_text is not None and old_text != item.text:
            self._forget_texts([old_text], [item.id], erase=True)
        self._index.upsert(self._items.seq_of([item.id])[item.id], item)
        if supersedes:
            supersede(self._items, self.id, supersedes, item, actor)
        return item

    def set_state(self, item_id: str, state: str | State, actor: str | None = None,
                  reason: str | None = None) -> MemoryItem:
        """Move a memory through its lifecycle, as the transition table allows."""
        item = self._items.transition(item_id, self.id, parse_state(state), actor, reason)
        if item.state == State.DELETED:
            self._index.remove(item.id)
        if item.state not in SEARCHABLE:
            self._forget_texts([item.text], [item.id], erase=item.state == State.DELETED)
        return item

    def expire_due(self) -> list[str]:
        """Archive memories whose time to live ran out; reads call it, so TTL holds on read
        whether or not the scheduler's expire job has run yet. Returns the ids archived.

        A cube whose ``expire`` policy is disabled keeps its memories past their TTL."""
        archived = []
        if not _expiry_enabled(self.settings):
            return archived
        for item_id in self._items.expired_ids(self.id):
            try:
                self.set_state(item_id, State.ARCHIVED, EXPIRED_BY, "expired: time to live ran out")
                archived.append(item_id)
            except (Conflict, IllegalTransition, NotFound):  # changed or expired meanwhile
                pass
        return archived

    def archive(self, item_id: str, actor: str | None = None) -> MemoryItem:
        """Retire a memory from default search."""
        return self.set_state(item_id, State.ARCHIVED, actor)

    def freeze(self, item_id: str, actor: str | None = None) -> MemoryItem:
        """Pin a memory: never archived, merged or evicted."""
        return self.set_state(item_id, State.FROZEN, actor)

    def activate(self, item_id: str, actor: str | None = None) -> MemoryItem:
        """Bring an archived or frozen memory back into active use."""
        return self.set_state(item_id, State.ACTIVATED, actor)

    def delete(self, item_id: str, actor: str | None = None) -> MemoryItem:
        """Soft-delete a memory (kept in history, never returned by search)."""
        return self.set_state(item_id, State.DELETED, actor)

    def forget_departed(self, seen: Sequence[MemoryItem]) -> int:
        """Forget again the notes read earlier (by a chat still answering) that have left
        search or changed text since: copies stored after their forget ran (the chat's KV and
        session turns) go too. How many had departed."""
        current = self._items.get_many(item.id for item in seen)
        departed = [(item, current.get(item.id)) for item in seen
                    if _departed(item, current.get(item.id))]
        for item, now in departed:
            erase = now is None or now.state == State.DELETED or now.text != item.text
            self._forget_texts([item.text], [item.id], erase=erase)
        return len(departed)

    def purge(self, item_id: str) -> None:
        """Remove a memory and its history for good."""
        text = self._items.get(item_id, self.id).text
        self._items.purge(item_id, self.id)
        self._index.remove(item_id)
        self._forget_texts([text], [item_id], erase=True)

    def merge(self, survivor_id: str, other_ids: Sequence[str], actor: str | None = None,
              reason: str | None = None) -> MemoryItem:
        """Fold near-duplicates into ``survivor_id``; the others point at it, history kept."""
        if survivor_id in other_ids:
            raise InvalidInput("a memory cannot be merged into itself")
        survivor = self._items.get(survivor_id, self.id)
        if survivor.state in (State.MERGED, State.DELETED):
            raise IllegalTransition(f"cannot merge into a {survivor.state} memory")
        for other in other_ids:  # check them all first, so one bad id merges none
            check_transition(self._items.get(other, self.id).state, State.MERGED)
        merged = [self._items.transition(other, self.id, State.MERGED, actor, reason,
                                         merged_into=survivor.id) for other in other_ids]
        self._forget_texts([item.text for item in merged], [item.id for item in merged],
                           erase=False)
        return survivor

    def history(self, item_id: str) -> list[HistoryEntry]:
        """Every recorded change of a memory, oldest first."""
        return self._items.history(item_id, self.id)

    def history_page(self, item_id: str, limit: int = 100,
                     offset: int = 0) -> tuple[list[HistoryEntry], int]:
        """A page of a memory's kept changes, oldest first, and how many are kept."""
        if not 1 <= limit <= 1000 or offset < 0:
            raise InvalidInput("limit must be 1..1000 and offset >= 0")
        return self._items.history_page(item_id, self.id, limit, offset)

    def as_of(self, item_id: str, when: datetime) -> MemoryItem:
        """A memory as it was at a past time."""
        return self._items.as_of(item_id, self.id, when)

    def list(self, states: Sequence[str] | None = None, tags: Sequence[str] = (),
             limit: int = 50, offset: int = 0,
             admits: Callable[[MemoryItem], bool] | None = None) -> tuple[list[MemoryItem], int]:
        """A page of memories (newest first; ``admits`` may narrow them) and how many match."""
        if not 1 <= limit <= 1000 or offset < 0:
            raise InvalidInput("limit must be 1..1000 and offset >= 0")
        chosen = None if states is None else [parse_state(s) for s in states]
        self.expire_due()
        return self._items.list(self.id, chosen, tags, limit, offset, admits)

    def links(self, item_id: str) -> list[dict]:
        """The notes this one is linked to, with link kind and weight."""
        self._items.get(item_id, self.id)
        return self._current_index().links(item_id)

    def search(self, query: str, k: int = 10, *, states: Sequence[str] | None = None,
               tags: Sequence[str] = (), metadata: dict | None = None,
               event_after: datetime | None = None, event_before: datetime | None = None,
               written_after: datetime | None = None, written_before: datetime | None = None,
               expand_graph: bool = True, vector: np.ndarray | None = None,
               current_only: bool = False, as_of: datetime | None = None) -> list[SearchHit]:
        """Hybrid search (dense + lexical + graph), best first; each hit says why.

        Current notes rank before superseded ones (``current_only`` leaves those out);
        ``as_of`` sees the notes valid at that moment. ``vector`` is the query's embedding
        when the caller already has it (multi-cube search).
        """
        check_query(query)
        tags = check_texts(tags, "tags", MAX_ATTRIBUTE_CHARS, MAX_TAGS)
        metadata = check_json_object(metadata or {}, "the metadata filter")
        filters = SearchFilters(include_states(states), tuple(tags), metadata,
                                event_after, event_before, written_after, written_before,
                                current_only, as_of)
        vector = self._embedder.embed_one(query) if vector is None else vector
        self.expire_due()
        hits = self._current_index().search(query, vector, check_k(k), filters,
                                            self._items.get_many, expand_graph=expand_graph)
        self._items.touch([hit.item.id for hit in hits], retrieved=True)
        return hits if as_of is not None else rank_current_first(hits)

    def stats(self) -> dict:
        """Items by state and index sizes."""
        self._current_index()
        return {"cube_id": self.id, "items_by_state": self._items.counts_by_state(self.id),
                "indexed": self._index.size, "links": self._index.link_count}

    def save_indexes(self) -> None:
        """Persist the derived indexes (they can always be rebuilt from SQL)."""
        index = self._current_index()
        index.save(self._sync.applied if self._sync is not None else None)

    def _current_index(self) -> PlaintextIndex:
        """The index, caught up with every change logged by any process."""
        if self._sync is not None:
            self._sync.catch_up(self._index)
        return self._index

    def _forget_texts(self, texts: list[str], item_ids: list[str], erase: bool) -> None:
        if self._forget is not None:
            self._forget(texts, item_ids, erase)

    def _stored_duplicates(self, vectors: np.ndarray, threshold: float) -> list[MemoryItem | None]:
        """Per vector, the live stored note it nearly repeats, if any."""
        live = SEARCHABLE
        nearest = self._current_index().nearest_many(vectors, 1, live, self._items.get_many,
                                                     threshold)
        return [found[0][0] if found else None for found in nearest]

    def _detect_updates(self, entries: list[dict],
                        vectors: np.ndarray) -> list[tuple[str | None, dict]]:
        """Per fresh note, the note it corrects when the cube opted in to detection (notes
        that name what they supersede are left as they are)."""
        if not entries or not detection_enabled(self.settings):
            return [(None, entry) for entry in entries]
        texts = [entry["text"] for entry in entries]
        targets = detected_targets(self._current_index(), self._items.get_many, texts, vectors)
        return [(None if entry.get("supersedes") else target, entry)
                for target, entry in zip(targets, entries, strict=True)]

    def _touch(self, item: MemoryItem) -> MemoryItem:
        self._items.touch([item.id])
        return self._items.get(item.id, self.id)

    def _store(self, fresh: list[tuple[dict, np.ndarray]]) -> list[MemoryItem]:
        if not fresh:
            return []
        texts = [entry["text"] for entry, _ in fresh]
        limit = partial(self._quota, texts=texts) if self._quota is not None else None
        rows = [self._row(entry, vector) for entry, vector in fresh]
        with self._sync.applying_own() if self._sync is not None else nullcontext():
            items = self._items.insert(rows, limit=limit)  # each row keeps its own actor
            seqs = self._gone_unless_all(items, self._items.seq_of([item.id for item in items]))
            self._index.upsert_many([(seqs[item.id], item) for item in items])
            self._linker.link_new(self.id, self.settings, items, self._index, self._items)
        current = self._gone_unless_all(items, self._items.get_many(item.id for item in items))
        return [current[item.id] for item in items]

    def _gone_unless_all(self, items: list[MemoryItem], found: dict) -> dict:
        """``found`` when it holds every item; NotFound when the cube was deleted meanwhile."""
        if len(found) < len(items):
            raise NotFound(f"no cube {self.id!r}")
        return found

    def _row(self, entry: dict, vector: np.ndarray) -> ItemRow:
        derived = extract_attributes(entry["text"])
        return ItemRow(
            cube_id=self.id, kind="plaintext", text=entry["text"],
            keywords=list(entry.get("keywords") or derived.keywords),
            tags=list(entry.get("tags") or derived.tags),
            context=entry.get("context") or derived.context,
            meta=dict(entry.get("metadata") or {}),
            source_type=entry.get("source_type") or "api", source_id=entry.get("source_id"),
            actor=entry.get("actor"), session_id=entry.get("session_id"),
            event_time=entry.get("event_time"), ttl_seconds=entry.get("ttl_seconds"),
            embedding=encode_embedding(vector), state=State.CREATED.value,
        )


def _departed(seen: MemoryItem, now: MemoryItem | None) -> bool:
    """Whether a note read as ``seen`` has since left search or changed its text."""
    return now is None or now.state not in SEARCHABLE or now.text != seen.text


def _expiry_enabled(settings: dict) -> bool:
    expire = (settings.get("policies") or {}).get("expire") or {}
    return not isinstance(expire, dict) or expire.get("enabled", True) is not False
