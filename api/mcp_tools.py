"""The tools and resources memos offers over the Model Context Protocol.

Every call acts for one user (``user_of(ctx)``) and goes through the same ``MemOS`` checks as
the REST API: another user's cube answers exactly like a cube that does not exist.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import threading
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from api.schemas.chat import MemoryKind
from api.schemas.common import MAX_QUERY_CHARS, Identifier, Name
from api.schemas.cubes import CubePublic
from api.schemas.memories import Context as NoteContext
from api.schemas.memories import (
    HitPublic,
    MemoryCreate,
    MemoryPublic,
    Metadata,
    Tags,
    Text,
)
from memcube.access import Access
from memcube.entry_checks import MAX_TEXT_CHARS
from memos.chat_options import ChatOptions
from memos.kernel import MemOS
from storage.errors import MemosError, NotFound

UserOf = Callable[[Context], str | None]
CubeId = Annotated[Identifier, Field(description="The cube's id (see list_cubes).")]
MemoryId = Annotated[Identifier, Field(description="The memory's id.")]
CubeIds = Annotated[list[Identifier], Field(max_length=32, description=(
    "Cubes to use; every cube you may read when left out."))]
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS, pattern=r"\S")]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
RETIRES = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                          open_world_hint=False)
MEMORIES_URI = "memos://cubes/{cube_id}/memories"
RESOURCE_PAGE = 200


def _tool_errors(tool: Callable) -> Callable:
    """The kernel's errors become tool errors the model can read (``isError: true``)."""

    if inspect.iscoroutinefunction(tool):
        @functools.wraps(tool)
        async def checked_async(*args, **kwargs):
            try:
                return await tool(*args, **kwargs)
            except MemosError as error:
                raise ToolError(str(error)) from error

        return checked_async

    @functools.wraps(tool)
    def checked(*args, **kwargs):
        try:
            return tool(*args, **kwargs)
        except MemosError as error:
            raise ToolError(str(error)) from error

    return checked


def _memory(item) -> dict:
    return MemoryPublic.model_validate(item.to_dict()).model_dump(mode="json")


def _hit(hit) -> dict:
    return HitPublic.model_validate(hit.to_dict()).model_dump(mode="json")


class MemoryTools:
    """memos' MCP tools and resources, acting for the user ``user_of`` names for a call."""

    def __init__(self, mos: MemOS, user_of: UserOf) -> None:
        self._mos = mos
        self._user_of = user_of

    def register(self, server: MCPServer) -> None:
        """Add the tools and the memories resource to ``server``."""
        tools = ((self.list_cubes, READ_ONLY), (self.create_cube, WRITES),
                 (self.add_memories, WRITES), (self.search_memories, READ_ONLY),
                 (self.get_memory, READ_ONLY), (self.update_memory, WRITES),
                 (self.archive_memory, RETIRES), (self.delete_memory, RETIRES),
                 (self.chat_with_memory, WRITES))
        for tool, hints in tools:
            server.add_tool(_tool_errors(tool), description=inspect.getdoc(tool),
                            annotations=hints)
        server.resource(MEMORIES_URI, name="cube_memories", mime_type="application/json",
                        description="The newest memories of a cube, as JSON.")(self.memories)

    def list_cubes(self, ctx: Context) -> dict[str, Any]:
        """List the memory cubes you own or that were shared with you (ids, names, owners)."""
        cubes = self._mos.list_cubes(self._user_of(ctx))
        data = [CubePublic.model_validate(info.to_dict()).model_dump(mode="json")
                for info in cubes]
        return {"data": data, "count": len(data)}

    def create_cube(self, name: Name, ctx: Context,
                    description: Annotated[str, Field(max_length=4_000)] = "") -> dict[str, Any]:
        """Create a new, empty memory cube owned by you; returns it with its id."""
        cube = self._mos.create_cube(name, owner=self._user_of(ctx) or "local",
                                     description=description)
        return CubePublic.model_validate(cube.info.to_dict()).model_dump(mode="json")

    def add_memories(self, cube_id: CubeId, ctx: Context,
                     memories: Annotated[list[MemoryCreate], Field(min_length=1, max_length=64)]
                     ) -> dict[str, Any]:
        """Store memories (notes: text plus optional tags, metadata, context, event time) in a
        cube. A near-duplicate of an existing memory returns that memory unless ``force``."""
        user = self._user_of(ctx)
        cube = self._mos.get_cube(cube_id, user, needed=Access.WRITE)
        entries = [{**m.model_dump(exclude_none=True), "actor": user} for m in memories]
        items = cube.add_many(entries)
        return {"data": [_memory(item) for item in items], "count": len(items)}

    def search_memories(self, query: Question, ctx: Context, cube_ids: CubeIds | None = None,
                        k: Annotated[int, Field(ge=1, le=50)] = 5) -> dict[str, Any]:
        """Search memories by meaning and keywords, best first. Each hit carries ``why``: the
        dense, lexical and graph evidence that found it."""
        hits = self._mos.search(query, cube_ids, k=k, user=self._user_of(ctx))
        return {"data": [_hit(hit) for hit in hits], "count": len(hits)}

    def get_memory(self, cube_id: CubeId, memory_id: MemoryId, ctx: Context) -> dict[str, Any]:
        """Read one memory with all its fields."""
        return _memory(self._mos.get_cube(cube_id, self._user_of(ctx)).get(memory_id))

    def update_memory(self, cube_id: CubeId, memory_id: MemoryId, ctx: Context,
                      text: Text | None = None, tags: Tags | None = None,
                      metadata: Metadata | None = None,
                      context: NoteContext | None = None) -> dict[str, Any]:
        """Correct a memory's text, tags, metadata or context; fields left out stay as they
        are. The old version is kept in the memory's history."""
        user = self._user_of(ctx)
        cube = self._mos.get_cube(cube_id, user, needed=Access.WRITE)
        return _memory(cube.update(memory_id, actor=user, text=text, tags=tags,
                                   metadata=metadata, context=context))

    def archive_memory(self, cube_id: CubeId, memory_id: MemoryId,
                       ctx: Context) -> dict[str, Any]:
        """Retire a memory: kept, but no longer returned by default searches."""
        user = self._user_of(ctx)
        return _memory(self._mos.get_cube(cube_id, user, needed=Access.WRITE)
                       .archive(memory_id, actor=user))

    def delete_memory(self, cube_id: CubeId, memory_id: MemoryId,
                      ctx: Context) -> dict[str, Any]:
        """Delete a memory: it is never searched or used in chat again (its history stays)."""
        user = self._user_of(ctx)
        return _memory(self._mos.get_cube(cube_id, user, needed=Access.WRITE)
                       .delete(memory_id, actor=user))

    async def chat_with_memory(self, question: Annotated[str, Field(
                             min_length=1, max_length=MAX_TEXT_CHARS, pattern=r"\S")],
                         ctx: Context, cube_ids: CubeIds | None = None,
                         k: Annotated[int, Field(ge=0, le=50)] = 5,
                         memory_kinds: Annotated[list[MemoryKind], Field(max_length=3)]
                         | None = None,
                         session_id: Annotated[str, Field(max_length=128)] | None = None,
                         max_new_tokens: Annotated[int, Field(ge=1, le=1024)] = 128,
                         write_back: bool = False) -> dict[str, Any]:
        """Ask memos' own model, which answers with memories retrieved from your cubes; returns
        the answer, the memories it was given and its stats."""
        kinds = {} if memory_kinds is None else {"memory_kinds": tuple(memory_kinds)}
        options = ChatOptions(k=k, session_id=session_id, max_new_tokens=max_new_tokens,
                              write_back=write_back, **kinds)
        user = self._user_of(ctx)
        reply = await self._fair_chat(question, cube_ids, options, user)
        return {"text": reply.text, "finish_reason": reply.finish_reason,
                "memories": [_hit(hit) for hit in reply.memories],
                "stats": reply.stats.as_dict(), "adapters": list(reply.adapters)}

    async def _fair_chat(self, question: str, cube_ids, options: ChatOptions, user):
        """Chat admitted through the fair queue, as /v1/chat is. Waiting holds no thread; a
        client that leaves gives its place up, or has its generation cancelled."""
        queue = self._mos.model_queue
        queued = queue.request(user or "local")
        try:
            slot = await asyncio.wrap_future(queued)
        except asyncio.CancelledError:
            queue.withdraw(queued)
            raise
        cancel = threading.Event()
        try:
            return await asyncio.to_thread(
                self._mos.chat, [{"role": "user", "content": question}], cube_ids,
                options=options, user=user, cancel=cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            queue.release(slot)

    def memories(self, cube_id: str, ctx: Context) -> str:
        """The newest memories of a cube, as JSON."""
        try:
            cube = self._mos.get_cube(cube_id, self._user_of(ctx))
            items, total = cube.list(limit=RESOURCE_PAGE)
        except NotFound as error:
            raise ResourceNotFoundError(str(error)) from error
        except MemosError as error:
            raise ResourceError(str(error)) from error
        return json.dumps({"data": [_memory(item) for item in items], "count": total})
