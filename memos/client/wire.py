"""What the sync and async clients share: request descriptions, answer parsing, errors.

Answers are parsed into the kernel's own dataclasses (MemoryItem, SearchHit, CubeInfo,
HistoryEntry, ChatReply); HTTP errors become the project's exceptions by their error code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import httpx

from memcube.types import CubeInfo, HistoryEntry, MemoryItem, Provenance, SearchHit, State
from memos.chat_options import ChatOptions
from memos.errors import error_class

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
        ttl_seconds=data["ttl_seconds"], merged_into=data["merged_into"],
        superseded_by=data.get("superseded_by"), valid_to=_when(data.get("valid_to")))


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
    raise error_class(code)(message)


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
    raise error_class(error.get("code"))(error.get("message", str(data)))


def _chat_body(messages: Sequence[Mapping], cube_ids, options: ChatOptions | None,
               fields: dict) -> dict:
    """A chat request: ``options``' fields, then keyword ``fields`` (checked by the server)."""
    given = options.request_fields() if options is not None else {}
    return _jsonable({"messages": list(messages), "cube_ids": cube_ids, **given, **fields})


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
