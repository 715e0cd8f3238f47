"""archive: items nobody has read for a while are archived (frozen ones never)."""

from __future__ import annotations

from datetime import datetime, timedelta

from memcube.item import MemoryItem
from memcube.lifecycle import EXPIRABLE, State
from memos.scheduler.memories import Memories
from memos.scheduler.policies.base import Policy, move_items
from memos.scheduler.settings import ArchiveSettings
from memos.scheduler.workers import JobContext

ARCHIVABLE = EXPIRABLE  # live and not frozen


class ArchivePolicy(Policy):
    """Archive live items last accessed (or, never accessed, created) before ``now - idle_s``."""

    name = "archive"

    def plan(self, memories: Memories, cube_id: str,
             settings: ArchiveSettings, now: datetime) -> dict | None:
        cutoff = now - timedelta(seconds=settings.idle_s)
        due = memories.items.idle_ids(cube_id, ARCHIVABLE, cutoff)
        return {"item_ids": due, "cutoff": cutoff.isoformat()} if due else None

    def run(self, ctx: JobContext) -> dict:
        cutoff = datetime.fromisoformat(ctx.job.payload["cutoff"])
        moved = move_items(ctx, ctx.job.payload["item_ids"], State.ARCHIVED,
                           lambda item: is_idle(item, cutoff))
        return {"archived": len(moved)}


def is_idle(item: MemoryItem, cutoff: datetime) -> bool:
    """Whether a live item was last used (or made) before ``cutoff``."""
    last_used = item.last_accessed_at or item.created_at
    return item.state in ARCHIVABLE and last_used < cutoff
