"""A cube's memories: the paginated, filtered list, search with its "why", one memory's page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from api.console.deps import (
    FormDep,
    ItemId,
    MosDep,
    ReadableCube,
    ViewerDep,
    WritableCube,
    text_field,
)
from api.console.filters import read_filters, tags_of
from api.console.route import PREFIX, ConsoleRoute, page, redirect
from api.schemas.memories import MemoryCreate, MemoryUpdate
from memcube.access import Access
from memcube.lifecycle import State
from storage.errors import NotFound

router = APIRouter(prefix=PREFIX + "/cubes/{cube_id}", route_class=ConsoleRoute)
PAGE_SIZE = 50
SEARCH_K = 20
STATES = [state.value for state in State]


_tags = tags_of


@router.get("")
def cube_page(request: Request, cube: ReadableCube, viewer: ViewerDep, mos: MosDep,
              state: str = "", tag: str = "", page_no: int = 1, q: str = ""):
    """The cube: counts, shares, a page of memories (filtered) or the hits of a search."""
    access = mos.cubes.access_of(cube.id, viewer.user_id)
    chosen = read_filters(request.query_params, state, tag)
    hits, items, total = None, [], 0
    if q:
        hits = cube.search(q, SEARCH_K, **chosen.search_kwargs())
    else:
        offset = (max(page_no, 1) - 1) * PAGE_SIZE
        items, total = cube.list(states=[state] if state else None, tags=_tags(tag),
                                 limit=PAGE_SIZE, offset=offset, admits=chosen.list_predicate())
    filters = {"state": state, "tag": tag, "q": q, **chosen.shown}
    return page(request, "cube.html", viewer=viewer, cube=cube, stats=cube.stats(),
                access=access.name.lower(), can_write=access >= Access.WRITE,
                is_owner=access == Access.OWNER, items=items, total=total, hits=hits,
                page_no=max(page_no, 1), pages=max(1, -(-total // PAGE_SIZE)),
                filters=filters, states=STATES,
                query=urlencode({k: v for k, v in filters.items() if v and k != "q"}))


@router.post("/memories")
def add_memory(cube: WritableCube, viewer: ViewerDep, form: FormDep):
    """Store a memory typed into the console."""
    body = MemoryCreate(text=text_field(form, "text"), tags=_tags(text_field(form, "tags")))
    entry = {**body.model_dump(exclude_none=True), "actor": viewer.user_id}
    item = cube.add_many([entry])[0]
    viewer.notify("Memory stored.")
    return redirect(f"{PREFIX}/cubes/{cube.id}/memories/{item.id}")


@router.get("/memories/{item_id}")
def memory_page(request: Request, item_id: ItemId, cube: ReadableCube, viewer: ViewerDep,
                mos: MosDep):
    """One memory: text, attributes, metadata, provenance, links and history."""
    item = cube.get(item_id)
    entries, count = cube.history_page(item_id, 100, 0)
    access = mos.cubes.access_of(cube.id, viewer.user_id)
    return page(request, "memory.html", viewer=viewer, cube=cube, item=item,
                links=_linked(cube, item_id), history=entries, history_count=count,
                can_write=access >= Access.WRITE)


def _linked(cube, item_id: str) -> list[dict]:
    links = cube.links(item_id)
    items = cube.peek_many([link["id"] for link in links])  # a purged note's link is left out
    return [{**link, "text": items[link["id"]].text} for link in links if link["id"] in items]


@router.post("/memories/{item_id}/edit")
def edit_memory(item_id: ItemId, cube: WritableCube, viewer: ViewerDep, form: FormDep):
    """Change a memory's text and tags; a new version is recorded."""
    body = MemoryUpdate(text=text_field(form, "text"), tags=_tags(text_field(form, "tags")))
    cube.update(item_id, actor=viewer.user_id, **body.model_dump())
    viewer.notify("Memory updated.")
    return redirect(f"{PREFIX}/cubes/{cube.id}/memories/{item_id}")


@router.post("/memories/{item_id}/{action}")
def change_state(item_id: ItemId, action: str, cube: WritableCube, viewer: ViewerDep,
                 _: FormDep):
    """Archive, restore (activate) or delete a memory."""
    if action == "archive":
        cube.archive(item_id, actor=viewer.user_id)
    elif action == "restore":
        cube.set_state(item_id, "activated", actor=viewer.user_id)
    elif action == "delete":
        cube.delete(item_id, actor=viewer.user_id)
    else:
        raise NotFound(f"no action {action!r}")
    viewer.notify(f"Memory {action}d." if action != "restore" else "Memory restored.")
    return redirect(f"{PREFIX}/cubes/{cube.id}/memories/{item_id}")
