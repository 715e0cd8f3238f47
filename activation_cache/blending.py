"""Blending separately cached chunks: recompute chosen token positions inside an assembled cache.

Chunks cached on their own never attended to each other. Recomputing a few positions with
the whole assembled context restores some of that cross-attention (CacheBlend, Yao et al.
2024; EPIC, Hu et al. 2024). All chosen positions are recomputed in one forward pass, together
with the uncached rest of the prompt (so its logits come out of the same pass): the
placeholders at those positions are masked out, each recomputed token attends to every
earlier position (fresh KV for recomputed ones, reused KV for the rest), and the new K/V are
written back into place in every layer.

Which positions: the first tokens of each chunk (EPIC), the tokens whose layer-1 K/V deviate
most from a fresh computation (CacheBlend's first filtering step), or the tokens the
trailing uncached tokens (the question) attend to most over the assembled cache
(question-aware: the answer reads those positions, so their K/V are the ones worth fixing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import DynamicCache

from activation_cache.backend import Backend

Layers = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass(slots=True)
class Blended:
    """The cache after a blending pass and the logits of its last computed token."""

    cache: DynamicCache
    logits: torch.Tensor


def recompute_positions(
    backend: Backend, layers: Layers, token_ids: Sequence[int], positions: Sequence[int],
    trailing_ids: Sequence[int] = (),
) -> Blended:
    """Freshly compute ``positions`` of a cache over ``len(token_ids)`` positions, and append
    ``trailing_ids`` (the uncached rest of the prompt) in the same forward pass."""
    length = len(token_ids)
    device = layers[0][0].device
    chosen = torch.tensor(sorted(positions), dtype=torch.long, device=device)
    appended = torch.arange(length, length + len(trailing_ids), device=device)
    cache = DynamicCache(ddp_cache_data=list(layers))
    mask = _blend_mask(chosen, len(appended), length, backend.dtype)
    ids = [token_ids[p] for p in chosen.tolist()] + [int(t) for t in trailing_ids]
    with backend.lock, torch.inference_mode():
        out = backend.model(
            input_ids=torch.tensor([ids], device=device), attention_mask=mask,
            position_ids=torch.cat((chosen, appended))[None], cache=cache, use_cache=True,
            logits_to_keep=1,
        )
    for layer in cache.layers:
        layer.keys = _write_back(layer.keys, chosen, length)
        layer.values = _write_back(layer.values, chosen, length)
    return Blended(cache, out.logits[0, -1].float())


def layer1_deviation(backend: Backend, layers: Layers, token_ids: Sequence[int]) -> torch.Tensor:
    """Per position, how far the reused layer-1 K/V are from a fresh in-context computation.

    Layer-0 K/V depend only on the token and its position, so the reused ones are exact;
    one pass of layer 0 over the whole prompt gives the fresh layer-1 K/V (about 1/num_layers
    of a prefill). Llama-family layer structure (input_layernorm, k_proj, v_proj) is assumed.
    """
    inner = backend.model.model
    length = len(token_ids)
    device = layers[0][0].device
    positions = torch.arange(length, device=device)[None]
    with backend.lock, torch.inference_mode():
        hidden = inner.embed_tokens(torch.tensor([list(token_ids)], device=device))
        cos, sin = inner.rotary_emb(hidden, position_ids=positions)
        mask = _causal_mask(length, hidden.dtype, device)
        hidden = inner.layers[0](
            hidden, attention_mask=mask, position_embeddings=(cos, sin), position_ids=positions,
        )
        keys, values = _fresh_kv(inner.layers[1], hidden, cos, sin)
    cached_keys, cached_values = layers[1]
    key_gap = (keys.float() - cached_keys.float()).pow(2).sum(dim=(0, 1, 3))
    value_gap = (values.float() - cached_values.float()).pow(2).sum(dim=(0, 1, 3))
    return key_gap + value_gap


def trailing_attention(
    backend: Backend, layers: Layers, token_ids: Sequence[int], trailing_ids: Sequence[int],
    blank: Sequence[int] = (),
) -> torch.Tensor:
    """Per position, the attention ``trailing_ids`` pay to it over the assembled cache, summed
    over layers, heads and trailing tokens; ``blank`` positions (placeholders) are masked."""
    length, count = len(token_ids), len(trailing_ids)
    device = layers[0][0].device
    visible = torch.ones(length, dtype=torch.bool, device=device)
    visible[list(blank)] = False
    causal = torch.ones(count, count, dtype=torch.bool, device=device).tril()
    mask = _additive(torch.cat((visible.expand(count, length), causal), dim=1), backend.dtype)
    positions = torch.arange(length, length + count, device=device)[None]
    cache = DynamicCache(ddp_cache_data=list(layers))  # grows by new tensors, layers untouched
    model = backend.model
    with backend.lock, torch.inference_mode():
        previous = model.config._attn_implementation
        model.set_attn_implementation("eager")  # the only one that returns attention weights
        try:
            out = model(
                input_ids=torch.tensor([list(trailing_ids)], device=device),
                attention_mask=mask, position_ids=positions, cache=cache,
                use_cache=True, output_attentions=True, logits_to_keep=1,
            )
        finally:
            model.set_attn_implementation(previous)
    return sum(weights[0, :, :, :length].float().sum(dim=(0, 1)) for weights in out.attentions)


def _fresh_kv(layer, hidden, cos, sin) -> tuple[torch.Tensor, torch.Tensor]:
    attention = layer.self_attn
    normed = layer.input_layernorm(hidden)
    shape = (*normed.shape[:-1], -1, attention.head_dim)
    keys = attention.k_proj(normed).view(shape).transpose(1, 2)
    values = attention.v_proj(normed).view(shape).transpose(1, 2)
    cos, sin = cos[:, None], sin[:, None]
    half = keys.shape[-1] // 2
    rotated = torch.cat((-keys[..., half:], keys[..., :half]), dim=-1)
    return keys * cos + rotated * sin, values


def _blend_mask(chosen: torch.Tensor, appended: int, length: int, dtype) -> torch.Tensor:
    """Additive mask ``[1, 1, q, length + q]`` for recomputing ``chosen`` (sorted) positions and
    appending ``appended`` tokens after them: ``q = len(chosen) + appended``."""
    device = chosen.device
    count = len(chosen)
    stale = torch.zeros(length, dtype=torch.bool, device=device)
    stale[chosen] = True
    columns = torch.arange(length, device=device)
    rows = torch.cat((chosen, torch.full((appended,), length, device=device)))
    sees_reused = (columns[None, :] < rows[:, None]) & ~stale[None, :]
    order = torch.arange(count + appended, device=device)
    sees_fresh = order[None, :] <= order[:, None]
    return _additive(torch.cat((sees_reused, sees_fresh), dim=1), dtype)


def _causal_mask(length: int, dtype: torch.dtype, device) -> torch.Tensor:
    return _additive(torch.ones(length, length, dtype=torch.bool, device=device).tril(), dtype)


def _additive(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The ``[1, 1, q, k]`` additive attention mask of a boolean ``[q, k]`` "may attend"."""
    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)[None, None]


def _write_back(tensor: torch.Tensor, chosen: torch.Tensor, length: int) -> torch.Tensor:
    """Fresh K/V moved from behind the cache into the chosen positions; appended ones kept."""
    count = len(chosen)
    result = torch.cat((tensor[:, :, :length], tensor[:, :, length + count :]), dim=2)
    result[:, :, chosen] = tensor[:, :, length : length + count]
    return result
