"""What the chunk cache needs from an inference engine, as a structural type."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import torch
from transformers import DynamicCache


class StepResult(Protocol):
    """Logits of the last position and the cache after a forward pass."""

    logits: torch.Tensor
    cache: DynamicCache


class Backend(Protocol):
    """A loaded causal LM; ``memos.engine.Engine`` satisfies this without naming it."""

    model: torch.nn.Module
    fingerprint: str
    lock: threading.RLock

    @property
    def device(self) -> torch.device: ...

    @property
    def dtype(self) -> torch.dtype: ...

    def forward(
        self,
        token_ids: Sequence[int],
        cache: DynamicCache | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> StepResult: ...
