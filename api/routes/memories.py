"""Memories of one cube: add, read, change, retire, purge, list, history and as-of reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, ItemId, OwnedCube, ReadableCube, WritableCube
from api.routes import V1
from api.schemas.memories import (
    HistoryEntryPublic,
    HistoryPublic,
    MemoriesPublic,
    MemoryBatchCreate,
    MemoryCreate,
    MemoryPublic,
    MemoryUpdate,
    StateFilter,
    UtcDatetime,
)

router = APIRouter(prefix=V1 + "/cubes/{cube_id}/memories", tags=["memories"])


def memory_public(item) -> MemoryPublic:
    """The response form of a MemoryItem."""
    return MemoryPublic.model_validate(item.to_dict())


def _entry(body: MemoryCreate, caller) -> dict:
    return {**body.model_dump(exclude_none=True), "actor": caller.user_id}


@router.post("", status_code=201, response_model=MemoryPublic)
def add_memory(body: MemoryCreate, cube: WritableCube, caller: CurrentUser):
    """Store one memory (a near-duplicate returns the existing one unless ``force``)."""
    return memory_public(cube.add_many([_entry(body, caller)])[0])


@router.post("/batch", status_code=201, response_model=MemoriesPublic)
def add_memories(body: MemoryBatchCreate, cube: WritableCube, caller: CurrentUser):
    """Store several memories with one batched embedding."""
    items = cube.add_many([_entry(entry, caller) for entry in body.items])
    return MemoriesPublic(data=[memory_public(i) for i in items], count=len(items))


@router.get("", response_model=MemoriesPublic)
def list_memories(
    cube: ReadableCube,
    state: Annotated[StateFilter, Query()] = None,
    tag: Annotated[list[str] | None, Query(description="Only memories with all tags.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    """A page of a cube's memories, newest first, with the total that match."""
    items, total = cube.list(states=state, tags=tag or [], limit=limit, offset=offset)
    return MemoriesPublic(data=[memory_public(i) for i in items], count=total)


@router.get("/{item_id}", response_model=MemoryPublic)
def get_memory(item_id: ItemId, cube: ReadableCube):
    """Read one memory."""
    return memory_public(cube.get(item_id))


@router.patch("/{item_id}", response_model=MemoryPublic)
def update_memory(item_id: ItemId, body: MemoryUpdate, cube: WritableCube, caller: CurrentUser):
    """Change a memory's text, attributes or metadata; a new version is recorded."""
    return memory_public(cube.update(item_id, actor=caller.user_id, **body.model_dump()))


@router.delete("/{item_id}", response_model=MemoryPublic)
def delete_memory(item_id: ItemId, cube: WritableCube, caller: CurrentUser):
    """Soft-delete a memory (kept in history, never searched)."""
    return memory_public(cube.delete(item_id, actor=caller.user_id))


@router.post("/{item_id}/purge", status_code=204)
def purge_memory(item_id: ItemId, cube: OwnedCube) -> Response:
    """Remove a memory and its history for good (owner only)."""
    cube.purge(item_id)
    return Response(status_code=204)


@router.post("/{item_id}/archive", response_model=MemoryPublic)
def archive_memory(item_id: ItemId, cube: WritableCube, caller: CurrentUser):
    """Retire a memory from default search."""
    return memory_public(cube.archive(item_id, actor=caller.user_id))


@router.post("/{item_id}/freeze", response_model=MemoryPublic)
def freeze_memory(item_id: ItemId, cube: WritableCube, caller: CurrentUser):
    """Pin a memory: never archived, merged or evicted."""
    return memory_public(cube.freeze(item_id, actor=caller.user_id))


@router.post("/{item_id}/activate", response_model=MemoryPublic)
def activate_memory(item_id: ItemId, cube: WritableCube, caller: CurrentUser):
    """Bring an archived or frozen memory back into active use."""
    return memory_public(cube.activate(item_id, actor=caller.user_id))


@router.get("/{item_id}/history", response_model=HistoryPublic)
def memory_history(
    item_id: ItemId, cube: ReadableCube,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    """A page of a memory's kept changes, oldest first, with how many are kept in all."""
    entries, total = cube.history_page(item_id, limit, offset)
    return HistoryPublic(data=[HistoryEntryPublic.model_validate(e.to_dict()) for e in entries],
                         count=total)


@router.get("/{item_id}/as-of", response_model=MemoryPublic)
def memory_as_of(item_id: ItemId, cube: ReadableCube,
                 at: Annotated[UtcDatetime, Query(description="The moment to read at.")]):
    """A memory as it was at a past moment."""
    return memory_public(cube.as_of(item_id, at))
