"""promote_parametric: a cube whose notes are stable and often used is distilled (again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from memcube.lifecycle import SEARCHABLE
from memos.scheduler.memories import Memories
from memos.scheduler.policies.base import Policy
from memos.scheduler.settings import PromoteParametricSettings
from memos.scheduler.workers import JobContext

# History events that change what a cube knows (not pinning, warming or distilling notes).
CONTENT_EVENTS = ("created", "updated", "merged", "archived", "deleted")


@dataclass(slots=True)
class CubeShape:
    """What decides distillation: live notes, their last change and the newest adapter."""

    notes: int
    last_change: datetime | None
    has_adapter: bool
    adapter_stale: bool

    @property
    def adapter_outdated(self) -> bool:
        """No adapter yet, or the newest one learned notes since edited or removed."""
        return not self.has_adapter or self.adapter_stale


class PromoteParametricPolicy(Policy):
    """Distill when notes are unchanged for ``stable_s`` and the adapter is missing or stale.

    A first adapter also needs ``min_retrievals`` uses within ``window_s``; a stale one is
    re-distilled once the notes are stable again.
    """

    name = "promote_parametric"
    requires = "parametric"

    def plan(self, memories: Memories, cube_id: str, settings: PromoteParametricSettings,
             now: datetime) -> dict | None:
        shape = cube_shape(memories, cube_id)
        if not _due(shape, settings, now):
            return None
        if not shape.has_adapter:
            since = now - timedelta(seconds=settings.window_s)
            if memories.retrievals.count_since(cube_id, since) < settings.min_retrievals:
                return None
        return {"redistill": shape.has_adapter}

    def run(self, ctx: JobContext) -> dict:
        if not cube_shape(ctx.memories, ctx.job.cube_id).adapter_outdated:
            return {"skipped": "the newest adapter already covers the notes"}
        shards = ctx.memories.settings.distill_shards
        if shards > 1:  # live notes only: a forgotten note is never learned again
            cube = ctx.memories.open_cube(ctx.job.cube_id)
            made = ctx.memories.parametric().distill_shards(
                cube, shards, progress=ctx.step_progress, cancel=ctx.cancel)
            return {"adapter_ids": [adapter.id for adapter in made]}
        adapter = ctx.memories.distill(ctx.job.cube_id, progress=ctx.step_progress,
                                       cancel=ctx.cancel)
        return {"adapter_id": adapter.id}


def cube_shape(memories: Memories, cube_id: str) -> CubeShape:
    """Count live notes, find their last change and whether the newest adapter is stale."""
    counts = memories.items.counts_by_state(cube_id)
    notes = sum(counts.get(state.value, 0) for state in SEARCHABLE)
    last_change = memories.items.last_event_at(cube_id, CONTENT_EVENTS)
    group = memories.adapter_records.newest_group(cube_id)
    learned = {item_id: v for record in group for item_id, v in record.items.items()}
    current = memories.items.live_versions(learned, SEARCHABLE)
    # As the kernel judges it: stale once a distilled note is edited or gone (not when added).
    stale = bool(group) and (any(r.stale or r.damaged is not None for r in group) or any(
        current.get(item_id) != version for item_id, version in learned.items()))
    return CubeShape(notes, last_change, bool(group), stale)


def _due(shape: CubeShape, settings: PromoteParametricSettings, now: datetime) -> bool:
    stable = shape.last_change is not None and \
        shape.last_change <= now - timedelta(seconds=settings.stable_s)
    return shape.notes >= settings.min_notes and stable and shape.adapter_outdated
