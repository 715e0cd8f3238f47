"""Parametric memory and jobs: a cube's adapters, distillations with their progress, cancel."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.console.deps import (
    FormDep,
    MosDep,
    ReadableCube,
    ViewerDep,
    WritableCube,
    text_field,
)
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from memos.scheduler.jobs import ACTIVE
from storage.errors import NotFound

router = APIRouter(prefix=PREFIX + "/cubes/{cube_id}/adapters", route_class=ConsoleRoute)
JOBS_SHOWN = 50


@router.get("")
def adapters_page(request: Request, cube: ReadableCube, viewer: ViewerDep, mos: MosDep):
    """Adapters with their training figures, and the cube's jobs (the page refreshes itself
    while one is active)."""
    jobs, total = mos.list_jobs(cube.id, limit=JOBS_SHOWN, user=viewer.user_id)
    return page(request, "adapters.html", viewer=viewer, cube=cube,
                adapters=mos.adapters.list(cube.id), jobs=jobs, jobs_total=total,
                live=any(job.state in ACTIVE for job in jobs))


@router.post("/distill")
def start_distill(cube: WritableCube, viewer: ViewerDep, _: FormDep, mos: MosDep):
    """Queue a distillation of the cube's notes into a LoRA adapter."""
    job = mos.start_distill(cube.id, None, user=viewer.user_id)
    viewer.notify(f"Distillation queued as job {job.id}.")
    return redirect(f"{PREFIX}/cubes/{cube.id}/adapters")


@router.post("/jobs/cancel")
def cancel_job(cube: WritableCube, viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Cancel one of the cube's jobs: a pending one at once, a running one when it next checks."""
    job_id = text_field(form, "job_id")
    if mos.get_job(job_id, viewer.user_id).cube_id != cube.id:
        raise NotFound(f"no job {job_id!r}")
    mos.cancel_job(job_id, viewer.user_id)
    viewer.notify(f"Job {job_id} cancelled.")
    return redirect(f"{PREFIX}/cubes/{cube.id}/adapters")
