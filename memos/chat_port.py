"""What decodes a chat reply, as the chat pipeline sees it: the engine alone, or the
continuous batcher in front of it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # torch: only named here
    from memos.engine import DecodeControl, DecodeTiming, GenerationConfig, GenerationStats


class Decoder(Protocol):
    """Streams a reply's text deltas from a prompt (and the KV cache of its start)."""

    def stream_from(self, prompt_ids: Sequence[int], cache: Any = None,
                    config: GenerationConfig | None = None,
                    stats: GenerationStats | None = None, timing: DecodeTiming | None = None,
                    logits: Any = None, control: DecodeControl | None = None) -> Iterator[str]:
        """Text deltas of the reply; ``stats`` filled in as it goes."""
        ...
