"""The chat playground: ask with chosen cubes and memory kinds, see what the answer used."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from api.console.deps import FormDep, MosDep, ViewerDep, text_field
from api.console.route import PREFIX, ConsoleRoute, page
from api.routes.chat import reply_public
from api.schemas.chat import ChatRequest
from storage.errors import MemosError

if TYPE_CHECKING:
    from memos.kernel import MemOS

router = APIRouter(prefix=PREFIX + "/chat", route_class=ConsoleRoute)
KINDS = ("plaintext", "activation", "parametric")


def _form_page(request: Request, viewer, mos: MemOS, **context):
    defaults = {"question": "", "chosen": [], "kinds": list(KINDS), "max_new_tokens": 48,
                "reply": None}
    return page(request, "chat.html", viewer=viewer, cubes=mos.list_cubes(viewer.user_id),
                all_kinds=KINDS, **{**defaults, **context})


@router.get("")
def chat_page(request: Request, viewer: ViewerDep, mos: MosDep):
    """The playground's form."""
    return _form_page(request, viewer, mos)


def _chat_request(form) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text_field(form, "question")}],
                       cube_ids=form.getlist("cube_ids") or None,
                       memory_kinds=form.getlist("kinds") or None,
                       max_new_tokens=text_field(form, "max_new_tokens", "48") or 48)


@router.post("")
async def chat(request: Request, viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Answer one question (model work: queued fairly, like ``POST /v1/chat``)."""
    body = _chat_request(form)
    cancel = threading.Event()
    work = partial(mos.chat, body.turns(), body.cube_ids, options=body.chat_options(),
                   user=viewer.user_id, cancel=cancel)
    reply = await request.app.state.model_lane.run(request, viewer.user_id, work, cancel)
    stats = reply.stats.as_dict()
    return _form_page(request, viewer, mos, reply=reply, stats=stats,
                      tokens_per_s=_tokens_per_s(stats),
                      question=body.messages[0].content, chosen=body.cube_ids or [],
                      kinds=list(body.memory_kinds or KINDS),
                      max_new_tokens=body.max_new_tokens)


def _tokens_per_s(stats: dict) -> float | None:
    """Decode speed: tokens after the first, over the time after the first."""
    generated = stats.get("completion_tokens", 0)
    seconds = stats.get("total_s", 0.0) - stats.get("ttft_s", 0.0)
    return (generated - 1) / seconds if generated > 1 and seconds > 0 else None


@router.post("/stream")
async def chat_stream(request: Request, viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Like the form, streamed as server-sent events (``delta``, then ``done`` or ``error``)."""
    body = _chat_request(form)
    options = body.chat_options()
    lane = request.app.state.model_lane
    slot = await lane.admit(request, viewer.user_id)
    cancel = threading.Event()

    def finish() -> None:
        cancel.set()  # a no-op once the reply is complete; stops it when the browser left
        lane.queue.release(slot)

    try:
        parts = mos.chat_stream(body.turns(), body.cube_ids, options=options,
                                user=viewer.user_id, cancel=cancel)
        first = await lane.call(next, parts)  # bad input fails here, as an error page
    except BaseException:
        finish()
        raise
    return StreamingResponse(_events(first, parts, lane.call, finish),
                             media_type="text/event-stream")


async def _events(first, parts: Iterator, call: Callable, finish: Callable[[], None]
                  ) -> AsyncIterator[str]:
    end = object()
    try:
        part = first
        while part is not end:
            if isinstance(part, str):
                yield _event("delta", {"text": part})
            else:
                yield _event("done", _done(part))
            part = await call(next, parts, end)
    except MemosError as error:
        yield _event("error", {"message": str(error)})
    finally:
        finish()


def _done(reply) -> dict:
    data = reply_public(reply).model_dump(mode="json")
    data["tokens_per_s"] = _tokens_per_s(data["stats"])
    return data


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
