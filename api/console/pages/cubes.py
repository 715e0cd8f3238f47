"""Cubes: the list with counts by kind and state, create, share, export and delete."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import FileResponse

from api.console.deps import (
    CubeId,
    FormDep,
    MosDep,
    OwnedCube,
    ViewerDep,
    text_field,
)
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from api.schemas.cubes import CubeCreate, ShareCreate
from storage.errors import InvalidInput

if TYPE_CHECKING:
    from memos.kernel import MemOS

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute)


def cube_rows(mos: MemOS, user_id: str) -> list[dict]:
    """Each readable cube with its memory counts by kind and by state."""
    kv_per_cube = Counter(row["cube_id"] for row in mos.activation.entries())
    rows = []
    for info in mos.list_cubes(user_id):
        stats = mos.get_cube(info.id, user_id).stats()
        rows.append({"info": info, "states": stats["items_by_state"], "links": stats["links"],
                     "plaintext": sum(stats["items_by_state"].values()),
                     "activation": kv_per_cube.get(info.id, 0),
                     "parametric": len(mos.adapters.list(info.id))})
    return rows


@router.get("")
def console_root():
    """The console's home."""
    return redirect(f"{PREFIX}/")


@router.get("/")
def list_cubes(request: Request, viewer: ViewerDep, mos: MosDep):
    """The cubes the viewer owns or was shared."""
    return page(request, "cubes.html", viewer=viewer, rows=cube_rows(mos, viewer.user_id))


@router.post("/cubes")
def create_cube(viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Create a cube owned by the viewer."""
    body = CubeCreate(name=text_field(form, "name"),
                      description=text_field(form, "description"))
    cube = mos.create_cube(body.name, owner=viewer.user_id, description=body.description)
    viewer.notify(f"Created cube {cube.name}.")
    return redirect(f"{PREFIX}/cubes/{cube.id}")


@router.post("/cubes/{cube_id}/share")
def share_cube(cube_id: CubeId, viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Give a user read or write access, or take it away (owner only)."""
    user_id, access = text_field(form, "user_id").strip(), text_field(form, "access")
    if not user_id:
        raise InvalidInput("name the user to share with")
    level = None if access == "none" else ShareCreate(access=access).access.value
    mos.share_cube(cube_id, user_id, level, viewer.user_id)
    viewer.notify(f"{user_id} now has {access} access." if level else f"Unshared from {user_id}.")
    return redirect(f"{PREFIX}/cubes/{cube_id}")


@router.post("/cubes/{cube_id}/delete")
def delete_cube(cube: OwnedCube, viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Delete a cube once its name was typed to confirm (owner only)."""
    if text_field(form, "confirm") != cube.name:
        raise InvalidInput("type the cube's name exactly to confirm its deletion")
    mos.delete_cube(cube.id, viewer.user_id)
    viewer.notify(f"Deleted cube {cube.name}.")
    return redirect(f"{PREFIX}/")


@router.get("/cubes/{cube_id}/export", response_class=FileResponse)
def export_cube(cube: OwnedCube, viewer: ViewerDep, mos: MosDep, cleanup: BackgroundTasks):
    """Download the cube as a ``.memcube`` archive (owner only)."""
    folder = tempfile.mkdtemp(prefix="memos-export-")
    path = Path(folder) / f"{cube.id}.memcube"
    mos.export_cube(cube.id, path, viewer.user_id)
    cleanup.add_task(_remove, path)
    return FileResponse(path, media_type="application/octet-stream",
                        filename=f"{cube.name}.memcube")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()
