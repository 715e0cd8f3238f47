"""Packed attention: several sequences, each with its own KV cache, in one forward pass.

The new tokens of every sequence are laid end to end in a batch of one, so the linear layers
(where a small model's decode time goes: streaming the weights) run once for all of them.
Attention alone is per sequence: each slice of queries attends to its own cache, grown in
place as a solo forward pass would grow it. No padding, no copies of the caches.

Registered with transformers' ``AttentionInterface`` as ``memos_packed``; the batcher switches
the model to it for its own forward passes only, under the engine lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import AttentionInterface, DynamicCache
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface

PACKED = "memos_packed"


@dataclass(slots=True)
class PackedBatch:
    """The sequences of one packed forward pass: their caches and how many new tokens each."""

    caches: Sequence[DynamicCache]
    lengths: Sequence[int]

    def __post_init__(self) -> None:
        if len(self.caches) != len(self.lengths) or not self.lengths:
            raise ValueError("a packed batch needs one cache per sequence, and one sequence")
        if min(self.lengths) < 1:
            raise ValueError("every sequence in a packed batch needs at least one new token")

    def position_ids(self, device: torch.device) -> torch.Tensor:
        """Each new token's position: after its own sequence's cached tokens."""
        spans = [torch.arange(n) + cache.get_seq_length()
                 for cache, n in zip(self.caches, self.lengths, strict=True)]
        return torch.cat(spans).unsqueeze(0).to(device)

    def last_positions(self, device: torch.device) -> torch.Tensor:
        """Index of every sequence's last new token in the packed row (whose logits we keep)."""
        ends = torch.cumsum(torch.tensor(list(self.lengths)), dim=0) - 1
        return ends.to(device)


def packed_attention(module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask, scaling: float | None = None, dropout: float = 0.0,
                     packed_batch: PackedBatch | None = None, **kwargs):
    """Attention of each sequence's queries over its own cache plus its new keys."""
    if packed_batch is None:
        raise ValueError("memos_packed attention needs a packed_batch")
    outputs, start = [], 0
    for cache, length in zip(packed_batch.caches, packed_batch.lengths, strict=True):
        end = start + length
        past = cache.get_seq_length(module.layer_idx)
        keys, values = cache.update(key[:, :, start:end], value[:, :, start:end],
                                    module.layer_idx)
        output, _ = sdpa_attention_forward(
            module, query[:, :, start:end], keys, values, _causal_mask(length, past, query),
            dropout=dropout, scaling=scaling, is_causal=past == 0 and length > 1)
        outputs.append(output)
        start = end
    return torch.cat(outputs, dim=1), None


def _causal_mask(length: int, past: int, like: torch.Tensor) -> torch.Tensor | None:
    """None where SDPA needs no mask (one query, or a causal square), else a bool mask."""
    if length == 1 or past == 0:
        return None
    rows = torch.arange(length, device=like.device).unsqueeze(1) + past
    cols = torch.arange(past + length, device=like.device).unsqueeze(0)
    return (cols <= rows)[None, None]


def _no_mask(*args, **kwargs) -> None:
    """The model builds no mask for packed passes: each sequence's attention makes its own."""
    return None


def register_packed_attention() -> None:
    """Make ``memos_packed`` known to transformers (idempotent)."""
    AttentionInterface.register(PACKED, packed_attention)
    AttentionMaskInterface.register(PACKED, _no_mask)


@torch.inference_mode()
def packed_forward(model, batch: PackedBatch, token_ids: Sequence[int]) -> torch.Tensor:
    """Run every sequence's new tokens in one pass (caches grow in place); the next-token
    logits of each sequence, one row per sequence. Call under the engine lock."""
    device = model.device
    ids = torch.tensor([list(token_ids)], device=device)
    previous = model.config._attn_implementation
    model.set_attn_implementation(PACKED)
    try:
        out = model(input_ids=ids, position_ids=batch.position_ids(device), use_cache=False,
                    logits_to_keep=batch.last_positions(device), packed_batch=batch)
    finally:
        model.set_attn_implementation(previous)
    return out.logits[0].float()
