"""Activation memory (the KV cache) as callers see it: warm, list, count, evict, pin."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from memos.activation.promotion import ActivationPromotion
from memos.settings import Settings


class ActivationCalls:
    """The KV cache's calls; ``kv_*`` answers are JSON-friendly, as over HTTP."""

    home: Path
    settings: Settings
    _activation_promotion: ActivationPromotion

    def warm(self, cube_id: str, item_ids: Sequence[str], user: str | None = None) -> int:
        """Precompute the KV of these notes' prompt chunks: the prefix-tree path of a first turn
        given them (exact mode), or each chunk alone (blend), for ``user``'s own chats;
        returns how many were warmed."""
        return self._activation_promotion.warm(self.get_cube(cube_id, user), item_ids, user)

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

    def forget_kv(self, texts: Sequence[str]) -> int:
        """Remove every cached KV entry holding one of these memory texts; how many went."""
        kv_files = (self.home / "kv").glob("*.safetensors")
        if not texts or (self._activation is None and next(kv_files, None) is None):
            return 0
        return self.activation.forget_texts(texts)
