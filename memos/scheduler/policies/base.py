"""What a policy is: it plans jobs for a cube at a tick, and runs them idempotently."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import ClassVar

from memcube.item import MemoryItem
from memcube.lifecycle import State, can_transition
from memos.scheduler.memories import Memories
from memos.scheduler.workers import JobContext
from storage.errors import IllegalTransition, NotFound


class Policy(ABC):
    """A rule that moves memories; ``name`` is also its job kind and its history reason."""

    name: ClassVar[str]
    per_cube: ClassVar[bool] = True
    # The memory kind the policy needs (a field of Memories); skipped where it is absent.
    requires: ClassVar[str | None] = None

    @abstractmethod
    def plan(self, memories: Memories, cube_id: str | None,
             settings, now: datetime) -> dict | None:
        """The payload of a job to enqueue now, or None when there is nothing to do."""

    @abstractmethod
    def run(self, ctx: JobContext) -> dict:
        """Do the job; safe to run again after a crash (re-checks before every change)."""


def move_items(ctx: JobContext, item_ids: Sequence[str], target: State,
               still_due: Callable[[MemoryItem], bool] = lambda item: True) -> list[str]:
    """Move each item that is still due to ``target``; returns the ids actually moved."""
    cube = ctx.memories.open_cube(ctx.job.cube_id)
    moved = []
    for done, item_id in enumerate(item_ids, start=1):
        ctx.check_cancelled()
        item = ctx.memories.items.get_many([item_id]).get(item_id)
        if item is not None and can_transition(item.state, target) and still_due(item):
            try:
                cube.set_state(item_id, target, actor=ctx.actor, reason=ctx.reason)
                moved.append(item_id)
            except (IllegalTransition, NotFound):  # changed or gone since: nothing left to do
                pass
        ctx.progress(done / len(item_ids))
    return moved
