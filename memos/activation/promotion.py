"""Notes promoted into activation memory: their KV warmed, and the prefix-tree paths of the
memory sets chats place together pinned. The chat model loads only when KV must be computed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from memcube.cube import MemCube
from memcube.item_store import ItemStore
from memcube.lifecycle import SEARCHABLE

if TYPE_CHECKING:  # torch: only named here
    from memos.activation.memory import ActivationMemory

PINNED_SETS_FILE = "pinned-sets.json"  # in the KV folder; ActivationMemory keeps it


class ActivationPromotion:
    """Warm a cube's notes and pin its memory sets' paths; read set use without loading."""

    def __init__(self, activation: Callable[[], ActivationMemory],
                 loaded: Callable[[], ActivationMemory | None], items: ItemStore,
                 activation_mode: str, kv_folder: Path) -> None:
        self._activation = activation  # loads the model when first called
        self._loaded = loaded  # the activation memory when already loaded, else None
        self._items = items
        self._activation_mode = activation_mode
        self._kv_folder = kv_folder

    def warm(self, cube: MemCube, item_ids: Sequence[str], tenant: str | None = None) -> int:
        """Precompute the KV of these notes' prompt chunks: the prefix-tree path of a first turn
        of ``tenant`` given them (exact mode), or each chunk alone (blend); returns how many
        were warmed."""
        items = sorted((cube.get(item_id) for item_id in item_ids),
                       key=lambda item: (item.created_at, item.seq, item.id))
        texts, ids = [i.text for i in items], [i.id for i in items]
        if self._activation_mode == "blend":
            return len(self._activation().warm_texts(texts, cube.id, ids))
        return len(self._activation().warm_path(texts, cube.id, ids, tenant=tenant))

    def hot_memory_sets(self, cube_id: str, since: datetime,
                        min_uses: int) -> list[tuple[str, ...]] | None:
        """Sets of a cube's notes that exact-mode chats placed together ``min_uses`` times
        since then, hottest first; None when no chat here placed the cube's notes since."""
        activation = self._loaded()
        if activation is None or not activation.memory_sets.used(cube_id, since):
            return None
        return activation.memory_sets.hot(cube_id, since, min_uses)

    def pinned_memory_sets(self, cube_id: str) -> list[tuple[str, ...]]:
        """The memory sets of a cube whose first-turn KV paths are pinned."""
        if self._loaded() is None and not (self._kv_folder / PINNED_SETS_FILE).exists():
            return []
        return self._activation().pinned_sets.sets(cube_id)

    def pin_memory_sets(self, cube_id: str, memory_sets: Sequence[Sequence[str]],
                        min_uses: int = 1) -> dict:
        """Warm and pin the first-turn KV path nodes of these sets of a cube's live notes that
        save the most (within half the host budget); the cube's other pins are released."""
        found, texts = [], []
        for memory_set in memory_sets:
            items = [item for item in self._items.get_many(memory_set).values()
                     if item.cube_id == cube_id and item.state in SEARCHABLE]
            if len(items) == len(memory_set):  # a set with a note gone is not pinned
                found.append(tuple(memory_set))
                ordered = sorted(items, key=lambda item: (item.created_at, item.seq, item.id))
                texts.append([item.text for item in ordered])
        activation = self._activation()
        return activation.pin_paths(cube_id, found, texts, min_uses,
                                    tenant=activation.memory_sets.tenant(cube_id))
