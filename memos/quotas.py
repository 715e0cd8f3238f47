"""Storage quotas: memories per cube and text per user, checked in the transaction that stores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memcube.item_store import Holdings
from storage.errors import QuotaExceeded


@dataclass(slots=True)
class Quotas:
    """How much one cube and one user may hold (memories not deleted count)."""

    max_memories_per_cube: int = 100_000
    max_bytes_per_user: int = 1 << 30

    def __post_init__(self) -> None:
        if self.max_memories_per_cube < 1 or self.max_bytes_per_user < 1:
            raise ValueError("quotas must be positive")

    def check_add(self, holdings: Holdings, texts: Sequence[str]) -> None:
        """Raise QuotaExceeded unless the cube and its owner, holding ``texts`` too (counted
        in ``holdings``), stay within their quotas."""
        adding = len(texts)
        if holdings.kept > self.max_memories_per_cube:
            raise QuotaExceeded(
                f"cube {holdings.cube_id} holds {holdings.kept - adding} memories; adding "
                f"{adding} would pass the limit of {self.max_memories_per_cube} memories per cube")
        added = sum(len(text.encode()) for text in texts)
        if holdings.owner_text_bytes > self.max_bytes_per_user:
            raise QuotaExceeded(
                f"the cube's owner stores {holdings.owner_text_bytes - added} bytes of text; "
                f"adding {added} would pass the limit of {self.max_bytes_per_user} bytes per user")

    def check_import(self, holdings: Holdings) -> None:
        """Raise QuotaExceeded unless a cube just imported, counted in ``holdings``, and its
        owner stay within their quotas."""
        if holdings.kept > self.max_memories_per_cube:
            raise QuotaExceeded(
                f"the archive holds {holdings.kept} memories, past the limit of "
                f"{self.max_memories_per_cube} memories per cube")
        if holdings.owner_text_bytes > self.max_bytes_per_user:
            raise QuotaExceeded(
                f"importing would bring the owner's text to {holdings.owner_text_bytes} bytes, "
                f"past the limit of {self.max_bytes_per_user} bytes per user")


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
