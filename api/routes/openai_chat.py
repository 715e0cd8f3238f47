"""OpenAI-compatible chat: ``/v1/chat/completions`` and ``/v1/models`` answered by memos chat.

Point an OpenAI client at ``<server>/v1`` with a memos API key; memory options go in
``extra_body``. Errors on these routes take OpenAI's shape.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from api.deps import CurrentUser, MosDep
from api.openai_errors import OPENAI_ERROR_RESPONSES, OpenAIRoute, openai_error
from api.openai_format import CompletionHeader, completion_events, completion_of
from api.routes import V1
from api.schemas.openai import MEMOS_MODEL, ChatCompletion, ChatCompletionCreate, ModelList

router = APIRouter(prefix=V1, tags=["openai"], route_class=OpenAIRoute,
                   responses=OPENAI_ERROR_RESPONSES)
STREAM_DESCRIPTION = ("With `stream: true`: server-sent `chat.completion.chunk` events, then "
                      "`data: [DONE]`.")


def model_ids(mos) -> list[str]:
    """Names chat completions accept: ``memos`` and the loaded model's own name."""
    return [MEMOS_MODEL, mos.engine.name]


@router.get("/models", response_model=ModelList)
def list_models(mos: MosDep, caller: CurrentUser):
    """The models chat completions accept (OpenAI format)."""
    return {"data": [{"id": model_id} for model_id in model_ids(mos)]}


@router.post("/chat/completions", response_model=ChatCompletion, responses={
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
          "description": STREAM_DESCRIPTION}})
def create_chat_completion(body: ChatCompletionCreate, mos: MosDep, caller: CurrentUser):
    """Answer a conversation with memories from the caller's cubes (OpenAI chat completions)."""
    if body.model not in model_ids(mos):
        return JSONResponse(openai_error(
            404, f"the model {body.model!r} does not exist; use {MEMOS_MODEL!r}",
            param="model", code="model_not_found"), 404)
    header = CompletionHeader(body.model, mos.engine.fingerprint)
    args = (body.turns(), body.cube_ids)
    kwargs = {"user": caller.user_id, **body.chat_options()}
    if not body.stream:
        return completion_of(mos.chat(*args, **kwargs), header)
    parts = mos.chat_stream(*args, **kwargs)
    first = next(parts)  # bad input fails here, before any event is sent, as a JSON error
    include_usage = body.stream_options is not None and body.stream_options.include_usage
    return StreamingResponse(completion_events(_chain(first, parts), header, include_usage),
                             media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _chain(first, rest):
    yield first
    yield from rest
