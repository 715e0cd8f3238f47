"""promote_parametric: a cube whose notes are stable and often used is distilled (again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from memcube.lifecycle import SEARCHABLE
from memos.scheduler.policies.base import Policy
from memos.scheduler.retrievals import cube_retrievals
from memos.scheduler.settings import PromoteParametricSettings
from memos.scheduler.workers import JobContext
from storage.clock import as_utc
from storage.schema import AdapterRow, ItemHistoryRow, ItemRow

if TYPE_CHECKING:
    from memos.scheduler.kernel_port import SchedulerKernel

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
    requires = "distill"

    def plan(self, mos: SchedulerKernel, cube_id: str, settings: PromoteParametricSettings,
             now: datetime) -> dict | None:
        shape = cube_shape(mos, cube_id)
        if not _due(shape, settings, now):
            return None
        if not shape.has_adapter:
            since = now - timedelta(seconds=settings.window_s)
            if cube_retrievals(mos.database, cube_id, since) < settings.min_retrievals:
                return None
        return {"redistill": shape.has_adapter}

    def run(self, ctx: JobContext) -> dict:
        if not cube_shape(ctx.mos, ctx.job.cube_id).adapter_outdated:
            return {"skipped": "the newest adapter already covers the notes"}
        shards = ctx.mos.settings.distill_shards
        if shards > 1:  # live notes only: a forgotten note is never learned again
            cube = ctx.mos.get_cube(ctx.job.cube_id)
            made = ctx.mos.adapters.distill_shards(cube, shards, progress=ctx.step_progress,
                                                   cancel=ctx.cancel)
            return {"adapter_ids": [adapter.id for adapter in made]}
        adapter = ctx.mos.distill(ctx.job.cube_id, progress=ctx.step_progress,
                                  cancel=ctx.cancel)
        return {"adapter_id": adapter.id}


def cube_shape(mos: SchedulerKernel, cube_id: str) -> CubeShape:
    """Count live notes, find their last change and whether the newest adapter is stale."""
    live = [state.value for state in SEARCHABLE]
    with mos.database.session() as session:
        notes = session.scalar(select(func.count()).where(
            ItemRow.cube_id == cube_id, ItemRow.state.in_(live)))
        last_change = session.scalar(select(func.max(ItemHistoryRow.at)).where(
            ItemHistoryRow.cube_id == cube_id, ItemHistoryRow.event.in_(CONTENT_EVENTS)))
        adapter = session.scalars(select(AdapterRow).where(AdapterRow.cube_id == cube_id)
                                  .order_by(AdapterRow.created_at.desc()).limit(1)).first()
        rows = _group_of(session, adapter)
        learned = {item_id: v for row in rows for item_id, v in dict(row.items).items()}
        current = dict(session.execute(select(ItemRow.id, ItemRow.version).where(
            ItemRow.id.in_(list(learned)), ItemRow.state.in_(live))).all())
    # As the kernel judges it: stale once a distilled note is edited or gone (not when added).
    stale = adapter is not None and (any(r.stale or r.damaged is not None for r in rows) or any(
        current.get(item_id) != version for item_id, version in learned.items()))
    return CubeShape(notes or 0, as_utc(last_change), adapter is not None, stale)


def _group_of(session, adapter: AdapterRow | None) -> list[AdapterRow]:
    """The newest adapter, or every adapter of its shard group when it is a shard."""
    if adapter is None or adapter.shard_group is None:
        return [adapter] if adapter is not None else []
    return list(session.scalars(select(AdapterRow).where(
        AdapterRow.shard_group == adapter.shard_group)))


def _due(shape: CubeShape, settings: PromoteParametricSettings, now: datetime) -> bool:
    stable = shape.last_change is not None and \
        shape.last_change <= now - timedelta(seconds=settings.stable_s)
    return shape.notes >= settings.min_notes and stable and shape.adapter_outdated
