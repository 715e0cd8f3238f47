"""Distillation asked for by a user (the API's background route), run as a scheduler job."""

from __future__ import annotations

from collections.abc import Sequence

from memos.scheduler.jobs import Job
from memos.scheduler.workers import JobContext
from storage.errors import Conflict, InvalidInput, TooManyRequests

DISTILL_JOB = "distill"
RETRY_AFTER_S = 60


def check_distill_room(active: Sequence[Job], cube_id: str, user: str | None,
                       max_per_user: int) -> None:
    """Refuse a second distillation of one cube, or one user's distillations past the limit."""
    for job in active:
        if job.cube_id == cube_id:
            raise Conflict(f"cube {cube_id} is already being distilled (job {job.id}); "
                           "wait for it or cancel it")
    mine = [job for job in active if job.payload.get("requested_by") == user]
    if len(mine) >= max_per_user:
        raise TooManyRequests(f"too many distillations queued or running for this user "
                              f"({len(mine)}; the limit is {max_per_user})",
                              retry_after_s=RETRY_AFTER_S)


def distill_payload(item_ids: list[str] | None, options: dict) -> dict:
    """What a distill job stores: the notes to learn (None: all live ones) and the settings."""
    from memos.parametric import DistillConfig  # pulls in peft; only when asked to train

    try:
        DistillConfig(**options)  # refuse bad settings now, not when the job runs
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"bad distillation settings: {error}") from error
    return {"item_ids": item_ids, "options": options}


def run_distill_job(ctx: JobContext) -> dict:
    """Train the adapter the payload describes; the result names it."""
    from memos.parametric import DistillConfig

    payload = ctx.job.payload
    adapter = ctx.memories.distill(ctx.job.cube_id, payload.get("item_ids"),
                                   DistillConfig(**payload.get("options", {})),
                                   progress=ctx.step_progress, cancel=ctx.cancel)
    return {"adapter_id": adapter.id}
