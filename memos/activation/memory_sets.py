"""Which sets of notes chats placed in their prompts together, and how often (hot memory sets).

In exact mode a first turn's prompt is the system head followed by its memories in canonical
order, so every chat given the same set of notes walks the same prefix-tree path. Counting
those sets is what lets the scheduler pin the path nodes that are asked for again and again
(the head, and the prefixes many sets share). The
log lives in the process that serves the chats (the one whose KV tiers it pins) and keeps the
most recent uses only.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from storage.blobs import atomic_write

MemorySet = tuple[str, ...]


class MemorySetLog:
    """A bounded log of (time, cube, memory set) for each chat turn that placed memories."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._uses: deque[tuple[datetime, str, MemorySet]] = deque(maxlen=capacity)
        self._tenants: deque[tuple[str, str | None]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(self, at: datetime, cube_id: str, item_ids: Sequence[str],
               tenant: str | None = None) -> None:
        """One chat (of ``tenant``) placed these notes of this cube in its prompt."""
        if item_ids:
            with self._lock:
                self._uses.append((at, cube_id, tuple(item_ids)))
                self._tenants.append((cube_id, tenant))

    def tenant(self, cube_id: str) -> str | None:
        """Whose chats placed this cube's notes most often (their KV namespace is where the
        cube's pins help); None when only the embedded caller did, or nobody."""
        with self._lock:
            counts = Counter(tenant for cube, tenant in self._tenants if cube == cube_id)
        return counts.most_common(1)[0][0] if counts else None

    def hot(self, cube_id: str, since: datetime, min_uses: int) -> list[MemorySet]:
        """Sets of this cube used at least ``min_uses`` times since then, most used first."""
        with self._lock:
            counts = Counter(ids for at, cube, ids in self._uses
                             if cube == cube_id and at >= since)
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
        return [ids for ids, count in ranked if count >= min_uses]

    def uses(self, cube_id: str, memory_sets: Sequence[MemorySet]) -> dict[MemorySet, int]:
        """How often chats placed each of these sets of this cube (over the whole log)."""
        wanted = {tuple(ids) for ids in memory_sets}
        with self._lock:
            return dict(Counter(ids for _, cube, ids in self._uses
                                if cube == cube_id and ids in wanted))

    def used(self, cube_id: str, since: datetime) -> bool:
        """Whether any chat placed notes of this cube since then."""
        with self._lock:
            return any(cube == cube_id and at >= since for at, cube, _ in self._uses)


class PinnedSets:
    """Per cube, the memory sets the pins were chosen for and the node keys pinned for them
    (the most used nodes of those sets' paths), kept in a small JSON file so pins and their
    owners survive a restart."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._by_cube: dict[str, dict] = self._load()

    def sets(self, cube_id: str) -> list[MemorySet]:
        """The memory sets pinned for this cube."""
        return [tuple(ids) for ids in self._by_cube.get(cube_id, {}).get("sets", [])]

    def keys(self, exclude: str | None = None) -> list[str]:
        """Node keys pinned for every cube but ``exclude``."""
        return [key for cube, pins in self._by_cube.items() if cube != exclude
                for key in pins["keys"]]

    def replace(self, cube_id: str, sets: list[MemorySet], keys: list[str]) -> None:
        """This cube's pins are now these (none: the cube is dropped)."""
        if sets:
            self._by_cube[cube_id] = {"sets": [list(ids) for ids in sets], "keys": keys}
        else:
            self._by_cube.pop(cube_id, None)
        atomic_write(self.path, json.dumps(self._by_cube).encode())

    def _load(self) -> dict[str, dict]:
        try:
            loaded = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # no file, or a damaged one: only the pins' owners are lost
        return {cube: pins for cube, pins in loaded.items()
                if isinstance(pins, dict) and isinstance(pins.get("keys"), list)
                and isinstance(pins.get("sets"), list)} if isinstance(loaded, dict) else {}
