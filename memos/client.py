"""The HTTP SDK: ``Client`` (sync) and ``AsyncClient`` offer MemOS's calls over the REST API.

Both build the same request descriptions (``_Call``) and parse answers into the kernel's own
dataclasses (MemoryItem, SearchHit, CubeInfo, HistoryEntry, ChatReply); HTTP errors become the
project's exceptions by their stable error code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import httpx

from memcube.cube_store import CubeInfo
from memcube.item import MemoryItem, Provenance
from memcube.item_store import HistoryEntry
from memcube.lifecycle import State
from memcube.search import SearchHit
from storage.errors import (
    Cancelled,
    Conflict,
    CorruptBlob,
    IllegalTransition,
    IncompatibleModel,
    InvalidInput,
    MemosError,
    ModelNotAvailable,
    NotFound,
    PermissionDenied,
    UnsupportedFormat,
)

ERROR_CLASSES: dict[str, type[MemosError]] = {
    **{cls.code: cls for cls in (NotFound, InvalidInput, Conflict, PermissionDenied,
                                 IllegalTransition, CorruptBlob, IncompatibleModel,
                                 ModelNotAvailable, UnsupportedFormat, Cancelled)},
    "bad_request": InvalidInput, "validation_error": InvalidInput,
    "payload_too_large": InvalidInput, "method_not_allowed": InvalidInput,
    "unauthorized": PermissionDenied, "forbidden": PermissionDenied, "conflict": Conflict,
}


# ---- answers → the kernel's dataclasses ---------------------------------------------------

def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def item_from_json(data: Mapping) -> MemoryItem:
    """A MemoryItem from its API form."""
    return MemoryItem(
        id=data["id"], cube_id=data["cube_id"], kind=data["kind"], text=data["text"],
        keywords=list(data["keywords"]), tags=list(data["tags"]), context=data["context"],
        metadata=dict(data["metadata"]), provenance=Provenance(**data["provenance"]),
        event_time=_when(data["event_time"]), version=data["version"],
        state=State(data["state"]), created_at=_when(data["created_at"]),
        updated_at=_when(data["updated_at"]), last_accessed_at=_when(data["last_accessed_at"]),
        access_count=data["access_count"], retrieval_count=data["retrieval_count"],
        ttl_seconds=data["ttl_seconds"], merged_into=data["merged_into"])


def hit_from_json(data: Mapping) -> SearchHit:
    """A SearchHit from its API form."""
    return SearchHit(item=item_from_json(data["item"]), score=data["score"], why=data["why"])


def cube_from_json(data: Mapping) -> CubeInfo:
    """A CubeInfo from its API form."""
    return CubeInfo(data["id"], data["name"], data["owner"], data["description"],
                    dict(data["settings"]), _when(data["created_at"]),
                    _when(data["updated_at"]), dict(data["shares"]))


def history_from_json(data: Mapping) -> HistoryEntry:
    """A HistoryEntry from its API form."""
    return HistoryEntry(data["item_id"], data["version"], data["event"], data["changes"],
                        data["actor"], data["reason"], _when(data["at"]))


def reply_from_json(data: Mapping):
    """A ChatReply from its API form."""
    from memos.chat import ChatReply  # imported here: it pulls in torch via the engine
    from memos.engine import GenerationStats

    known = {f.name for f in dataclasses.fields(GenerationStats)}
    stats = GenerationStats(**{k: v for k, v in data["stats"].items() if k in known})
    return ChatReply(text=data["text"], memories=[hit_from_json(h) for h in data["memories"]],
                     stats=stats, finish_reason=data["finish_reason"],
                     adapters=list(data.get("adapters", [])))


def job_from_json(data: Mapping):
    """A scheduler Job from its API form."""
    from memos.scheduler import Job, JobState

    times = {name: _when(data[name]) for name in ("created_at", "updated_at", "run_after")}
    return Job(**{**data, **times, "state": JobState(data["state"])})


def _items(data: Mapping) -> list[MemoryItem]:
    return [item_from_json(d) for d in data["data"]]


def _hits(data: Mapping) -> list[SearchHit]:
    return [hit_from_json(d) for d in data["data"]]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value


# ---- requests -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Call:
    """One HTTP request and how to read its answer."""

    method: str
    path: str
    json: Any = None
    params: dict | None = None
    parse: Callable[[Any], Any] = field(default=lambda data: data)


def raise_for_error(response: httpx.Response) -> None:
    """Raise the project's exception for an HTTP error answer."""
    if response.is_success:
        return
    try:
        error = response.json()["error"]
        code, message = error["code"], error["message"]
    except (ValueError, KeyError, TypeError):
        code, message = "", f"HTTP {response.status_code}: {response.text[:300]}"
    raise ERROR_CLASSES.get(code, MemosError)(message)


def _parse(call: _Call, response: httpx.Response) -> Any:
    raise_for_error(response)
    return call.parse(response.json() if response.status_code != 204 else None)


class _SseParser:
    """Turns server-sent event lines into parts: text deltas, then the ChatReply."""

    def __init__(self) -> None:
        self._event, self._data = "message", []

    def feed(self, line: str):
        """One line in; a finished part (str or ChatReply) out, or None."""
        if line.startswith("event:"):
            self._event = line[6:].strip()
        elif line.startswith("data:"):
            self._data.append(line[5:].strip())
        elif not line and self._data:
            event, data = self._event, json.loads("\n".join(self._data))
            self._event, self._data = "message", []
            return _sse_part(event, data)
        return None


def _sse_part(event: str, data: dict):
    if event == "delta":
        return data["text"]
    if event == "done":
        return reply_from_json(data)
    error = data.get("error", {})
    raise ERROR_CLASSES.get(error.get("code"), MemosError)(error.get("message", str(data)))


def _chat_body(messages: Sequence[Mapping], cube_ids, options: dict) -> dict:
    return _jsonable({"messages": list(messages), "cube_ids": cube_ids, **options})


class _Calls:
    """The requests of every API call, shared by the sync and async clients."""

    @staticmethod
    def cube(cube_id: str) -> _Call:
        return _Call("GET", f"/v1/cubes/{cube_id}", parse=cube_from_json)

    @staticmethod
    def create_cube(name: str, description: str, settings: dict | None) -> _Call:
        body = {"name": name, "description": description, "settings": settings or {}}
        return _Call("POST", "/v1/cubes", json=body, parse=cube_from_json)

    @staticmethod
    def list_cubes() -> _Call:
        return _Call("GET", "/v1/cubes", parse=lambda d: [cube_from_json(c) for c in d["data"]])

    @staticmethod
    def update_cube(cube_id: str, fields: dict) -> _Call:
        return _Call("PATCH", f"/v1/cubes/{cube_id}", json=_jsonable(fields),
                     parse=cube_from_json)

    @staticmethod
    def share_cube(cube_id: str, with_user: str, access: str | None) -> _Call:
        path = f"/v1/cubes/{cube_id}/shares/{with_user}"
        if access is None:
            return _Call("DELETE", path, parse=cube_from_json)
        return _Call("PUT", path, json={"access": access}, parse=cube_from_json)

    @staticmethod
    def search(query: str, cube_ids, k: int, filters: dict) -> _Call:
        body = _jsonable({"query": query, "k": k, "cube_ids": cube_ids, **filters})
        return _Call("POST", "/v1/search", json=body, parse=_hits)

    @staticmethod
    def memory(cube_id: str, method: str, suffix: str = "", body: Any = None,
               params: dict | None = None, parse: Callable = item_from_json) -> _Call:
        return _Call(method, f"/v1/cubes/{cube_id}/memories{suffix}", json=body, params=params,
                     parse=parse)

    @staticmethod
    def add_many(cube_id: str, entries: Sequence[Mapping]) -> _Call:
        body = {"items": [_jsonable(dict(e)) for e in entries]}
        return _Call("POST", f"/v1/cubes/{cube_id}/memories/batch", json=body, parse=_items)

    @staticmethod
    def list_memories(cube_id: str, states, tags, limit: int, offset: int) -> _Call:
        params = {"limit": limit, "offset": offset, "tag": list(tags)}
        if states is not None:
            params["state"] = [_jsonable(s) for s in states]
        return _Call("GET", f"/v1/cubes/{cube_id}/memories", params=params,
                     parse=lambda d: (_items(d), d["count"]))

    @staticmethod
    def cube_search(cube_id: str, query: str, k: int, filters: dict) -> _Call:
        body = _jsonable({"query": query, "k": k, **filters})
        return _Call("POST", f"/v1/cubes/{cube_id}/search", json=body, parse=_hits)


# ---- the synchronous client -----------------------------------------------------------------

class Client:
    """MemOS over HTTP: ``Client("http://127.0.0.1:8765", api_key)``."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0,
                 http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout,
                                          headers={"Authorization": f"Bearer {api_key}"})

    def run(self, call: _Call) -> Any:
        """Send one request and parse its answer (raising the project's errors)."""
        response = self._http.request(call.method, call.path, json=call.json,
                                      params=call.params)
        return _parse(call, response)

    def health(self) -> dict:
        """Model, device, dtype, fingerprint and version of the server."""
        return self.run(_Call("GET", "/health"))

    def whoami(self) -> dict:
        """The user this client's key belongs to."""
        return self.run(_Call("GET", "/v1/users/me"))

    def create_user(self, user_id: str, is_admin: bool = False) -> dict:
        """A new user (admin key needed)."""
        return self.run(_Call("POST", "/v1/users", json={"id": user_id, "is_admin": is_admin}))

    def create_key(self, user_id: str, name: str = "") -> dict:
        """A new API key for a user; its secret is in ``["key"]`` (admin key needed)."""
        return self.run(_Call("POST", "/v1/keys", json={"user_id": user_id, "name": name}))

    def list_users(self) -> list[dict]:
        """Every user (admin key needed)."""
        return self.run(_Call("GET", "/v1/users"))["data"]

    def list_keys(self, user_id: str | None = None) -> list[dict]:
        """API keys of one user, or of everyone, without secrets (admin key needed)."""
        params = {"user_id": user_id} if user_id else None
        return self.run(_Call("GET", "/v1/keys", params=params))["data"]

    def revoke_key(self, key_id: str) -> None:
        """Revoke an API key (admin key needed)."""
        self.run(_Call("DELETE", f"/v1/keys/{key_id}"))

    def create_cube(self, name: str, description: str = "",
                    settings: dict | None = None) -> RemoteCube:
        """A new cube owned by this client's user."""
        return RemoteCube(self, self.run(_Calls.create_cube(name, description, settings)))

    def get_cube(self, cube_id: str) -> RemoteCube:
        """An existing cube (NotFound unless this user may see it)."""
        return RemoteCube(self, self.run(_Calls.cube(cube_id)))

    def list_cubes(self) -> list[CubeInfo]:
        """Cubes this user owns or was shared."""
        return self.run(_Calls.list_cubes())

    def update_cube(self, cube_id: str, **fields) -> CubeInfo:
        """Rename a cube or change its description or settings."""
        return self.run(_Calls.update_cube(cube_id, fields))

    def delete_cube(self, cube_id: str) -> None:
        """Delete a cube and everything in it."""
        self.run(_Call("DELETE", f"/v1/cubes/{cube_id}"))

    def share_cube(self, cube_id: str, with_user: str, access: str | None) -> CubeInfo:
        """Give another user read or write access (``None`` revokes it)."""
        return self.run(_Calls.share_cube(cube_id, with_user, access))

    def search(self, query: str, cube_ids: Sequence[str] | None = None, k: int = 10,
               **filters) -> list[SearchHit]:
        """Search several readable cubes at once; hits merged by score."""
        return self.run(_Calls.search(query, cube_ids, k, filters))

    def chat(self, messages: Sequence[Mapping], cube_ids: Sequence[str] | None = None,
             **options):
        """Answer a conversation with memories from ``cube_ids``; a ChatReply."""
        call = _Call("POST", "/v1/chat", json=_chat_body(messages, cube_ids, options),
                     parse=reply_from_json)
        return self.run(call)

    def chat_stream(self, messages: Sequence[Mapping], cube_ids: Sequence[str] | None = None,
                    **options) -> Iterator:
        """Text deltas as the server produces them, then the ChatReply."""
        body = _chat_body(messages, cube_ids, options)
        with self._http.stream("POST", "/v1/chat/stream", json=body) as response:
            if not response.is_success:
                response.read()
                raise_for_error(response)
            parser = _SseParser()
            for line in response.iter_lines():
                part = parser.feed(line)
                if part is not None:
                    yield part

    def export_cube(self, cube_id: str, path: str | Path) -> Path:
        """Download a cube's ``.memcube`` archive to ``path``."""
        path = Path(path)
        with self._http.stream("GET", f"/v1/cubes/{cube_id}/export") as response:
            if not response.is_success:
                response.read()
                raise_for_error(response)
            with path.open("wb") as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)
        return path

    def import_cube(self, path: str | Path) -> RemoteCube:
        """Upload an archive; the cube is recreated, owned by this user."""
        response = self._http.post("/v1/cubes/import", content=Path(path).read_bytes(),
                                   headers={"Content-Type": "application/octet-stream"})
        return RemoteCube(self, _parse(_Call("POST", "", parse=cube_from_json), response))

    def distill(self, cube_id: str, item_ids: Sequence[str] | None = None, **options) -> dict:
        """Train the cube's LoRA adapter (blocks until trained); the adapter's fields."""
        body = {"item_ids": item_ids, **options}
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/adapters", json=body))

    def list_adapters(self, cube_id: str) -> list[dict]:
        """A cube's adapters, newest first."""
        return self.run(_Call("GET", f"/v1/cubes/{cube_id}/adapters"))["data"]

    def delete_adapter(self, cube_id: str, adapter_id: str) -> None:
        """Remove one of the cube's adapters."""
        self.run(_Call("DELETE", f"/v1/cubes/{cube_id}/adapters/{adapter_id}"))

    def kv_stats(self) -> dict:
        """Hits, misses, bytes and evictions per tier of the KV chunk cache."""
        return self.run(_Call("GET", "/v1/kv/stats"))

    def kv_entries(self, cube_id: str | None = None) -> list[dict]:
        """The cached chunks of a cube's memories, or every chunk (admin key needed)."""
        path = f"/v1/cubes/{cube_id}/kv" if cube_id else "/v1/kv/entries"
        return self.run(_Call("GET", path))["data"]

    def kv_evict(self, key: str) -> None:
        """Drop a cached chunk from every tier (admin key needed)."""
        self.run(_Call("DELETE", f"/v1/kv/entries/{key}"))

    def kv_pin(self, key: str, pinned: bool = True) -> None:
        """Keep a cached chunk out of eviction, or release it (admin key needed)."""
        self.run(_Call("PUT", f"/v1/kv/entries/{key}/pin", json={"pinned": pinned}))

    def warm(self, cube_id: str, item_ids: Sequence[str]) -> int:
        """Precompute the KV of some memories' chunks; how many were warmed."""
        body = {"item_ids": list(item_ids)}
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/kv/warm", json=body))["warmed"]

    def list_jobs(self, cube_id: str | None = None, state: str | None = None,
                  kind: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list, int]:
        """A page of jobs (newest first) and how many match in all."""
        params = {k: v for k, v in {"cube_id": cube_id, "state": state, "kind": kind,
                                    "limit": limit, "offset": offset}.items() if v is not None}
        call = _Call("GET", "/v1/jobs", params=params,
                     parse=lambda d: ([job_from_json(j) for j in d["data"]], d["count"]))
        return self.run(call)

    def get_job(self, job_id: str):
        """One job."""
        return self.run(_Call("GET", f"/v1/jobs/{job_id}", parse=job_from_json))

    def cancel_job(self, job_id: str):
        """Cancel a job."""
        return self.run(_Call("POST", f"/v1/jobs/{job_id}/cancel", parse=job_from_json))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RemoteCube:
    """A cube behind the API, with the same calls as MemCube."""

    def __init__(self, client: Client, info: CubeInfo) -> None:
        self._client = client
        self.info = info
        self.id, self.name, self.owner = info.id, info.name, info.owner

    def add(self, text: str, metadata: dict | None = None, **fields) -> MemoryItem:
        """Store one note (or get its near-duplicate back, unless ``force=True``)."""
        body = _jsonable({"text": text, "metadata": metadata or {}, **fields})
        return self._client.run(_Calls.memory(self.id, "POST", body=body))

    def add_many(self, entries: Sequence[Mapping]) -> list[MemoryItem]:
        """Store several notes with one batched embedding."""
        return self._client.run(_Calls.add_many(self.id, entries)) if entries else []

    def get(self, item_id: str) -> MemoryItem:
        """One memory, or NotFound."""
        return self._client.run(_Calls.memory(self.id, "GET", f"/{item_id}"))

    def update(self, item_id: str, **fields) -> MemoryItem:
        """Change a memory; a new version is recorded."""
        body = _jsonable({k: v for k, v in fields.items() if v is not None})
        return self._client.run(_Calls.memory(self.id, "PATCH", f"/{item_id}", body=body))

    def delete(self, item_id: str) -> MemoryItem:
        """Soft-delete a memory."""
        return self._client.run(_Calls.memory(self.id, "DELETE", f"/{item_id}"))

    def purge(self, item_id: str) -> None:
        """Remove a memory and its history for good."""
        self._client.run(_Calls.memory(self.id, "POST", f"/{item_id}/purge", parse=_none))

    def archive(self, item_id: str) -> MemoryItem:
        """Retire a memory from default search."""
        return self._client.run(_Calls.memory(self.id, "POST", f"/{item_id}/archive"))

    def freeze(self, item_id: str) -> MemoryItem:
        """Pin a memory."""
        return self._client.run(_Calls.memory(self.id, "POST", f"/{item_id}/freeze"))

    def activate(self, item_id: str) -> MemoryItem:
        """Bring an archived or frozen memory back."""
        return self._client.run(_Calls.memory(self.id, "POST", f"/{item_id}/activate"))

    def history(self, item_id: str) -> list[HistoryEntry]:
        """Every recorded change of a memory, oldest first."""
        parse = lambda d: [history_from_json(e) for e in d["data"]]  # noqa: E731
        return self._client.run(_Calls.memory(self.id, "GET", f"/{item_id}/history",
                                              parse=parse))

    def as_of(self, item_id: str, when: datetime) -> MemoryItem:
        """A memory as it was at a past time."""
        return self._client.run(_Calls.memory(self.id, "GET", f"/{item_id}/as-of",
                                              params={"at": when.isoformat()}))

    def list(self, states: Sequence[str] | None = None, tags: Sequence[str] = (),
             limit: int = 50, offset: int = 0) -> tuple[list[MemoryItem], int]:
        """A page of memories (newest first) and how many match in all."""
        return self._client.run(_Calls.list_memories(self.id, states, tags, limit, offset))

    def search(self, query: str, k: int = 10, **filters) -> list[SearchHit]:
        """Hybrid search in this cube, best first."""
        return self._client.run(_Calls.cube_search(self.id, query, k, filters))

    def stats(self) -> dict:
        """Items by state and index sizes."""
        return self._client.run(_Call("GET", f"/v1/cubes/{self.id}/stats"))

    def export(self, path: str | Path) -> Path:
        """Download this cube's archive."""
        return self._client.export_cube(self.id, path)


def _none(_: Any) -> None:
    return None


# ---- the asynchronous client ----------------------------------------------------------------

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

    async def chat(self, messages: Sequence[Mapping], cube_ids: Sequence[str] | None = None,
                   **options):
        """Answer a conversation with memories from ``cube_ids``; a ChatReply."""
        call = _Call("POST", "/v1/chat", json=_chat_body(messages, cube_ids, options),
                     parse=reply_from_json)
        return await self.run(call)

    async def chat_stream(self, messages: Sequence[Mapping],
                          cube_ids: Sequence[str] | None = None,
                          **options) -> AsyncIterator:
        """Text deltas as the server produces them, then the ChatReply."""
        body = _chat_body(messages, cube_ids, options)
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
