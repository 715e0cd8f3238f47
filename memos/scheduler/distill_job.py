"""Distillation asked for by a user (the API's background route), run as a scheduler job."""

from __future__ import annotations

from memos.scheduler.workers import JobContext
from storage.errors import InvalidInput

DISTILL_JOB = "distill"


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
    adapter = ctx.mos.distill(ctx.job.cube_id, payload.get("item_ids"),
                              DistillConfig(**payload.get("options", {})),
                              progress=ctx.step_progress, cancel=ctx.cancel)
    return {"adapter_id": adapter.id}
