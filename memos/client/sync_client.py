"""``Client``: MemOS's calls over the REST API, blocking (httpx)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from memcube.types import CubeInfo, HistoryEntry, MemoryItem, SearchHit
from memos.chat_options import ChatOptions
from memos.client.wire import (
    _Call,
    _Calls,
    _chat_body,
    _jsonable,
    _parse,
    _SseParser,
    cube_from_json,
    history_from_json,
    job_from_json,
    raise_for_error,
    reply_from_json,
)

if TYPE_CHECKING:  # torch and SQLAlchemy: only named here, loaded when an answer is parsed
    from memos.chat import ChatReply
    from memos.scheduler import Job


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

    def limits(self) -> dict:
        """The server's limits (queues, jobs, quotas, request sizes) and this user's use."""
        return self.run(_Call("GET", "/v1/limits"))

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

    def chat(self, messages: Sequence[Mapping], cube_ids: Sequence[str] | None = None, *,
             options: ChatOptions | None = None, **fields) -> ChatReply:
        """Answer a conversation with memories from ``cube_ids``; a ChatReply.
        ``options``, or ChatOptions' fields as keywords (``k=3, max_new_tokens=64``)."""
        call = _Call("POST", "/v1/chat", json=_chat_body(messages, cube_ids, options, fields),
                     parse=reply_from_json)
        return self.run(call)

    def chat_stream(self, messages: Sequence[Mapping], cube_ids: Sequence[str] | None = None,
                    *, options: ChatOptions | None = None,
                    **fields) -> Iterator[str | ChatReply]:
        """Text deltas as the server produces them, then the ChatReply."""
        body = _chat_body(messages, cube_ids, options, fields)
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

    def import_cube(self, path: str | Path, name: str | None = None) -> RemoteCube:
        """Upload an archive: a new cube owned by this user, with fresh ids."""
        response = self._http.post("/v1/cubes/import", content=Path(path).read_bytes(),
                                   params={"name": name} if name else None,
                                   headers={"Content-Type": "application/octet-stream"})
        return RemoteCube(self, _parse(_Call("POST", "", parse=cube_from_json), response))

    def distill(self, cube_id: str, item_ids: Sequence[str] | None = None, **options) -> dict:
        """Train the cube's LoRA adapter (blocks until trained); the adapter's fields."""
        body = {"item_ids": item_ids, **options}
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/adapters", json=body))

    def start_distill(self, cube_id: str, item_ids: Sequence[str] | None = None,
                      **options) -> Job:
        """Queue the cube's distillation as a job and return the job (poll ``get_job``)."""
        body = {"item_ids": item_ids, **options}
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/adapters/jobs", json=body,
                              parse=job_from_json))

    def list_adapters(self, cube_id: str) -> list[dict]:
        """A cube's adapters, newest first."""
        return self.run(_Call("GET", f"/v1/cubes/{cube_id}/adapters"))["data"]

    def verify_adapter(self, cube_id: str, adapter_id: str) -> dict:
        """Check an adapter's files against their checksums; ``damaged`` says what failed."""
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/adapters/{adapter_id}/verify"))

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

    def forget_check(self, cube_id: str, item_ids: Sequence[str] = (),
                     texts: Sequence[str] = (), probe_model: bool = True) -> dict:
        """Where anything of these memories remains, kind by kind, and whether search or the
        model still states them (``probe_model``: ask the model too; owner or admin)."""
        body = {"item_ids": list(item_ids), "texts": list(texts), "probe_model": probe_model}
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/forget-check", json=body))

    def warm(self, cube_id: str, item_ids: Sequence[str]) -> int:
        """Precompute the KV of some memories' chunks; how many were warmed."""
        body = {"item_ids": list(item_ids)}
        return self.run(_Call("POST", f"/v1/cubes/{cube_id}/kv/warm", json=body))["warmed"]

    def list_jobs(self, cube_id: str | None = None, state: str | None = None,
                  kind: str | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[list[Job], int]:
        """A page of jobs (newest first) and how many match in all."""
        params = {k: v for k, v in {"cube_id": cube_id, "state": state, "kind": kind,
                                    "limit": limit, "offset": offset}.items() if v is not None}
        call = _Call("GET", "/v1/jobs", params=params,
                     parse=lambda d: ([job_from_json(j) for j in d["data"]], d["count"]))
        return self.run(call)

    def get_job(self, job_id: str) -> Job:
        """One job."""
        return self.run(_Call("GET", f"/v1/jobs/{job_id}", parse=job_from_json))

    def cancel_job(self, job_id: str) -> Job:
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
