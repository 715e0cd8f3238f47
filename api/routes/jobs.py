"""Scheduler jobs: list, read and cancel (a cube's jobs for its users; all jobs for admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CurrentUser, MosDep
from api.routes import V1
from api.schemas.system import JobPublic, JobsPublic
from memcube.access import Access
from memos.scheduler import JobState
from storage.errors import InvalidInput, NotFound

router = APIRouter(prefix=V1 + "/jobs", tags=["jobs"])
JobId = Annotated[str, Path(min_length=1, max_length=64, description="A job's id.")]


def _visible_job(job_id: str, mos, caller, needed: Access):
    job = mos.scheduler.jobs.get(job_id)
    if not caller.is_admin:
        if job.cube_id is None:
            raise NotFound(f"no job {job_id!r}")
        mos.get_cube(job.cube_id, caller.user_id, needed=needed)
    return job


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
    if not caller.is_admin:
        if cube_id is None:
            raise InvalidInput("cube_id is required to list jobs without an admin key")
        mos.get_cube(cube_id, caller.user_id)
    jobs, total = mos.scheduler.jobs.list(state and state.value, cube_id, kind, limit, offset)
    return JobsPublic(data=[_public(j) for j in jobs], count=total)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: JobId, mos: MosDep, caller: CurrentUser):
    """One job: state, progress, attempts, result or error."""
    return _public(_visible_job(job_id, mos, caller, Access.READ))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_job(job_id: JobId, mos: MosDep, caller: CurrentUser):
    """Cancel a job: a pending one at once, a running one when it next checks."""
    _visible_job(job_id, mos, caller, Access.WRITE)
    return _public(mos.scheduler.jobs.cancel(job_id))
