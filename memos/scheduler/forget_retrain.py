"""Retraining after a forget: adapters that learned a deleted or corrected note are replaced.

Such an adapter is stale from the moment the note changes, so chat never attaches it again.
A job then retrains it without the note: only the note's shard when the cube was distilled
in shards, else the whole adapter; the stale adapter's files and row are removed. The job
waits ``forget_retrain_delay_s`` after the last forget (a burst of deletes retrains once) and
its payload lists the forgotten note ids, never their texts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from memcube.lifecycle import SEARCHABLE
from memos.scheduler.jobs import Job, JobState
from memos.scheduler.workers import JobContext
from storage.errors import InvalidInput
from storage.schema import AdapterRow, ItemRow, JobRow

if TYPE_CHECKING:
    from memos.scheduler.kernel_port import SchedulerKernel

FORGET_RETRAIN_JOB = "forget_retrain"


def forgotten_items(database, cube_id: str) -> dict[str, list[str]]:
    """Per adapter of the cube, the notes it learned that were since deleted or changed."""
    live = [state.value for state in SEARCHABLE]
    with database.session() as session:
        learned = {row.id: dict(row.items) for row in session.scalars(
            select(AdapterRow).where(AdapterRow.cube_id == cube_id))}
        wanted = sorted({item_id for items in learned.values() for item_id in items})
        current = dict(session.execute(select(ItemRow.id, ItemRow.version).where(
            ItemRow.id.in_(wanted), ItemRow.state.in_(live))).all()) if wanted else {}
    gone = {adapter_id: sorted(i for i, v in items.items() if current.get(i) != v)
            for adapter_id, items in learned.items()}
    return {adapter_id: ids for adapter_id, ids in gone.items() if ids}


def queue_forget_retrain(mos: SchedulerKernel, cube_id: str) -> Job | None:
    """Queue (or push back) the cube's retrain job when an adapter learned a forgotten note."""
    stale = forgotten_items(mos.database, cube_id)
    if not stale:
        return None
    payload = {"forgotten": sorted({i for ids in stale.values() for i in ids}),
               "adapters": sorted(stale)}
    run_after = mos.clock.now() + timedelta(seconds=mos.settings.forget_retrain_delay_s)
    with mos.database.session() as session:
        pending = session.scalars(select(JobRow.id).where(
            JobRow.kind == FORGET_RETRAIN_JOB, JobRow.cube_id == cube_id,
            JobRow.state == JobState.PENDING.value)).first()
        if pending is not None:  # debounce: one retrain, after the last forget of a burst
            session.execute(update(JobRow).where(JobRow.id == pending).values(
                payload=payload, run_after=run_after, updated_at=mos.clock.now()))
    if pending is not None:
        return mos.scheduler.jobs.get(pending)
    return mos.scheduler.enqueue(FORGET_RETRAIN_JOB, cube_id, payload, max_attempts=2,
                                 run_after=run_after)


def run_forget_retrain(ctx: JobContext) -> dict:
    """Retrain each stale adapter in use without the forgotten notes; remove every stale one."""
    from memos.parametric.adapter_sets import current_adapters

    mos, cube_id = ctx.mos, ctx.job.cube_id
    cube = mos.get_cube(cube_id)
    adapters = mos.adapters.list(cube_id)
    in_use = {adapter.id for adapter in current_adapters(adapters)}
    retrained, removed = [], []
    for adapter in (a for a in adapters if a.stale):
        if adapter.id in in_use:
            replacement = _retrain(mos, cube, adapter, ctx)
            retrained += [replacement.id] if replacement is not None else []
        mos.adapters.delete(adapter.id)
        removed.append(adapter.id)
    return {"retrained": retrained, "removed": removed,
            "forgotten": len(ctx.job.payload.get("forgotten", []))}


def _retrain(mos: SchedulerKernel, cube, adapter, ctx: JobContext):
    """The adapter trained again, with its settings, on its shard's live notes (None: none)."""
    from memos.parametric.shards import shard_of

    try:
        notes = mos.adapters.notes_to_distill(cube, None)
    except InvalidInput:  # the cube has no live notes left
        return None
    if adapter.shard is not None:
        place = adapter.shard
        notes = [n for n in notes if shard_of(n.item_id, place.count) == place.index]
    if not notes:
        return None
    return mos.adapters.distill(cube, [note.item_id for note in notes],
                                mos.adapters.distill_config(adapter.id), ctx.step_progress,
                                ctx.cancel, adapter.shard)
