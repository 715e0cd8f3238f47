"""Activation memory of a cube: which chunks sit on which tier; warm, pin and evict."""

from __future__ import annotations

import time
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.console.deps import (
    AdminDep,
    FormDep,
    MosDep,
    ReadableCube,
    ViewerDep,
    WritableCube,
    text_field,
)
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from storage.errors import InvalidInput, NotFound

router = APIRouter(prefix=PREFIX + "/cubes/{cube_id}/kv", route_class=ConsoleRoute)
MAX_WARM = 64
KV_PAGE_SIZE = 50
PageNo = Annotated[int, Query(ge=1, le=10**6)]
PerPage = Annotated[int, Query(ge=1, le=500)]


@router.get("")
def kv_page(request: Request, cube: ReadableCube, viewer: ViewerDep, mos: MosDep,
            page_no: PageNo = 1, per_page: PerPage = KV_PAGE_SIZE):
    """A page of the cube's cached chunks (most recently used first) with tier, size, hits
    and last use."""
    entries = sorted(mos.kv_entries(cube.id, viewer.user_id), key=lambda e: -(e["last_used"] or 0))
    pages = max(1, -(-len(entries) // per_page))
    page_no = min(page_no, pages)
    shown = entries[(page_no - 1) * per_page : page_no * per_page]
    now = time.time()
    for entry in shown:
        entry["idle_s"] = round(now - entry["last_used"]) if entry["last_used"] else None
    return page(request, "kv.html", viewer=viewer, cube=cube, entries=shown,
                total=len(entries), page_no=page_no, pages=pages, per_page=per_page,
                stats=mos.activation.stats_for([cube.id]), is_admin=viewer.caller.is_admin)


@router.post("/warm")
async def warm(request: Request, cube: WritableCube, viewer: ViewerDep, form: FormDep,
               mos: MosDep):
    """Precompute the KV of some memories (model work: queued fairly, like the REST call)."""
    item_ids = text_field(form, "item_ids").split()
    if not item_ids or len(item_ids) > MAX_WARM:
        raise InvalidInput(f"give 1 to {MAX_WARM} memory ids, separated by spaces")
    work = partial(mos.warm, cube.id, item_ids, viewer.user_id)
    warmed = await request.app.state.model_lane.run(request, viewer.user_id, work)
    viewer.notify(f"Warmed {warmed} chunk(s).")
    return redirect(f"{PREFIX}/cubes/{cube.id}/kv")


@router.post("/{key}/{action}")
def change_entry(key: str, action: str, cube: ReadableCube, viewer: AdminDep, _: FormDep,
                 mos: MosDep):
    """Pin, unpin or evict one of the cube's chunks (administrators only, as in the API)."""
    if key not in {entry["key"] for entry in mos.kv_entries(cube.id, viewer.user_id)}:
        raise NotFound(f"no cached chunk {key!r} in this cube")
    if action == "evict":
        mos.kv_evict(key, viewer.user_id)
    elif action in ("pin", "unpin"):
        mos.kv_pin(key, action == "pin", viewer.user_id)
    else:
        raise NotFound(f"no action {action!r}")
    viewer.notify(f"Chunk {key[:12]}… {action}ned." if action != "evict" else "Chunk evicted.")
    return redirect(f"{PREFIX}/cubes/{cube.id}/kv")
