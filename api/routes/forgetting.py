"""Forgetting: check that deleted or corrected memories are gone from every kind."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, MosDep, OwnedCube
from api.routes import V1
from api.schemas.forgetting import ForgetCheckPublic, ForgetCheckRequest

router = APIRouter(prefix=V1 + "/cubes/{cube_id}", tags=["forgetting"])


@router.post("/forget-check", response_model=ForgetCheckPublic)
def forget_check(body: ForgetCheckRequest, cube: OwnedCube, mos: MosDep, caller: CurrentUser):
    """Where anything of these memories remains: SQL, indexes, search, sessions, KV, jobs and
    adapters (owner or admin)."""
    return mos.forget_check(cube.id, body.item_ids, body.texts, user=caller.user_id)
