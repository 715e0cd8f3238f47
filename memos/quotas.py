"""Storage quotas: memories per cube and text per user, checked before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memcube.item_store import ItemStore
from storage.errors import QuotaExceeded


@dataclass(slots=True)
class Quotas:
    """How much one cube and one user may hold (memories not deleted count)."""

    max_memories_per_cube: int = 100_000
    max_bytes_per_user: int = 1 << 30

    def __post_init__(self) -> None:
        if self.max_memories_per_cube < 1 or self.max_bytes_per_user < 1:
            raise ValueError("quotas must be positive")

    def check_add(self, items: ItemStore, cube_id: str, owner: str,
                  texts: Sequence[str]) -> None:
        """Raise QuotaExceeded unless ``texts`` fit the cube's and its owner's quotas."""
        held = items.count_kept(cube_id)
        if held + len(texts) > self.max_memories_per_cube:
            raise QuotaExceeded(
                f"cube {cube_id} holds {held} memories; adding {len(texts)} would pass the "
                f"limit of {self.max_memories_per_cube} memories per cube")
        used = items.text_bytes_of_owner(owner)
        adding = sum(len(text.encode()) for text in texts)
        if used + adding > self.max_bytes_per_user:
            raise QuotaExceeded(
                f"the cube's owner stores {used} bytes of text; adding {adding} would pass "
                f"the limit of {self.max_bytes_per_user} bytes per user")


def service_limits(settings) -> dict:
    """Every configured limit of the service, grouped, as plain data."""
    return {
        "model": {"max_running": settings.model_max_running,
                  "max_queued_per_user": settings.model_max_queued_per_user,
                  "max_queued": settings.model_max_queued,
                  "chat_max_seconds": settings.chat_max_seconds},
        "jobs": {"max_distills_per_user": settings.max_jobs_per_user, "distills_per_cube": 1},
        "storage": {"max_memories_per_cube": settings.max_memories_per_cube,
                    "max_bytes_per_user": settings.max_bytes_per_user,
                    "history_versions_kept": settings.history_versions_kept},
    }
