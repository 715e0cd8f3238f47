"""Activation memory: cached KV chunks, their stats, warming, pinning and eviction."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import AdminUser, CubeId, CurrentUser, MosDep, WritableCube
from api.model_lane import LaneDep
from api.routes import V1
from api.schemas.system import KvEntriesPublic, KvEntryPublic, KvPin, KvWarm, KvWarmed

router = APIRouter(prefix=V1, tags=["activation cache"])
Key = Annotated[str, Path(min_length=1, max_length=64, description="A cached chunk's key.")]


def _entries(rows: list[dict]) -> KvEntriesPublic:
    return KvEntriesPublic(data=[KvEntryPublic.model_validate(r) for r in rows], count=len(rows))


@router.get("/kv/stats")
def kv_stats(mos: MosDep, caller: CurrentUser) -> dict:
    """KV cache figures: the whole cache's for admins, else only the caller's cubes' chunks."""
    return mos.kv_stats(caller.user_id)


@router.get("/kv/entries", response_model=KvEntriesPublic)
def kv_entries(mos: MosDep, admin: AdminUser,
               cube_id: Annotated[str | None, Query(max_length=64)] = None):
    """Every cached chunk, or one cube's (admin only)."""
    return _entries(mos.kv_entries(cube_id, admin.user_id))


@router.get("/cubes/{cube_id}/kv", response_model=KvEntriesPublic)
def cube_kv_entries(cube_id: CubeId, mos: MosDep, caller: CurrentUser):
    """The cached chunks of one cube's memories."""
    return _entries(mos.kv_entries(cube_id, caller.user_id))


@router.post("/cubes/{cube_id}/kv/warm", response_model=KvWarmed)
async def warm(body: KvWarm, request: Request, cube: WritableCube, mos: MosDep, lane: LaneDep,
               caller: CurrentUser):
    """Precompute the KV of some memories' prompt chunks (model work: queued fairly)."""
    work = partial(mos.warm, cube.id, body.item_ids, caller.user_id)
    return KvWarmed(warmed=await lane.run(request, caller.user_id, work))


@router.put("/kv/entries/{key}/pin", status_code=204)
def pin(key: Key, body: KvPin, mos: MosDep, admin: AdminUser) -> Response:
    """Keep a chunk out of eviction, or release it (admin only)."""
    mos.kv_pin(key, body.pinned, admin.user_id)
    return Response(status_code=204)


@router.delete("/kv/entries/{key}", status_code=204)
def evict(key: Key, mos: MosDep, admin: AdminUser) -> Response:
    """Drop a chunk from every tier (admin only)."""
    mos.kv_evict(key, admin.user_id)
    return Response(status_code=204)
