"""Parametric memory: distil a cube's notes into a LoRA adapter, list and delete adapters."""

from __future__ import annotations

import threading
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.deps import CubeId, CurrentUser, MosDep, WritableCube
from api.model_lane import LaneDep
from api.routes import V1
from api.schemas.system import AdapterCreate, AdapterPublic, AdaptersPublic, JobPublic

router = APIRouter(prefix=V1 + "/cubes/{cube_id}/adapters", tags=["adapters"])
AdapterId = Annotated[str, Path(min_length=1, max_length=64, description="An adapter's id.")]


@router.post("", status_code=201, response_model=AdapterPublic)
async def distill(body: AdapterCreate, request: Request, cube: WritableCube, mos: MosDep,
                  lane: LaneDep, caller: CurrentUser):
    """Train the cube's LoRA adapter from its notes (blocks until trained; a client that
    disconnects cancels the training, and no adapter is kept)."""
    from memos.parametric import DistillConfig  # pulls in peft; only when asked to train

    options = body.model_dump(exclude_none=True, exclude={"item_ids"})
    cancel = threading.Event()
    work = partial(mos.distill, cube.id, body.item_ids, config=DistillConfig(**options),
                   cancel=cancel, user=caller.user_id)
    info = await lane.run(request, caller.user_id, work, cancel)
    return AdapterPublic.model_validate(info.to_dict())


@router.post("/jobs", status_code=202, response_model=JobPublic)
def start_distill(body: AdapterCreate, cube: WritableCube, mos: MosDep, caller: CurrentUser):
    """Queue the distillation as a job and answer at once; follow it under /v1/jobs."""
    options = body.model_dump(exclude_none=True, exclude={"item_ids"})
    job = mos.start_distill(cube.id, body.item_ids, user=caller.user_id, **options)
    return JobPublic.model_validate(job.to_dict())


@router.get("", response_model=AdaptersPublic)
def list_adapters(cube_id: CubeId, mos: MosDep, caller: CurrentUser):
    """A cube's adapters, newest first, each saying whether it is stale."""
    adapters = [AdapterPublic.model_validate(a)
                for a in mos.list_adapters(cube_id, user=caller.user_id)]
    return AdaptersPublic(data=adapters, count=len(adapters))


@router.post("/{adapter_id}/verify", response_model=AdapterPublic)
def verify_adapter(cube_id: CubeId, adapter_id: AdapterId, mos: MosDep, caller: CurrentUser):
    """Check an adapter's files against their checksums; ``damaged`` says what failed."""
    return AdapterPublic.model_validate(mos.verify_adapter(cube_id, adapter_id, caller.user_id))


@router.delete("/{adapter_id}", status_code=204)
def delete_adapter(cube_id: CubeId, adapter_id: AdapterId, mos: MosDep,
                   caller: CurrentUser) -> Response:
    """Unload and remove one of the cube's adapters."""
    mos.delete_adapter(cube_id, adapter_id, caller.user_id)
    return Response(status_code=204)
