"""ChunkKV: the per-layer keys and values of one run of tokens, detached from any model call."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache


@dataclass(slots=True)
class ChunkKV:
    """Per-layer (keys, values), each ``[1, kv_heads, tokens, head_dim]``; keys after RoPE."""

    layers: list[tuple[torch.Tensor, torch.Tensor]]

    @classmethod
    def from_cache(cls, cache: DynamicCache, start: int = 0, end: int | None = None) -> ChunkKV:
        """Copy positions ``start:end`` of every layer out of a DynamicCache."""
        return cls(
            [
                (layer.keys[:, :, start:end].clone(), layer.values[:, :, start:end].clone())
                for layer in cache.layers
            ]
        )

    @property
    def num_tokens(self) -> int:
        """How many token positions the chunk covers."""
        return int(self.layers[0][0].shape[2])

    @property
    def nbytes(self) -> int:
        """Bytes held by all keys and values."""
        return sum(k.nbytes + v.nbytes for k, v in self.layers)

    @property
    def dtype(self) -> torch.dtype:
        """Element type of the tensors."""
        return self.layers[0][0].dtype

    @property
    def device(self) -> torch.device:
        """Where the tensors live."""
        return self.layers[0][0].device

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> ChunkKV:
        """A copy on ``device`` (and in ``dtype`` when given); never shares storage."""
        return ChunkKV(
            [
                (
                    k.to(device=device, dtype=dtype, copy=True),
                    v.to(device=device, dtype=dtype, copy=True),
                )
                for k, v in self.layers
            ]
        )

    def to_cache(self) -> DynamicCache:
        """A fresh DynamicCache holding copies, safe to hand to a model that grows it."""
        return DynamicCache(ddp_cache_data=[(k.clone(), v.clone()) for k, v in self.layers])
