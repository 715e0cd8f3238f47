"""Forgetting: check that deleted or corrected memories are gone from every kind."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, MosDep, OwnedCube
from api.model_lane import LaneDep
from api.routes import V1
from api.schemas.forgetting import ForgetCheckPublic, ForgetCheckRequest

router = APIRouter(prefix=V1 + "/cubes/{cube_id}", tags=["forgetting"])


@router.post("/forget-check", response_model=ForgetCheckPublic)
async def forget_check(body: ForgetCheckRequest, request: Request, cube: OwnedCube,
                       mos: MosDep, lane: LaneDep, caller: CurrentUser):
    """Where anything of these memories remains (SQL, indexes, search, sessions, KV, jobs,
    adapters) and whether search or the model still states them (owner or admin)."""
    work = partial(mos.forget_check, cube.id, body.item_ids, body.texts, user=caller.user_id,
                   probe_model=body.probe_model)
    if body.probe_model:  # model work waits its turn in the model's lane, like chat
        return await lane.run(request, caller.user_id, work)
    return await run_in_threadpool(work)
