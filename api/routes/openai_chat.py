"""OpenAI-compatible chat: ``/v1/chat/completions`` and ``/v1/models`` answered by memos chat.

Point an OpenAI client at ``<server>/v1`` with a memos API key; memory options go in
``extra_body``. Errors on these routes take OpenAI's shape.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import CurrentUser, MosDep
from api.model_lane import LaneDep
from api.openai_errors import OPENAI_ERROR_RESPONSES, OpenAIRoute, openai_error
from api.openai_format import CompletionHeader, completion_events, completion_of
from api.routes import V1
from api.schemas.openai import MEMOS_MODEL, ChatCompletion, ChatCompletionCreate, ModelList

if TYPE_CHECKING:
    from memos.kernel import MemOS

router = APIRouter(prefix=V1, tags=["openai"], route_class=OpenAIRoute,
                   responses=OPENAI_ERROR_RESPONSES)
_END = object()
CHUNK_EVENT = {"type": "object", "description": "One server-sent event: a JSON chunk or [DONE].",
               "properties": {"data": {"type": "string"}}, "required": ["data"]}
STREAM_DESCRIPTION = ("With `stream: true`: server-sent `chat.completion.chunk` events, then "
                      "`data: [DONE]`.")


def model_ids(mos: MemOS) -> list[str]:
    """Names chat completions accept: ``memos`` and the loaded model's own name."""
    return [MEMOS_MODEL, mos.engine.name]


@router.get("/models", response_model=ModelList)
def list_models(mos: MosDep, caller: CurrentUser):
    """The models chat completions accept (OpenAI format)."""
    return {"data": [{"id": model_id} for model_id in model_ids(mos)]}


@router.post("/chat/completions", response_model=ChatCompletion, responses={
    200: {"content": {"text/event-stream": {"schema": CHUNK_EVENT}},
          "description": STREAM_DESCRIPTION}})
async def create_chat_completion(body: ChatCompletionCreate, request: Request, mos: MosDep,
                                 lane: LaneDep, caller: CurrentUser):
    """Answer a conversation with memories from the caller's cubes (OpenAI chat completions)."""
    if body.model not in model_ids(mos):
        return JSONResponse(openai_error(
            404, f"the model {body.model!r} does not exist; use {MEMOS_MODEL!r}",
            param="model", code="model_not_found"), 404)
    header = CompletionHeader(body.model, mos.engine.fingerprint)
    options = body.chat_options()
    cancel = threading.Event()
    ask = partial(mos.chat, body.turns(), body.cube_ids, options=options, user=caller.user_id,
                  cancel=cancel)
    if not body.stream:
        reply = await lane.run(request, caller.user_id, ask, cancel)
        return completion_of(reply, header)
    slot = await lane.admit(request, caller.user_id)

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
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    events = completion_events(_chain(first, parts), header, include_usage)
    return StreamingResponse(_on_lane(events, lane.call, finish), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def _chain(first, rest):
    yield first
    yield from rest


async def _on_lane(events: Iterator[str], call: Callable, finish: Callable[[], None]
                   ) -> AsyncIterator[str]:
    """Each event is produced on the model's threads; ``finish`` runs however the stream ends."""
    try:
        while (event := await call(next, events, _END)) is not _END:
            yield event
    finally:
        finish()
