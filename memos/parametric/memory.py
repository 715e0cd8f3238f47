"""Parametric memory of the kernel: distilling cubes into adapters and attaching them."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from memcube.adapter_records import AdapterRecord, AdapterRecords
from memcube.cube import MemCube
from memcube.item_store import ItemStore
from memcube.lifecycle import SEARCHABLE, State
from memos.parametric import (
    AdapterArtifact,
    AdapterManager,
    AdapterStore,
    DistillConfig,
    DistillNote,
    distill,
)
from memos.parametric.shards import split_notes
from storage.cache_failures import CacheFailures
from storage.clock import Clock
from storage.errors import CorruptBlob, InvalidInput, MemosError, NotFound

MAX_DISTILL_NOTES = 2000
logger = logging.getLogger(__name__)


@dataclass(slots=True)
class AdapterInfo:
    """A cube's adapter as the kernel reports it."""

    id: str
    cube_id: str
    fingerprint: str
    items: dict[str, int]
    steps: int
    final_loss: float | None
    size: int
    stale: bool
    created_at: datetime
    damaged: str | None = None  # why its files failed their checksum, once found
    shard: ShardPlace | None = None  # where it sits in a sharded distillation, if it does
    evidence: int | None = None  # check questions it answered right (None: not measured)

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        shard = self.shard
        return {"id": self.id, "cube_id": self.cube_id, "fingerprint": self.fingerprint,
                "items": len(self.items), "steps": self.steps, "final_loss": self.final_loss,
                "size": self.size, "stale": self.stale, "damaged": self.damaged,
                "created_at": self.created_at.isoformat(),
                "shard_group": shard.group if shard else None,
                "shard": shard.index if shard else None,
                "shards": shard.count if shard else None, "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class ShardPlace:
    """An adapter's shard: its group (one sharded distillation), index and the group's size."""

    group: str
    index: int
    count: int


class ParametricMemory:
    """LoRA adapters distilled from cubes, stored under the home folder, attached per request."""

    def __init__(self, engine, home: Path, records: AdapterRecords, items: ItemStore,
                 clock: Clock, budget_bytes: int, check_questions: int = 0,
                 on_stale: Callable[[str], object] | None = None) -> None:
        self._engine = engine
        self._home = Path(home)
        self._records = records
        self._items = items
        self._clock = clock
        self.store = AdapterStore(self._home / "adapters")
        self.manager = AdapterManager(engine, self.store, budget_bytes)
        self.failures = CacheFailures(logger)
        self._lock = threading.Lock()  # one distillation at a time
        self.check_questions = check_questions  # asked of each new adapter (0: not measured)
        self._on_stale = on_stale  # queues a cube's forget retrain (queue_forget_retrain)

    def distill(self, cube: MemCube, item_ids: Sequence[str] | None = None,
                config: DistillConfig | None = None,
                progress: Callable[[int, int, float], None] | None = None,
                cancel: threading.Event | None = None,
                shard: ShardPlace | None = None) -> AdapterInfo:
        """Train an adapter on the cube's notes (all searchable ones unless ``item_ids``)."""
        notes = self.notes_to_distill(cube, item_ids)
        with self._lock:
            artifact = distill(self._engine, notes, config, progress=progress, cancel=cancel)
            self.store.save(artifact)
        try:
            self._record(cube.id, notes, artifact, shard)
        except Exception:  # e.g. the cube was deleted meanwhile: no row will name these files
            self.store.delete(artifact.id)
            raise
        adapter = self.get(artifact.id)
        if adapter.stale and self._on_stale is not None:
            # A note was deleted or changed while it trained: that forget ran before this
            # record existed, so it queued no retrain for this adapter.
            self._on_stale(cube.id)
        return adapter

    def _record(self, cube_id: str, notes: list[DistillNote], artifact: AdapterArtifact,
                shard: ShardPlace | None) -> None:
        """Mark the notes distilled and record the saved adapter."""
        versions = self._mark_distilled(cube_id, notes, artifact.id)
        evidence = self._evidence(artifact.id, notes)
        self._records.add(AdapterRecord(
            id=artifact.id, cube_id=cube_id, fingerprint=artifact.metadata.base_fingerprint,
            path=f"adapters/{artifact.id}", items=versions, steps=artifact.metadata.steps,
            final_loss=artifact.metadata.final_loss, size=artifact.metadata.bytes,
            created_at=self._clock.now(), evidence=evidence,
            shard_group=shard.group if shard else None,
            shard=shard.index if shard else None, shards=shard.count if shard else None))

    def distill_shards(self, cube: MemCube, shards: int, config: DistillConfig | None = None,
                       progress: Callable[[int, int, float], None] | None = None,
                       cancel: threading.Event | None = None) -> list[AdapterInfo]:
        """Train one adapter per non-empty shard of the cube's live notes (one shard group)."""
        notes = self.notes_to_distill(cube, None)
        group = uuid.uuid4().hex
        return [self.distill(cube, [note.item_id for note in part], config, progress, cancel,
                             ShardPlace(group, index, shards))
                for index, part in enumerate(split_notes(notes, shards)) if part]

    def distill_config(self, adapter_id: str) -> DistillConfig:
        """The settings an adapter was trained with (a retrain of its shard uses them)."""
        return DistillConfig(**self.store.metadata(adapter_id).config)

    def weights_checksum(self, adapter_id: str) -> str:
        """The checksum of an adapter's weights file (part of the key of KV computed with it)."""
        return self.store.weights_checksum(adapter_id)

    def _evidence(self, adapter_id: str, notes: list[DistillNote]) -> int | None:
        """Check questions the new adapter answers right (None when none are asked)."""
        if self.check_questions == 0:
            return None
        from memos.parametric.adapter_evidence import count_answered

        return count_answered(self._engine, self.manager, adapter_id, notes,
                              self.check_questions)

    @property
    def training(self) -> bool:
        """Whether a distillation is running now."""
        return self._lock.locked()

    def list(self, cube_id: str) -> list[AdapterInfo]:
        """A cube's adapters, newest first, each saying whether it is stale."""
        rows = self._records.newest_first(cube_id)
        current = self._current_versions(cube_id) if rows else {}  # reads every note
        return [self._info(row, current) for row in rows]

    def get(self, adapter_id: str) -> AdapterInfo:
        """One adapter, or NotFound."""
        row = self._records.get(adapter_id)
        return self._info(row, self._current_versions(row.cube_id))

    def delete(self, adapter_id: str) -> None:
        """Unload and remove an adapter."""
        info = self.get(adapter_id)
        if info.id in self.manager.loaded:
            self.manager.unload(info.id)
        self._records.delete(adapter_id)
        self.store.delete(adapter_id)

    def attachable(self, cube_ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """The newest fresh, healthy adapter of each cube, loaded and made for the loaded model.

        A stale adapter (one that learned a note since deleted or changed) is never attached;
        a damaged one is skipped (and marked so when its files first fail their checksum);
        the notes say which and why.
        """
        ids, notes = [], []
        for cube_id in cube_ids:
            for adapter in self.list(cube_id):
                if adapter.fingerprint != self._engine.fingerprint:
                    continue
                if adapter.stale:
                    notes.append(f"adapter {adapter.id} skipped: stale (a note it learned "
                                 "was deleted or changed)")
                    continue
                reason = adapter.damaged or self._load_checked(adapter.id)
                if reason is None:
                    ids.append(adapter.id)
                    break
                notes.append(f"adapter {adapter.id} skipped: {reason}")
        return ids, notes

    def verify(self, adapter_id: str) -> AdapterInfo:
        """Check an adapter's files against their checksums; marks (or clears) its damage."""
        self.get(adapter_id)
        try:
            self.store.verify(adapter_id)
            self._set_damaged(adapter_id, None)
        except (CorruptBlob, NotFound) as error:
            self._set_damaged(adapter_id, str(error))
        return self.get(adapter_id)

    def try_load(self, adapter_id: str) -> str | None:
        """Load an adapter; why it cannot be (damaged files, then marked so), else None."""
        return self._load_checked(adapter_id)

    def _load_checked(self, adapter_id: str) -> str | None:
        """Load an adapter; on damaged files mark it and return why (None when loaded)."""
        try:
            self.manager.load(adapter_id)
            return None
        except (CorruptBlob, NotFound) as error:
            self._set_damaged(adapter_id, str(error))
            return str(error)

    def _set_damaged(self, adapter_id: str, reason: str | None) -> None:
        self._records.mark_damaged(adapter_id, reason)

    def attached(self, adapter_ids: Sequence[str]) -> AbstractContextManager:
        """Run a request with these adapters on (equal-weight merge when several)."""
        return self.manager.attached(list(adapter_ids))

    def loadable(self, adapter_ids: Sequence[str]) -> list[str]:
        """The adapters a request can use: all of them once attached as a set, else none
        (over the budget, damaged, unreadable): the request then runs on the base model."""
        if not adapter_ids:
            return []
        try:
            with self.manager.attached(list(adapter_ids)):
                return list(adapter_ids)
        except (MemosError, OSError, RuntimeError) as error:
            self.failures.record("attach", error)
            return []

    def notes_to_distill(self, cube: MemCube, item_ids: Sequence[str] | None) -> list[DistillNote]:
        """The live notes a distillation of ``cube`` would learn (InvalidInput when none)."""
        if item_ids:
            items = [self._items.get(item_id, cube.id) for item_id in item_ids]
        else:
            items, _ = self._items.list(cube.id, SEARCHABLE, limit=MAX_DISTILL_NOTES)
        notes = [DistillNote(i.id, i.version, i.text) for i in items if i.state in SEARCHABLE]
        if not notes:
            raise InvalidInput(f"cube {cube.id} has no notes to distill")
        return notes

    def _current_versions(self, cube_id: str) -> dict[str, int]:
        items, _ = self._items.list(cube_id, SEARCHABLE, limit=10**9)
        return {item.id: item.version for item in items}

    def _info(self, row: AdapterRecord, current: dict[str, int]) -> AdapterInfo:
        learned = dict(row.items)
        # Deleting or editing a distilled note makes the adapter stale; new notes do not.
        stale = any(current.get(item_id) != version for item_id, version in learned.items())
        shard = ShardPlace(row.shard_group, row.shard, row.shards) \
            if row.shard_group is not None else None
        return AdapterInfo(row.id, row.cube_id, row.fingerprint, learned, row.steps,
                           row.final_loss, row.size, stale, row.created_at, row.damaged,
                           shard, row.evidence)

    def _mark_distilled(self, cube_id: str, notes: list[DistillNote],
                        adapter_id: str) -> dict[str, int]:
        """Activate and annotate the distilled notes; returns their versions afterwards."""
        reason = f"distilled into adapter {adapter_id}"
        versions = {}
        for note in notes:
            item = self._items.get(note.item_id, cube_id)
            learned_current = item.version == note.version
            if item.state == State.CREATED:
                item = self._items.transition(item.id, cube_id, State.ACTIVATED, "memos", reason)
            self._items.record_event(item.id, cube_id, "distilled", "memos", reason)
            # A note changed or deleted during training keeps the version that was learned,
            # so the adapter is stale from the start.
            versions[item.id] = item.version if learned_current else note.version
        return versions

