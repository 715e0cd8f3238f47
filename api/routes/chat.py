"""Chat with memories: one reply, or a stream of server-sent events."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, MosDep
from api.routes import V1
from api.schemas.chat import ChatReplyPublic, ChatRequest
from api.schemas.memories import HitPublic
from storage.errors import MemosError

router = APIRouter(prefix=V1, tags=["chat"])
SSE_DESCRIPTION = ("Server-sent events: `delta` events carry `{\"text\": ...}`; a final `done` "
                   "event carries the whole reply; an `error` event ends a failed stream.")


def reply_public(reply) -> ChatReplyPublic:
    """The response form of a ChatReply."""
    return ChatReplyPublic(
        text=reply.text, memories=[HitPublic.model_validate(h.to_dict()) for h in reply.memories],
        stats=reply.stats.as_dict(), finish_reason=reply.finish_reason,
        adapters=list(reply.adapters))


def _chat_args(body: ChatRequest, caller) -> tuple[list[dict], dict]:
    messages = [m.model_dump() for m in body.messages]
    return messages, {"cube_ids": body.cube_ids, "user": caller.user_id, **body.as_kwargs()}


@router.post("/chat", response_model=ChatReplyPublic)
def chat(body: ChatRequest, mos: MosDep, caller: CurrentUser):
    """Answer a conversation using memories retrieved from the caller's cubes."""
    messages, kwargs = _chat_args(body, caller)
    return reply_public(mos.chat(messages, **kwargs))


@router.post("/chat/stream", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": SSE_DESCRIPTION}})
def chat_stream(body: ChatRequest, mos: MosDep, caller: CurrentUser):
    """Like ``/chat``, streaming text deltas as server-sent events."""
    messages, kwargs = _chat_args(body, caller)
    parts = mos.chat_stream(messages, **kwargs)
    first = next(parts)  # bad input fails here, before any event is sent, as a JSON error
    return StreamingResponse(_events(first, parts), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def _events(first, parts: Iterator) -> Iterator[str]:
    try:
        for part in _chain(first, parts):
            if isinstance(part, str):
                yield _event("delta", {"text": part})
            else:
                yield _event("done", reply_public(part).model_dump(mode="json"))
    except MemosError as error:
        yield _event("error", {"error": {"code": error.code, "message": str(error)}})


def _chain(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
