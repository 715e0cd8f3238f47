"""The chat playground: ask with chosen cubes and memory kinds, see what the answer used."""

from __future__ import annotations

import threading
from functools import partial

from fastapi import APIRouter, Request

from api.console.deps import FormDep, MosDep, ViewerDep, text_field
from api.console.route import PREFIX, ConsoleRoute, page
from api.schemas.chat import ChatRequest

router = APIRouter(prefix=PREFIX + "/chat", route_class=ConsoleRoute)
KINDS = ("plaintext", "activation", "parametric")


def _form_page(request: Request, viewer, mos, **context):
    defaults = {"question": "", "chosen": [], "kinds": list(KINDS), "max_new_tokens": 48,
                "reply": None}
    return page(request, "chat.html", viewer=viewer, cubes=mos.list_cubes(viewer.user_id),
                all_kinds=KINDS, **{**defaults, **context})


@router.get("")
def chat_page(request: Request, viewer: ViewerDep, mos: MosDep):
    """The playground's form."""
    return _form_page(request, viewer, mos)


@router.post("")
async def chat(request: Request, viewer: ViewerDep, form: FormDep, mos: MosDep):
    """Answer one question (model work: queued fairly, like ``POST /v1/chat``)."""
    body = ChatRequest(messages=[{"role": "user", "content": text_field(form, "question")}],
                       cube_ids=form.getlist("cube_ids") or None,
                       memory_kinds=form.getlist("kinds") or None,
                       max_new_tokens=text_field(form, "max_new_tokens", "48") or 48)
    cancel = threading.Event()
    work = partial(mos.chat, [m.model_dump() for m in body.messages], cancel=cancel,
                   cube_ids=body.cube_ids, user=viewer.user_id, **body.as_kwargs())
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
