"""Retraining after a forget: adapters that learned a deleted or corrected note are replaced.

Such an adapter is stale from the moment the note changes, so chat never attaches it again.
A job then retrains it without the note: only the note's shard when the cube was distilled
in shards, else the whole adapter; the stale adapter's files and row are removed. The job
waits ``forget_retrain_delay_s`` after the last forget (a burst of deletes retrains once) and
its payload lists the forgotten note ids, never their texts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from memcube.adapter_records import AdapterRecords
from memcube.item_store import ItemStore
from memcube.lifecycle import SEARCHABLE
from memos.scheduler.jobs import Job, JobState
from memos.scheduler.workers import JobContext
from storage.errors import InvalidInput

if TYPE_CHECKING:
    from memcube.cube import MemCube
    from memos.parametric.memory import AdapterInfo, ParametricMemory
    from memos.scheduler.scheduler import Scheduler

FORGET_RETRAIN_JOB = "forget_retrain"


def forgotten_items(adapters: AdapterRecords, items: ItemStore,
                    cube_id: str) -> dict[str, list[str]]:
    """Per adapter of the cube, the notes it learned that were since deleted or changed."""
    learned = {record.id: record.items for record in adapters.of_cube(cube_id)}
    wanted = sorted({item_id for versions in learned.values() for item_id in versions})
    current = items.live_versions(wanted, SEARCHABLE)
    gone = {adapter_id: sorted(i for i, v in versions.items() if current.get(i) != v)
            for adapter_id, versions in learned.items()}
    return {adapter_id: ids for adapter_id, ids in gone.items() if ids}


def queue_forget_retrain(scheduler: Scheduler, cube_id: str) -> Job | None:
    """Queue (or push back) the cube's retrain job when an adapter learned a forgotten note."""
    memories = scheduler.memories
    stale = forgotten_items(memories.adapter_records, memories.items, cube_id)
    if not stale:
        return None
    payload = {"forgotten": sorted({i for ids in stale.values() for i in ids}),
               "adapters": sorted(stale)}
    run_after = memories.clock.now() + timedelta(
        seconds=memories.settings.forget_retrain_delay_s)
    # Debounce: one retrain, after the last forget of a burst.
    pending = scheduler.jobs.postpone_pending(FORGET_RETRAIN_JOB, cube_id, payload, run_after)
    if pending is not None:
        return pending
    return _enqueue_pending(scheduler, cube_id, payload, run_after)


def _enqueue_pending(scheduler: Scheduler, cube_id: str, payload: dict,
                     run_after: datetime) -> Job:
    """The cube's one pending retrain job: enqueues of a kind take turns, so two racing
    forgets queue one. A job already running may have listed the adapters before this
    forget, so a running one is not enough: a follow-up waits behind it."""
    dedupe_key = f"{FORGET_RETRAIN_JOB}:{cube_id}"
    while True:
        job = scheduler.enqueue(FORGET_RETRAIN_JOB, cube_id, payload, max_attempts=2,
                                run_after=run_after, dedupe_key=dedupe_key)
        if job.state == JobState.PENDING:
            return job
        dedupe_key = f"{FORGET_RETRAIN_JOB}:{cube_id}:after:{job.id}"


def run_forget_retrain(ctx: JobContext) -> dict:
    """Retrain each stale adapter in use without the forgotten notes; remove every stale one."""
    from memos.parametric.adapter_sets import current_adapters

    memories, cube_id = ctx.memories, ctx.job.cube_id
    cube = memories.open_cube(cube_id)
    parametric = memories.parametric()
    adapters = parametric.list(cube_id)
    in_use = {adapter.id for adapter in current_adapters(adapters)}
    retrained, removed = [], []
    for adapter in (a for a in adapters if a.stale):
        if adapter.id in in_use:
            replacement = _retrain(parametric, cube, adapter, ctx)
            retrained += [replacement.id] if replacement is not None else []
        parametric.delete(adapter.id)
        removed.append(adapter.id)
    return {"retrained": retrained, "removed": removed,
            "forgotten": len(ctx.job.payload.get("forgotten", []))}


def _retrain(parametric: ParametricMemory, cube: MemCube, adapter: AdapterInfo,
             ctx: JobContext) -> AdapterInfo | None:
    """The adapter trained again, with its settings, on its shard's live notes (None: none)."""
    from memos.parametric.shards import shard_of

    try:
        notes = parametric.notes_to_distill(cube, None)
    except InvalidInput:  # the cube has no live notes left
        return None
    if adapter.shard is not None:
        place = adapter.shard
        notes = [n for n in notes if shard_of(n.item_id, place.count) == place.index]
    if not notes:
        return None
    return parametric.distill(cube, [note.item_id for note in notes],
                              parametric.distill_config(adapter.id), ctx.step_progress,
                              ctx.cancel, adapter.shard)
