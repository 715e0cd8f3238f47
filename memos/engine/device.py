"""Choosing the torch device and dtype: CUDA with bf16 when present, else CPU with fp32."""

from __future__ import annotations

import torch

from storage.errors import InvalidInput

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def choose_device(requested: str = "auto") -> torch.device:
    """The device to run on; ``auto`` picks CUDA when available."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInput(f"device {requested!r} requested but CUDA is not available")
    return torch.device(requested)


def choose_dtype(requested: str, device: torch.device) -> torch.dtype:
    """The dtype to run in; ``auto`` is bf16 on GPU and fp32 on CPU."""
    if requested == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if requested not in _DTYPES:
        raise InvalidInput(f"dtype {requested!r} is not one of {sorted(_DTYPES)}")
    return _DTYPES[requested]


def dtype_name(dtype: torch.dtype) -> str:
    """Short name of a torch dtype, as used in fingerprints and file headers."""
    return str(dtype).removeprefix("torch.")
