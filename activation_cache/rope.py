"""Re-rotating cached keys: a chunk cached at position 0 is moved to offset p.

With rotary embeddings, a key at position Δ is R(Δ)k, and R(p + Δ) = R(p)R(Δ), so moving a
cached key by p is one more rotation by p; values carry no position and stay as they are.
Only the plain ("default") rotate-half RoPE of Llama-family models is supported; anything
else (scaled RoPE, partial rotary, no rotary embedding) is reported so callers recompute.
"""

from __future__ import annotations

import torch

from activation_cache.chunk_kv import ChunkKV


def unsupported_reason(model: torch.nn.Module) -> str | None:
    """Why keys of ``model`` cannot be re-rotated, or None when they can."""
    config = model.config
    rotary = getattr(getattr(model, "model", None), "rotary_emb", None)
    if rotary is None or not hasattr(rotary, "inv_freq"):
        return "model has no rotary embedding (model.model.rotary_emb)"
    params = getattr(config, "rope_parameters", None) or {}
    rope_type = params.get("rope_type", "default")
    if rope_type != "default":
        return f"rope_type {rope_type!r} is not supported, only 'default'"
    partial = params.get("partial_rotary_factor", getattr(config, "partial_rotary_factor", 1.0))
    if float(partial) != 1.0:
        return "partial rotary embeddings are not supported"
    if rotary.inv_freq.numel() * 2 != head_dim_of(config):
        return "rotary embedding does not span the whole head"
    if float(getattr(rotary, "attention_scaling", 1.0)) != 1.0:
        return "scaled rotary embeddings are not supported"
    return None


def head_dim_of(config) -> int:
    """Per-head dimension of a transformers model config."""
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


class RopeRotator:
    """Moves RoPE keys by a position offset, using the model's own inverse frequencies."""

    def __init__(self, inv_freq: torch.Tensor) -> None:
        self._inv_freq = inv_freq.detach().to("cpu", torch.float64)

    @classmethod
    def for_model(cls, model: torch.nn.Module) -> RopeRotator | None:
        """A rotator for ``model``, or None when its positional encoding is unsupported."""
        if unsupported_reason(model) is not None:
            return None
        return cls(model.model.rotary_emb.inv_freq)

    def cos_sin(self, offset: int, device, dtype=torch.float32) -> tuple[torch.Tensor, ...]:
        """cos and sin of the rotation by ``offset`` positions, laid out rotate-half style."""
        freqs = offset * self._inv_freq
        angles = torch.cat((freqs, freqs))
        return angles.cos().to(device, dtype), angles.sin().to(device, dtype)

    def rotate_keys(self, keys: torch.Tensor, offset: int) -> torch.Tensor:
        """Keys ``[..., tokens, head_dim]`` rotated by ``offset`` positions (a new tensor)."""
        if offset == 0:
            return keys.clone()
        cos, sin = self.cos_sin(offset, keys.device)
        work = keys.float()
        half = work.shape[-1] // 2
        rotated_half = torch.cat((-work[..., half:], work[..., :half]), dim=-1)
        return (work * cos + rotated_half * sin).to(keys.dtype)

    def move(self, kv: ChunkKV, offset: int) -> ChunkKV:
        """A copy of ``kv`` whose keys are moved by ``offset`` positions; values copied as is."""
        return ChunkKV([(self.rotate_keys(k, offset), v.clone()) for k, v in kv.layers])
