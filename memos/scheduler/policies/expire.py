"""expire: items whose time to live has passed are archived."""

from __future__ import annotations

from datetime import datetime, timedelta

from memcube.item import MemoryItem
from memcube.lifecycle import EXPIRABLE as LIVE
from memcube.lifecycle import State
from memos.scheduler.memories import Memories
from memos.scheduler.policies.base import Policy, move_items
from memos.scheduler.settings import ExpireSettings
from memos.scheduler.workers import JobContext

EXPIRABLE = tuple(state.value for state in LIVE)


class ExpirePolicy(Policy):
    """Archive items past ``created_at + ttl_seconds``."""

    name = "expire"

    def plan(self, memories: Memories, cube_id: str,
             settings: ExpireSettings, now: datetime) -> dict | None:
        due = memories.items.expired_ids(cube_id, now)
        return {"item_ids": due} if due else None

    def run(self, ctx: JobContext) -> dict:
        now = ctx.now()
        moved = move_items(ctx, ctx.job.payload["item_ids"], State.ARCHIVED,
                           lambda item: is_expired(item, now))
        return {"archived": len(moved)}


def is_expired(item: MemoryItem, now: datetime) -> bool:
    """Whether an item's time to live has run out at ``now``."""
    return (item.ttl_seconds is not None and item.state.value in EXPIRABLE
            and item.created_at + timedelta(seconds=item.ttl_seconds) < now)
