"""evict: KV cache tiers and loaded adapters over their byte budgets give up entries."""

from __future__ import annotations

from datetime import datetime

from memos.scheduler.memories import Memories
from memos.scheduler.policies.base import Policy
from memos.scheduler.workers import JobContext


class EvictPolicy(Policy):
    """Bring every budgeted store back under its budget (each tick)."""

    name = "evict"
    per_cube = False
    requires = "enforce_budgets"

    def plan(self, memories: Memories, cube_id: None,
             settings: None, now: datetime) -> dict | None:
        return {}

    def run(self, ctx: JobContext) -> dict:
        # Each store's own eviction policy picks victims; pinned (frozen) entries stay.
        report = ctx.memories.enforce_budgets()
        return {"report": report if isinstance(report, dict | int | float) else str(report)}
