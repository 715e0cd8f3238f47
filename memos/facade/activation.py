"""Activation memory (the KV cache) as callers see it: warm, list, count, evict, pin."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from memcube.lifecycle import SEARCHABLE
from memos.settings import Settings


class ActivationCalls:
    """The KV cache's calls; ``kv_*`` answers are JSON-friendly, as over HTTP."""

    home: Path
    settings: Settings

    def warm(self, cube_id: str, item_ids: Sequence[str], user: str | None = None) -> int:
        """Precompute the KV of these notes' prompt chunks: the prefix-tree path of a first turn
        given them (exact mode), or each chunk alone (blend); returns how many were warmed."""
        cube = self.get_cube(cube_id, user)
        items = sorted((cube.get(item_id) for item_id in item_ids),
                       key=lambda item: (item.created_at, item.seq, item.id))
        texts, ids = [i.text for i in items], [i.id for i in items]
        if self.settings.activation_mode == "blend":
            return len(self.activation.warm_texts(texts, cube_id, ids))
        return len(self.activation.warm_path(texts, cube_id, ids))

    def kv_stats(self, user: str | None = None) -> dict:
        """KV cache figures: the whole cache's for admins, else only ``user``'s cubes' chunks."""
        if self.is_admin(user):
            return {"scope": "global", **self.activation.stats()}
        return self.activation.stats_for([cube.id for cube in self.list_cubes(user)])

    def kv_entries(self, cube_id: str | None = None, user: str | None = None) -> list[dict]:
        """The cached chunks of a readable cube's notes, or every chunk (admins only)."""
        if cube_id is None:
            self.require_admin(user)
        else:
            self.get_cube(cube_id, user)
        return self.activation.entries(cube_id)

    def kv_evict(self, key: str, user: str | None = None) -> None:
        """Drop a cached chunk from every tier (admins only)."""
        self.require_admin(user)
        self.activation.evict(key)

    def kv_pin(self, key: str, pinned: bool = True, user: str | None = None) -> None:
        """Keep a cached chunk out of eviction, or release it (admins only)."""
        self.require_admin(user)
        self.activation.pin(key, pinned)

    def hot_memory_sets(self, cube_id: str, since: datetime,
                        min_uses: int) -> list[tuple[str, ...]] | None:
        """Sets of a cube's notes that exact-mode chats placed together ``min_uses`` times
        since then, hottest first; None when no chat here placed the cube's notes since."""
        if self._activation is None or not self._activation.memory_sets.used(cube_id, since):
            return None
        return self._activation.memory_sets.hot(cube_id, since, min_uses)

    def pinned_memory_sets(self, cube_id: str) -> list[tuple[str, ...]]:
        """The memory sets of a cube whose first-turn KV paths are pinned."""
        if self._activation is None and not (self.home / "kv" / "pinned-sets.json").exists():
            return []
        return self.activation.pinned_sets.sets(cube_id)

    def pin_memory_sets(self, cube_id: str, memory_sets: Sequence[Sequence[str]],
                        min_uses: int = 1) -> dict:
        """Warm and pin the first-turn KV path nodes of these sets of a cube's live notes that
        save the most (within half the host budget); the cube's other pins are released."""
        found, texts = [], []
        for memory_set in memory_sets:
            items = [item for item in self.items.get_many(memory_set).values()
                     if item.cube_id == cube_id and item.state in SEARCHABLE]
            if len(items) == len(memory_set):  # a set with a note gone is not pinned
                found.append(tuple(memory_set))
                ordered = sorted(items, key=lambda item: (item.created_at, item.seq, item.id))
                texts.append([item.text for item in ordered])
        return self.activation.pin_paths(cube_id, found, texts, min_uses)

    def forget_kv(self, texts: Sequence[str]) -> int:
        """Remove every cached KV entry holding one of these memory texts; how many went."""
        kv_files = (self.home / "kv").glob("*.safetensors")
        if not texts or (self._activation is None and next(kv_files, None) is None):
            return 0
        return self.activation.forget_texts(texts)
