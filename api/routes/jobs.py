"""Scheduler jobs: list, read and cancel (a cube's jobs for its users; all jobs for admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CurrentUser, MosDep
from api.routes import V1
from api.schemas.system import JobPublic, JobsPublic
from memos.scheduler import JobState

router = APIRouter(prefix=V1 + "/jobs", tags=["jobs"])
JobId = Annotated[str, Path(min_length=1, max_length=64, description="A job's id.")]


def _public(job) -> JobPublic:
    return JobPublic.model_validate(job.to_dict())


@router.get("", response_model=JobsPublic)
def list_jobs(
    mos: MosDep, caller: CurrentUser,
    state: JobState | None = None,
    cube_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    """A page of jobs, newest first (non-admins must name a cube they can read)."""
    jobs, total = mos.list_jobs(cube_id, state, kind, limit, offset, user=caller.user_id)
    return JobsPublic(data=[_public(j) for j in jobs], count=total)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: JobId, mos: MosDep, caller: CurrentUser):
    """One job: state, progress, attempts, result or error."""
    return _public(mos.get_job(job_id, user=caller.user_id))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_job(job_id: JobId, mos: MosDep, caller: CurrentUser):
    """Cancel a job: a pending one at once, a running one when it next checks."""
    return _public(mos.cancel_job(job_id, user=caller.user_id))
