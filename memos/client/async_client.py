"""``AsyncClient``: the everyday MemOS calls over the REST API for asyncio (httpx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx

from memcube.types import CubeInfo, MemoryItem, SearchHit
from memos.chat_options import ChatOptions
from memos.client.wire import (
    _Call,
    _Calls,
    _chat_body,
    _jsonable,
    _parse,
    _SseParser,
    raise_for_error,
    reply_from_json,
)


class AsyncClient:
    """MemOS over HTTP with ``httpx.AsyncClient``; every call is awaited."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0,
                 http: httpx.AsyncClient | None = None) -> None:
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout,
                                               headers={"Authorization": f"Bearer {api_key}"})

    async def run(self, call: _Call) -> Any:
        """Send one request and parse its answer (raising the project's errors)."""
        response = await self._http.request(call.method, call.path, json=call.json,
                                            params=call.params)
        return _parse(call, response)

    async def health(self) -> dict:
        """Model, device, dtype, fingerprint and version of the server."""
        return await self.run(_Call("GET", "/health"))

    async def create_cube(self, name: str, description: str = "",
                          settings: dict | None = None) -> AsyncRemoteCube:
        """A new cube owned by this client's user."""
        info = await self.run(_Calls.create_cube(name, description, settings))
        return AsyncRemoteCube(self, info)

    async def get_cube(self, cube_id: str) -> AsyncRemoteCube:
        """An existing cube (NotFound unless this user may see it)."""
        return AsyncRemoteCube(self, await self.run(_Calls.cube(cube_id)))

    async def list_cubes(self) -> list[CubeInfo]:
        """Cubes this user owns or was shared."""
        return await self.run(_Calls.list_cubes())

    async def delete_cube(self, cube_id: str) -> None:
        """Delete a cube and everything in it."""
        await self.run(_Call("DELETE", f"/v1/cubes/{cube_id}"))

    async def share_cube(self, cube_id: str, with_user: str, access: str | None) -> CubeInfo:
        """Give another user read or write access (``None`` revokes it)."""
        return await self.run(_Calls.share_cube(cube_id, with_user, access))

    async def search(self, query: str, cube_ids: Sequence[str] | None = None, k: int = 10,
                     **filters) -> list[SearchHit]:
        """Search several readable cubes at once; hits merged by score."""
        return await self.run(_Calls.search(query, cube_ids, k, filters))

    async def forget_check(self, cube_id: str, item_ids: Sequence[str] = (),
                           texts: Sequence[str] = (), probe_model: bool = True) -> dict:
        """Where anything of these memories remains, kind by kind, and whether search or the
        model still states them (``probe_model``: ask the model too; owner or admin)."""
        body = {"item_ids": list(item_ids), "texts": list(texts), "probe_model": probe_model}
        return await self.run(_Call("POST", f"/v1/cubes/{cube_id}/forget-check", json=body))

    async def chat(self, messages: Sequence[Mapping], cube_ids: Sequence[str] | None = None,
                   *, options: ChatOptions | None = None, **fields):
        """Answer a conversation with memories from ``cube_ids``; a ChatReply."""
        call = _Call("POST", "/v1/chat", json=_chat_body(messages, cube_ids, options, fields),
                     parse=reply_from_json)
        return await self.run(call)

    async def chat_stream(self, messages: Sequence[Mapping],
                          cube_ids: Sequence[str] | None = None, *,
                          options: ChatOptions | None = None, **fields) -> AsyncIterator:
        """Text deltas as the server produces them, then the ChatReply."""
        body = _chat_body(messages, cube_ids, options, fields)
        async with self._http.stream("POST", "/v1/chat/stream", json=body) as response:
            if not response.is_success:
                await response.aread()
                raise_for_error(response)
            parser = _SseParser()
            async for line in response.aiter_lines():
                part = parser.feed(line)
                if part is not None:
                    yield part

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


class AsyncRemoteCube:
    """A cube behind the API, with MemCube's everyday calls as coroutines."""

    def __init__(self, client: AsyncClient, info: CubeInfo) -> None:
        self._client = client
        self.info = info
        self.id, self.name, self.owner = info.id, info.name, info.owner

    async def add(self, text: str, metadata: dict | None = None, **fields) -> MemoryItem:
        """Store one note (or get its near-duplicate back, unless ``force=True``)."""
        body = _jsonable({"text": text, "metadata": metadata or {}, **fields})
        return await self._client.run(_Calls.memory(self.id, "POST", body=body))

    async def add_many(self, entries: Sequence[Mapping]) -> list[MemoryItem]:
        """Store several notes with one batched embedding."""
        return await self._client.run(_Calls.add_many(self.id, entries)) if entries else []

    async def get(self, item_id: str) -> MemoryItem:
        """One memory, or NotFound."""
        return await self._client.run(_Calls.memory(self.id, "GET", f"/{item_id}"))

    async def update(self, item_id: str, **fields) -> MemoryItem:
        """Change a memory; a new version is recorded."""
        body = _jsonable({k: v for k, v in fields.items() if v is not None})
        return await self._client.run(_Calls.memory(self.id, "PATCH", f"/{item_id}", body=body))

    async def delete(self, item_id: str) -> MemoryItem:
        """Soft-delete a memory."""
        return await self._client.run(_Calls.memory(self.id, "DELETE", f"/{item_id}"))

    async def list(self, states: Sequence[str] | None = None, tags: Sequence[str] = (),
                   limit: int = 50, offset: int = 0) -> tuple[list[MemoryItem], int]:
        """A page of memories (newest first) and how many match in all."""
        return await self._client.run(_Calls.list_memories(self.id, states, tags, limit, offset))

    async def search(self, query: str, k: int = 10, **filters) -> list[SearchHit]:
        """Hybrid search in this cube, best first."""
        return await self._client.run(_Calls.cube_search(self.id, query, k, filters))
