"""KV quantization: none, int8, or 4-bit KIVI style (keys per channel, values per token).

Keys have a few channels with large magnitudes, so they are quantized per channel over
groups of consecutive tokens; values are quantized per token over groups of channels
(Liu et al., KIVI, 2024). Each group stores its minimum and step as fp16 (asymmetric).
"""

from __future__ import annotations

import torch

METHODS = ("none", "int8", "int4")
DEFAULT_GROUP = 32
_BITS = {"int8": 8, "int4": 4}

Parts = dict[str, torch.Tensor]


def check_method(method: str) -> str:
    """Return ``method`` if it is a known quantization, else raise ValueError."""
    if method not in METHODS:
        raise ValueError(f"quantization must be one of {METHODS}, not {method!r}")
    return method


def quantize(x: torch.Tensor, method: str, role: str, group: int = DEFAULT_GROUP) -> Parts:
    """Quantize one ``[1, heads, tokens, head_dim]`` key or value tensor into CPU parts."""
    check_method(method)
    if method == "none":
        return {"data": x.detach().to("cpu").contiguous()}
    grouped = _grouped(_grouping_view(x.detach().float().cpu(), role), group)
    levels = 2 ** _BITS[method] - 1
    low = grouped.amin(dim=-1, keepdim=True).half()
    step = ((grouped.amax(dim=-1, keepdim=True) - low.float()) / levels).clamp_min(1e-8).half()
    codes = torch.round((grouped - low.float()) / step.float()).clamp_(0, levels).to(torch.uint8)
    if method == "int4":
        codes = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return {"codes": codes.contiguous(), "step": step.contiguous(), "low": low.contiguous()}


def dequantize(
    parts: Parts, method: str, role: str, shape: tuple[int, ...], dtype: torch.dtype
) -> torch.Tensor:
    """Rebuild a ``shape`` tensor in ``dtype`` from the parts ``quantize`` produced."""
    check_method(method)
    if method == "none":
        return parts["data"].to(dtype)
    codes = parts["codes"]
    if method == "int4":
        codes = torch.stack((codes & 0x0F, codes >> 4), dim=-1).flatten(-2)
    values = codes.float().mul_(parts["step"].float()).add_(parts["low"].float())
    flat = values.flatten(-2)
    if role == "key":
        tokens = shape[2]
        return flat[..., :tokens].transpose(-1, -2).to(dtype).contiguous()
    return flat[..., : shape[3]].to(dtype).contiguous()


def _grouping_view(x: torch.Tensor, role: str) -> torch.Tensor:
    """Put the axis that is grouped last: tokens for keys (per channel), channels for values."""
    if role == "key":
        return x.transpose(-1, -2)
    if role == "value":
        return x
    raise ValueError(f"role must be 'key' or 'value', not {role!r}")


def _grouped(x: torch.Tensor, group: int) -> torch.Tensor:
    """``[..., n]`` -> ``[..., ceil(n / group), group]``, padding by repeating the last element
    so the padding never widens a group's range."""
    if group < 2 or group % 2:
        raise ValueError("group must be an even number of at least 2")
    group = min(group, x.shape[-1] + x.shape[-1] % 2)  # short axes get one smaller group
    pad = -x.shape[-1] % group
    if pad:
        x = torch.cat((x, x[..., -1:].expand(*x.shape[:-1], pad)), dim=-1)
    return x.reshape(*x.shape[:-1], -1, group)
