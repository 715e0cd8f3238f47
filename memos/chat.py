"""Chat over memories: retrieve from cubes, build the prompt, generate.

This is the plain pipeline (plaintext memories pasted into the system prompt, full prefill);
the cache-assembled pipeline replaces its internals while keeping these signatures.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memcube.access import Access
from memcube.search import SearchHit
from memos.engine import GenerationConfig, GenerationStats
from storage.errors import InvalidInput

if TYPE_CHECKING:
    from memos.kernel import MemOS

SYSTEM_PROMPT = "You are a helpful assistant. Answer using the user's memories when relevant."
MEMORY_KINDS = ("plaintext", "activation", "parametric")


@dataclass(slots=True)
class ChatReply:
    """An answer, the memories it was given, and where the time and tokens went."""

    text: str
    memories: list[SearchHit]
    stats: GenerationStats
    finish_reason: str = "length"


@dataclass(slots=True)
class ChatOptions:
    """How to retrieve and decode for one chat turn."""

    k: int = 5
    memory_kinds: tuple[str, ...] = MEMORY_KINDS
    max_new_tokens: int = 128
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    session_id: str | None = None
    write_back: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.k <= 50:
            raise InvalidInput("k must be between 0 and 50")
        unknown = set(self.memory_kinds) - set(MEMORY_KINDS)
        if unknown:
            raise InvalidInput(f"unknown memory kinds {sorted(unknown)}; one of {MEMORY_KINDS}")

    def generation(self) -> GenerationConfig:
        """Decoding settings."""
        return GenerationConfig(max_new_tokens=self.max_new_tokens,
                                temperature=self.temperature, stop=tuple(self.stop))


def chat(mos: MemOS, messages: Sequence[dict], cube_ids: Sequence[str] | None = None, *,
         user: str | None = None, **options) -> ChatReply:
    """Answer the conversation using memories from ``cube_ids`` (all readable cubes if None)."""
    reply = None
    for part in chat_stream(mos, messages, cube_ids, user=user, **options):
        if isinstance(part, ChatReply):
            reply = part
    return reply


def chat_stream(mos: MemOS, messages: Sequence[dict], cube_ids: Sequence[str] | None = None,
                *, user: str | None = None, **options) -> Iterator[str | ChatReply]:
    """Like ``chat`` but yields text deltas as they are produced, then the ChatReply."""
    opts = ChatOptions(**options)
    messages = [dict(m) for m in messages]
    target = _write_back_cube(mos, cube_ids, user) if opts.write_back else None
    hits = _retrieve(mos, messages, cube_ids, user, opts)
    engine = mos.engine
    prompt_ids = engine.chat_token_ids(prompt_messages(messages, hits))
    _check_context(engine, len(prompt_ids), opts.max_new_tokens)
    stats = GenerationStats(notes=_unused_kinds(opts.memory_kinds))
    pieces = []
    for delta in engine.stream_from(prompt_ids, config=opts.generation(), stats=stats):
        pieces.append(delta)
        yield delta
    text = "".join(pieces)
    finish = "stop" if stats.completion_tokens < opts.max_new_tokens else "length"
    if target is not None:
        _store_exchange(target, messages, text, user, opts.session_id)
    yield ChatReply(text=text, memories=hits, stats=stats, finish_reason=finish)


def prompt_messages(messages: list[dict], hits: Sequence[SearchHit]) -> list[dict]:
    """The conversation with one system message holding the retrieved memories."""
    system = [m["content"] for m in messages if m.get("role") == "system"] or [SYSTEM_PROMPT]
    rest = [m for m in messages if m.get("role") != "system"]
    if hits:
        notes = "\n".join(f"- {hit.item.text}" for hit in hits)
        system.append(f"Memories:\n{notes}")
    return [{"role": "system", "content": "\n\n".join(system)}, *rest]


def _retrieve(mos: MemOS, messages: list[dict], cube_ids, user, opts: ChatOptions):
    query = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    if opts.k == 0 or "plaintext" not in opts.memory_kinds or not (query or "").strip():
        return []
    return mos.search(query, cube_ids, k=opts.k, user=user)


def _check_context(engine, prompt_tokens: int, max_new_tokens: int) -> None:
    limit = getattr(engine.model.config, "max_position_embeddings", None)
    if limit and prompt_tokens + max_new_tokens > limit:
        raise InvalidInput(f"prompt ({prompt_tokens} tokens) plus max_new_tokens "
                           f"({max_new_tokens}) exceeds the model's context of {limit} tokens")


def _unused_kinds(kinds: Sequence[str]) -> list[str]:
    return [f"{kind} memory is not used by the plain chat pipeline"
            for kind in kinds if kind != "plaintext"]


def _write_back_cube(mos: MemOS, cube_ids, user):
    if not cube_ids:
        raise InvalidInput("write_back needs cube_ids (the first one receives the exchange)")
    return mos.get_cube(cube_ids[0], user, needed=Access.WRITE)


def _store_exchange(cube, messages: list[dict], answer: str, user, session_id) -> None:
    question = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    if question.strip() and answer.strip():
        cube.add(f"User: {question}\nAssistant: {answer}", source_type="chat", actor=user,
                 session_id=session_id)
