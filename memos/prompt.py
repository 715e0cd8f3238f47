"""The chat prompt as pieces, laid out so that a conversation's history is a stable prefix.

Layout ``"latest"`` (the default): system head -> earlier turns -> this turn's memories (a
system turn) -> the latest user turn. Everything before the last exchange is the previous
prompt's prefix. Layout ``"turns"``: the same, but every earlier user turn keeps the memories
it was given, so turn t's prompt is turn t-1's prompt plus new text (all reusable, but the
prompt grows by k memories a turn and the default model answers no better; see
docs/benchmarks.md). Layout ``"accumulate"``: as ``"turns"``, but a memory is placed once, with
the first user turn that was given it; later turns given it again find it earlier in the
conversation (as an agent's tool results stay in its context), so the prompt grows only by
memories new to the session and turn t's prompt is still turn t-1's prompt plus new text
(2.4x faster to first token than ``latest`` without a cache, but the default model answered
28 % against 41 %; see docs/benchmarks.md).
Layout ``"system"`` (the earlier one): every memory in the system prompt, then the
conversation; the history is never a reusable prefix once the memories change.

Each piece (head, memory chunk, the rest of a turn) is tokenized on its own and the ids are
concatenated, so a piece has the same ids wherever it lands and the prompt's ids never depend
on whether activation memory is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from activation_cache import Piece
from memos.engine.engine import check_messages
from storage.errors import InvalidInput

SYSTEM_PROMPT = (
    "You are a helpful assistant with a long-term memory. Use the memories below when they "
    "answer the question; say so when they do not."
)
TURN_SYSTEM_PROMPT = (
    "You are a helpful assistant with a long-term memory. Use the memories given before a "
    "question when they answer it; say so when they do not."
)
MEMORY_HEADER = "\n\nMemories:\n"
TURN_MEMORY_HEADER = "Memories:\n"
LAYOUTS = ("latest", "turns", "accumulate", "system")
KEEPS_TURN_MEMORIES = ("turns", "accumulate")
_SENTINEL = "\u2063MEMOS-MEMORIES\u2063"
_CUT = "\u2063MEMOS-PIECE\u2063"


def memory_chunk_text(text: str) -> str:
    """How one memory is written into the prompt (the unit of KV caching)."""
    return f"- {' '.join(text.split())}\n"


@dataclass(slots=True)
class PromptPlan:
    """A prompt's pieces and the memory texts placed in it."""

    pieces: list[Piece]
    memory_texts: list[str]

    @property
    def token_ids(self) -> list[int]:
        """All the prompt's token ids, in order."""
        return [t for piece in self.pieces for t in piece.token_ids]


class PromptBuilder:
    """Renders system prompt, memories and conversation with the model's chat template."""

    def __init__(self, engine, system_prompt: str | None = None, layout: str = "latest") -> None:
        if layout not in LAYOUTS:
            raise InvalidInput(f"prompt layout must be one of {LAYOUTS}, not {layout!r}")
        self._engine = engine
        self.layout = layout
        default = SYSTEM_PROMPT if layout == "system" else TURN_SYSTEM_PROMPT
        self._system_prompt = system_prompt or default

    @property
    def keeps_turn_memories(self) -> bool:
        """Whether earlier user turns keep the memories they were given."""
        return self.layout in KEEPS_TURN_MEMORIES

    def chunk_ids(self, text: str) -> list[int]:
        """Token ids of one memory's chunk."""
        return self._engine.encode(memory_chunk_text(text))

    def build(self, messages: Sequence[dict], memory_texts: Sequence[str],
              earlier_memories: Sequence[Sequence[str]] = ()) -> PromptPlan:
        """Pieces of the prompt; ``earlier_memories[i]`` are the memories of the i-th earlier
        user turn (used by the ``"turns"`` and ``"accumulate"`` layouts only)."""
        check_messages(messages)
        if self.layout == "system":
            return self._build_system(messages, memory_texts)
        if self.layout == "accumulate":
            *earlier_memories, memory_texts = first_placements([*earlier_memories, memory_texts])
        kept = earlier_memories if self.keeps_turn_memories else ()
        return self._build_turns(messages, memory_texts, kept)

    def first_turn_prefix(self, memory_texts: Sequence[str]) -> list[Piece]:
        """The pieces every first turn given these memories starts with (default system
        text): what pre-warming a hot memory set computes."""
        plan = self._build_turns([{"role": "user", "content": ""}], memory_texts, ())
        return plan.pieces[:-1]

    def _system_text(self, messages: Sequence[dict]) -> str:
        system = [m["content"] for m in messages if m.get("role") == "system"]
        return "\n\n".join(system) if system else self._system_prompt

    def _build_turns(self, messages, memory_texts, earlier_memories) -> PromptPlan:
        rest = [m for m in messages if m.get("role") != "system"]
        user_turns = [i for i, m in enumerate(rest) if m["role"] == "user"]
        memories = {i: list(earlier_memories[n]) for n, i in enumerate(user_turns[:-1])
                    if n < len(earlier_memories)}
        if user_turns:
            memories[user_turns[-1]] = list(memory_texts)
        rendered_turns = []
        for i, message in enumerate(rest):
            if memories.get(i):
                rendered_turns.append({"role": "system", "content": _memory_block(memories[i])})
            rendered_turns.append({"role": message["role"], "content": _cut(message["content"])})
        rendered = self._engine.tokenizer.apply_chat_template(
            [{"role": "system", "content": _cut(self._system_text(messages))}, *rendered_turns],
            tokenize=False, add_generation_prompt=True,
        )
        chunks = {memory_chunk_text(text) for texts in memories.values() for text in texts}
        pieces = [Piece(self._engine.encode(text), cacheable=text in chunks)
                  for text in rendered.split(_CUT) if text]
        pieces[0].cacheable, pieces[-1].cacheable = True, False  # blend: head and chunks
        placed = [text for i in sorted(memories) for text in memories[i]]
        return PromptPlan(pieces, placed)

    def _build_system(self, messages, memory_texts) -> PromptPlan:
        rest = [m for m in messages if m.get("role") != "system"]
        content = (self._system_text(messages) + (MEMORY_HEADER if memory_texts else "")
                   + _SENTINEL)
        rendered = self._engine.tokenizer.apply_chat_template(
            [{"role": "system", "content": content}, *rest], tokenize=False,
            add_generation_prompt=True,
        )
        head, tail = rendered.split(_SENTINEL)
        pieces = [Piece(self._engine.encode(head), cacheable=True)]
        pieces += [Piece(self.chunk_ids(text), cacheable=True) for text in memory_texts]
        pieces.append(Piece(self._engine.encode(tail), cacheable=False))
        return PromptPlan(pieces, list(memory_texts))


def first_placements(turn_memories: Sequence[Sequence[str]]) -> list[list[str]]:
    """Per turn, its memories not given to an earlier turn (each memory placed once)."""
    seen: set[str] = set()
    placed = []
    for texts in turn_memories:
        fresh = [text for text in dict.fromkeys(texts) if text not in seen]
        seen.update(fresh)
        placed.append(fresh)
    return placed


def _cut(content: str) -> str:
    """A message's content as a piece of its own: the template's role markers around it
    become pieces too, so a turn's text is the same piece whatever role comes next."""
    return f"{_CUT}{content}{_CUT}"


def _memory_block(memory_texts: Sequence[str]) -> str:
    """A system turn holding a user turn's memories, cut around each memory chunk."""
    chunks = "".join(_CUT + memory_chunk_text(text) for text in memory_texts)
    return f"{TURN_MEMORY_HEADER}{chunks}{_CUT}"
