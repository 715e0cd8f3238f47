"""Chat with memories: one reply, or a stream of server-sent events."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, MosDep
from api.model_lane import LaneDep
from api.routes import V1
from api.schemas.chat import ChatReplyPublic, ChatRequest
from api.schemas.memories import HitPublic
from storage.errors import MemosError

router = APIRouter(prefix=V1, tags=["chat"])
_END = object()
SSE_EVENT = {"type": "object", "description": "One server-sent event.",
             "properties": {"event": {"type": "string", "enum": ["delta", "done", "error"]},
                            "data": {"type": "string"}},
             "required": ["event", "data"]}
SSE_DESCRIPTION = ("Server-sent events: `delta` events carry `{\"text\": ...}`; a final `done` "
                   "event carries the whole reply; an `error` event ends a failed stream.")


def reply_public(reply) -> ChatReplyPublic:
    """The response form of a ChatReply."""
    return ChatReplyPublic(
        text=reply.text, memories=[HitPublic.model_validate(h.to_dict()) for h in reply.memories],
        stats=reply.stats.as_dict(), finish_reason=reply.finish_reason,
        adapters=list(reply.adapters))


@router.post("/chat", response_model=ChatReplyPublic)
async def chat(body: ChatRequest, request: Request, mos: MosDep, lane: LaneDep,
               caller: CurrentUser):
    """Answer a conversation using memories retrieved from the caller's cubes."""
    cancel = threading.Event()
    work = partial(mos.chat, body.turns(), body.cube_ids, options=body.chat_options(),
                   user=caller.user_id, cancel=cancel)
    return reply_public(await lane.run(request, caller.user_id, work, cancel))


@router.post("/chat/stream", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {"schema": SSE_EVENT}},
          "description": SSE_DESCRIPTION}})
async def chat_stream(body: ChatRequest, request: Request, mos: MosDep, lane: LaneDep,
                      caller: CurrentUser):
    """Like ``/chat``, streaming text deltas as server-sent events."""
    options = body.chat_options()
    slot = await lane.admit(request, caller.user_id)
    cancel = threading.Event()

    def finish() -> None:
        cancel.set()  # a no-op once the reply is complete; stops it when the client left
        lane.queue.release(slot)

    try:
        parts = mos.chat_stream(body.turns(), body.cube_ids, options=options,
                                user=caller.user_id, cancel=cancel)
        first = await lane.call(next, parts)  # bad input fails here, as a JSON error
    except BaseException:
        finish()
        raise
    return StreamingResponse(_events(first, parts, lane.call, finish),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


async def _events(first, parts: Iterator, call: Callable, finish: Callable[[], None]
                  ) -> AsyncIterator[str]:
    try:
        part = first
        while part is not _END:
            if isinstance(part, str):
                yield _event("delta", {"text": part})
            else:
                yield _event("done", reply_public(part).model_dump(mode="json"))
            part = await call(next, parts, _END)
    except MemosError as error:
        yield _event("error", {"error": {"code": error.code, "message": str(error)}})
    finally:
        finish()


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
