"""Cubes: create, list, read, change, delete, share, export and import."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from api.deps import CubeId, CurrentUser, MosDep, OwnedCube, ReadableCube, UserPath
from api.routes import V1
from api.schemas.cubes import (
    CubeCreate,
    CubePublic,
    CubesPublic,
    CubeStats,
    CubeUpdate,
    ShareCreate,
)

router = APIRouter(prefix=f"{V1}/cubes", tags=["cubes"])
ARCHIVE_TYPE = "application/octet-stream"


def _public(info) -> CubePublic:
    return CubePublic.model_validate(info.to_dict())


@router.post("", status_code=201, response_model=CubePublic)
def create_cube(body: CubeCreate, mos: MosDep, caller: CurrentUser):
    """Create a cube owned by the caller."""
    cube = mos.create_cube(body.name, owner=caller.user_id, description=body.description,
                           settings=body.settings.as_dict())
    return _public(cube.info)


@router.get("", response_model=CubesPublic)
def list_cubes(mos: MosDep, caller: CurrentUser):
    """List the cubes the caller owns or was shared."""
    cubes = [_public(info) for info in mos.list_cubes(caller.user_id)]
    return CubesPublic(data=cubes, count=len(cubes))


@router.post("/import", status_code=201, response_model=CubePublic, openapi_extra={
    "requestBody": {"required": True, "content": {
        ARCHIVE_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def import_cube(request: Request, mos: MosDep, caller: CurrentUser,
                      name: Annotated[str | None, Query(min_length=1, max_length=128,
                                                        pattern=r"\S")] = None):
    """Upload a ``.memcube`` archive: a new cube owned by the caller, with fresh ids."""
    with tempfile.TemporaryDirectory(prefix="memos-import-") as folder:
        path = Path(folder) / "upload.memcube"
        with path.open("wb") as file:
            async for chunk in request.stream():
                file.write(chunk)
        cube = await run_in_threadpool(mos.import_cube, path, name, user=caller.user_id)
    return _public(cube.info)


@router.get("/{cube_id}", response_model=CubePublic)
def get_cube(cube: ReadableCube):
    """Read a cube's fields."""
    return _public(cube.info)


@router.patch("/{cube_id}", response_model=CubePublic)
def update_cube(cube_id: CubeId, body: CubeUpdate, mos: MosDep, caller: CurrentUser):
    """Rename a cube or change its description or settings (owner only)."""
    fields = body.model_dump(exclude_unset=True, exclude={"settings"})
    if body.settings is not None:
        fields["settings"] = body.settings.as_dict()
    return _public(mos.update_cube(cube_id, caller.user_id, **fields))


@router.delete("/{cube_id}", status_code=204)
def delete_cube(cube_id: CubeId, mos: MosDep, caller: CurrentUser) -> Response:
    """Delete a cube and everything in it (owner only)."""
    mos.delete_cube(cube_id, caller.user_id)
    return Response(status_code=204)


@router.get("/{cube_id}/stats", response_model=CubeStats)
def cube_stats(cube: ReadableCube):
    """How many memories a cube holds, by state, and its index sizes."""
    return cube.stats()


@router.put("/{cube_id}/shares/{user_id}", response_model=CubePublic)
def share_cube(cube_id: CubeId, user_id: UserPath, body: ShareCreate, mos: MosDep,
               caller: CurrentUser):
    """Give another user read or write access to a cube (owner only)."""
    return _public(mos.share_cube(cube_id, user_id, body.access.value, caller.user_id))


@router.delete("/{cube_id}/shares/{user_id}", response_model=CubePublic)
def unshare_cube(cube_id: CubeId, user_id: UserPath, mos: MosDep, caller: CurrentUser):
    """Take a user's access to a cube away (owner only), or leave a cube shared with you
    (your own user id)."""
    return _public(mos.share_cube(cube_id, user_id, None, caller.user_id))


@router.get("/{cube_id}/export", response_class=FileResponse, responses={
    200: {"content": {ARCHIVE_TYPE: {"schema": {"type": "string", "format": "binary"}}},
          "description": "The cube as a .memcube archive."}})
def export_cube(cube: OwnedCube, mos: MosDep, caller: CurrentUser, cleanup: BackgroundTasks):
    """Download a cube as a portable ``.memcube`` archive (owner only)."""
    folder = tempfile.mkdtemp(prefix="memos-export-")
    path = Path(folder) / f"{cube.id}.memcube"
    mos.export_cube(cube.id, path, caller.user_id)
    cleanup.add_task(_remove, path)
    return FileResponse(path, media_type=ARCHIVE_TYPE, filename=f"{cube.name}.memcube")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()
