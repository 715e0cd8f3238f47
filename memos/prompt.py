"""The chat prompt as pieces: a cacheable head, one cacheable chunk per memory, the rest.

Each piece is tokenized on its own and the ids are concatenated, so a memory's chunk has the
same token ids wherever it lands and its cached KV can be reused at any position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from activation_cache import Piece
from memos.engine.engine import check_messages

SYSTEM_PROMPT = (
    "You are a helpful assistant with a long-term memory. Use the memories below when they "
    "answer the question; say so when they do not."
)
MEMORY_HEADER = "\n\nMemories:\n"
_SENTINEL = "\u2063MEMOS-MEMORIES\u2063"


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
    """Renders system prompt + memories + conversation with the model's chat template."""

    def __init__(self, engine, system_prompt: str = SYSTEM_PROMPT) -> None:
        self._engine = engine
        self._system_prompt = system_prompt

    def chunk_ids(self, text: str) -> list[int]:
        """Token ids of one memory's chunk."""
        return self._engine.encode(memory_chunk_text(text))

    def build(self, messages: Sequence[dict], memory_texts: Sequence[str]) -> PromptPlan:
        """Pieces: [head (system prompt)] [one chunk per memory] [tail (conversation)]."""
        check_messages(messages)
        system = [m["content"] for m in messages if m.get("role") == "system"]
        rest = [m for m in messages if m.get("role") != "system"]
        system_text = "\n\n".join(system) if system else self._system_prompt
        content = system_text + (MEMORY_HEADER if memory_texts else "") + _SENTINEL
        rendered = self._engine.tokenizer.apply_chat_template(
            [{"role": "system", "content": content}, *rest], tokenize=False,
            add_generation_prompt=True,
        )
        head, tail = rendered.split(_SENTINEL)
        pieces = [Piece(self._engine.encode(head), cacheable=True)]
        pieces += [Piece(self.chunk_ids(text), cacheable=True) for text in memory_texts]
        pieces.append(Piece(self._engine.encode(tail), cacheable=False))
        return PromptPlan(pieces, list(memory_texts))
