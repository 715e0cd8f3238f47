"""promote_activation: often-retrieved notes get their KV precomputed; the prefix-tree paths of
memory sets that chats place together again and again are pinned (within half the host
budget), so a burst of other questions cannot evict them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from memcube.lifecycle import State
from memos.scheduler.policies.base import Policy, move_items
from memos.scheduler.retrievals import hot_items
from memos.scheduler.settings import PromoteActivationSettings
from memos.scheduler.workers import JobContext

if TYPE_CHECKING:
    from memos.scheduler.kernel_port import SchedulerKernel


class PromoteActivationPolicy(Policy):
    """Warm the KV of notes retrieved ``min_retrievals`` times in ``window_s`` and activate
    them; pin the paths of memory sets placed that often in the window."""

    name = "promote_activation"
    requires = "warm_memories"

    def plan(self, mos: SchedulerKernel, cube_id: str, settings: PromoteActivationSettings,
             now: datetime) -> dict | None:
        since = now - timedelta(seconds=settings.window_s)
        hot = hot_items(mos.database, cube_id, since, settings.min_retrievals,
                        (State.CREATED.value,))
        sets = mos.hot_memory_sets(cube_id, since, settings.min_retrievals)
        repin = sets is not None and sets != mos.pinned_memory_sets(cube_id)
        if not hot and not repin:
            return None
        return {"item_ids": hot, **({"memory_sets": [list(s) for s in sets]} if repin else {})}

    def run(self, ctx: JobContext) -> dict:
        pinned = {}
        if "memory_sets" in ctx.job.payload:
            pinned = ctx.mos.pin_memory_sets(ctx.job.cube_id, ctx.job.payload["memory_sets"])
            ctx.check_cancelled()
        return {**self._activate(ctx), **pinned}

    def _activate(self, ctx: JobContext) -> dict:
        items = ctx.mos.items.get_many(ctx.job.payload["item_ids"])
        waiting = [i for i in ctx.job.payload["item_ids"]
                   if i in items and items[i].state == State.CREATED]
        if not waiting:
            return {"warmed_chunks": 0, "activated": 0}
        # Warming again after a crash only finds the chunks already cached: idempotent.
        warmed = ctx.mos.warm_memories(ctx.job.cube_id, waiting)
        ctx.check_cancelled()
        ctx.progress(0.5, warmed_chunks=warmed)
        moved = move_items(ctx, waiting, State.ACTIVATED,
                           lambda item: item.state == State.CREATED)
        return {"warmed_chunks": warmed, "activated": len(moved)}
