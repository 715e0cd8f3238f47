"""A ChatReply as an OpenAI chat completion, or as a stream of ``chat.completion.chunk`` events."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from api.openai_errors import memos_error_body
from api.schemas.memories import HitPublic
from api.schemas.openai import (
    AssistantMessage,
    ChatCompletion,
    Choice,
    MemosExtension,
    Usage,
)
from storage.errors import MemosError

DONE_EVENT = "data: [DONE]\n\n"


@dataclass(slots=True)
class CompletionHeader:
    """The fields every chunk of one completion repeats."""

    model: str
    system_fingerprint: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def fields(self, kind: str) -> dict:
        """``id``, ``object``, ``created``, ``model`` and ``system_fingerprint``."""
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model,
                "system_fingerprint": self.system_fingerprint}


def usage_of(reply) -> Usage:
    """Token counts from the reply's stats; KV reused exactly counts as cached."""
    stats = reply.stats
    return Usage(prompt_tokens=stats.prompt_tokens, completion_tokens=stats.completion_tokens,
                 total_tokens=stats.prompt_tokens + stats.completion_tokens,
                 prompt_tokens_details={"cached_tokens": stats.reused_tokens})


def memos_extension(reply) -> MemosExtension:
    """The memories the model was given, the stats and the attached adapters."""
    return MemosExtension(memories=[HitPublic.model_validate(hit.to_dict())
                                    for hit in reply.memories],
                          stats=reply.stats.as_dict(), adapters=list(reply.adapters))


def completion_of(reply, header: CompletionHeader) -> ChatCompletion:
    """The whole reply as one ``chat.completion``."""
    choice = Choice(message=AssistantMessage(content=reply.text),
                    finish_reason=reply.finish_reason)
    return ChatCompletion(**header.fields("chat.completion"), choices=[choice],
                          usage=usage_of(reply), memos=memos_extension(reply))


def completion_events(parts: Iterator, header: CompletionHeader,
                      include_usage: bool) -> Iterator[str]:
    """Server-sent events: a role chunk, text chunks, a finish chunk, usage if asked, [DONE]."""
    yield _event(_chunk(header, {"role": "assistant", "content": ""}))
    try:
        for part in parts:
            if isinstance(part, str):
                yield _event(_chunk(header, {"content": part}))
                continue
            last = _chunk(header, {}, part.finish_reason)
            yield _event({**last, "memos": memos_extension(part).model_dump(mode="json")})
            if include_usage:
                usage = usage_of(part).model_dump()
                yield _event({**header.fields("chat.completion.chunk"), "choices": [],
                              "usage": usage})
    except MemosError as error:  # headers are sent: the error becomes the last event
        yield _event(memos_error_body(error)[1])
        return
    yield DONE_EVENT


def _chunk(header: CompletionHeader, delta: dict, finish_reason: str | None = None) -> dict:
    return {**header.fields("chat.completion.chunk"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                         "logprobs": None}]}


def _event(data: dict) -> str:
    return f"data: {json.dumps(data)}\n\n"
