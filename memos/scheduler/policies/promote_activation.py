"""promote_activation: often-retrieved notes get their KV precomputed; of the prefix-tree paths
of the memory sets chats placed, the nodes used most (the head, then the prefixes many sets
share) are pinned within half the host budget, so a burst of other questions cannot evict
them."""

from __future__ import annotations

from datetime import datetime, timedelta

from memcube.lifecycle import State
from memos.scheduler.memories import Memories
from memos.scheduler.policies.base import Policy, move_items
from memos.scheduler.settings import PromoteActivationSettings
from memos.scheduler.workers import JobContext


class PromoteActivationPolicy(Policy):
    """Warm the KV of notes retrieved ``min_retrievals`` times in ``window_s`` and activate
    them; pin the paths of memory sets placed that often in the window."""

    name = "promote_activation"
    requires = "activation"

    def plan(self, memories: Memories, cube_id: str, settings: PromoteActivationSettings,
             now: datetime) -> dict | None:
        since = now - timedelta(seconds=settings.window_s)
        hot = memories.retrievals.hot_items(cube_id, since, settings.min_retrievals,
                                            (State.CREATED.value,))
        # Every set placed in the window: the prefix a hot note's sets share is hot even when
        # none of those sets was placed twice; the pins weigh each node by all its sets' uses.
        sets = memories.activation.hot_memory_sets(cube_id, since, 1)
        repin = sets is not None and sets != memories.activation.pinned_memory_sets(cube_id)
        if not hot and not repin:
            return None
        # Where exact-mode chats place this cube's notes, the pinned set paths are the warm
        # KV that chats reuse; one path of every hot note together is reused by no chat and,
        # under a tight budget, evicts what they would. So hot notes are then only activated.
        payload = {"item_ids": hot, **({} if sets is None else {"warm": False})}
        if repin:
            payload.update(memory_sets=[list(s) for s in sets], min_uses=settings.min_retrievals)
        return payload

    def run(self, ctx: JobContext) -> dict:
        pinned = {}
        if "memory_sets" in ctx.job.payload:
            pinned = ctx.memories.activation.pin_memory_sets(
                ctx.job.cube_id, ctx.job.payload["memory_sets"], ctx.job.payload.get("min_uses", 1))
            ctx.check_cancelled()
        return {**self._activate(ctx), **pinned}

    def _activate(self, ctx: JobContext) -> dict:
        items = ctx.memories.items.get_many(ctx.job.payload["item_ids"])
        waiting = [i for i in ctx.job.payload["item_ids"]
                   if i in items and items[i].state == State.CREATED]
        if not waiting:
            return {"warmed_chunks": 0, "activated": 0}
        # Warming again after a crash only finds the chunks already cached: idempotent.
        warm = ctx.job.payload.get("warm", True)
        cube = ctx.memories.open_cube(ctx.job.cube_id)
        warmed = ctx.memories.activation.warm(cube, waiting) if warm else 0
        ctx.check_cancelled()
        ctx.progress(0.5, warmed_chunks=warmed)
        moved = move_items(ctx, waiting, State.ACTIVATED,
                           lambda item: item.state == State.CREATED)
        return {"warmed_chunks": warmed, "activated": len(moved)}
