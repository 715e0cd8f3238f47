"""Parametric memory: distil a cube's notes into a LoRA adapter, list and delete adapters."""

from __future__ import annotations

import threading
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api.deps import CurrentUser, MosDep, ReadableCube, WritableCube
from api.model_lane import LaneDep
from api.routes import V1
from api.schemas.system import AdapterCreate, AdapterPublic, AdaptersPublic, JobPublic
from storage.errors import NotFound

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
    work = partial(mos.distill, cube.id, body.item_ids, DistillConfig(**options),
                   cancel=cancel, user=caller.user_id)
    info = await lane.run(request, caller.user_id, work, cancel)
    return AdapterPublic.model_validate(info.to_dict())


@router.post("/jobs", status_code=202, response_model=JobPublic)
def start_distill(body: AdapterCreate, cube: WritableCube, mos: MosDep, caller: CurrentUser):
    """Queue the distillation as a job and answer at once; follow it under /v1/jobs."""
    options = body.model_dump(exclude_none=True, exclude={"item_ids"})
    job = mos.start_distill(cube.id, body.item_ids, options, user=caller.user_id)
    return JobPublic.model_validate(job.to_dict())


@router.get("", response_model=AdaptersPublic)
def list_adapters(cube: ReadableCube, mos: MosDep):
    """A cube's adapters, newest first, each saying whether it is stale."""
    adapters = [AdapterPublic.model_validate(a.to_dict()) for a in mos.adapters.list(cube.id)]
    return AdaptersPublic(data=adapters, count=len(adapters))


@router.post("/{adapter_id}/verify", response_model=AdapterPublic)
def verify_adapter(adapter_id: AdapterId, cube: ReadableCube, mos: MosDep):
    """Check an adapter's files against their checksums; ``damaged`` says what failed."""
    _check_in_cube(mos, cube.id, adapter_id)
    return AdapterPublic.model_validate(mos.adapters.verify(adapter_id).to_dict())


@router.delete("/{adapter_id}", status_code=204)
def delete_adapter(adapter_id: AdapterId, cube: WritableCube, mos: MosDep) -> Response:
    """Unload and remove one of the cube's adapters."""
    _check_in_cube(mos, cube.id, adapter_id)
    mos.adapters.delete(adapter_id)
    return Response(status_code=204)


def _check_in_cube(mos, cube_id: str, adapter_id: str) -> None:
    if adapter_id not in {a.id for a in mos.adapters.list(cube_id)}:
        raise NotFound(f"no adapter {adapter_id!r} in cube {cube_id!r}")
