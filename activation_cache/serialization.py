"""One safetensors file per cached chunk: per-layer K and V, token ids and a checked header.

The header's ``checksum`` is a CRC-32 over the other header fields and every tensor's bytes
(corruption, not tampering, is what it guards against, and it costs half of a SHA-256 on the
load path), so a flipped bit anywhere (header included) or a truncated file reads as
CorruptBlob, and a file written for another model fingerprint reads as IncompatibleModel.
"""

from __future__ import annotations

import json
import os
import struct
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from activation_cache.chunk_kv import ChunkKV
from activation_cache.quantization import DEFAULT_GROUP, check_method, dequantize, quantize
from storage.errors import CorruptBlob, IncompatibleModel

FORMAT = "memos-kv"
FORMAT_VERSION = "2"
SUFFIX = ".safetensors"
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(slots=True)
class StoredChunk:
    """A chunk read back from disk: its tokens, its KV and the header it was stored with."""

    token_ids: list[int]
    kv: ChunkKV
    header: dict[str, str]


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.bfloat16`` -> ``"bfloat16"``."""
    return str(dtype).removeprefix("torch.")


def write_chunk(
    path: Path,
    token_ids: list[int],
    kv: ChunkKV,
    *,
    fingerprint: str,
    quantization: str = "none",
    group: int = DEFAULT_GROUP,
    extra: dict[str, str] | None = None,
) -> int:
    """Write a chunk atomically (temp file, fsync, rename); return the file's size in bytes."""
    check_method(quantization)
    tensors = {"token_ids": torch.tensor(token_ids, dtype=torch.int64)}
    for index, (keys, values) in enumerate(kv.layers):
        for role, tensor in (("key", keys), ("value", values)):
            for part, data in quantize(tensor, quantization, role, group).items():
                tensors[f"{index}.{role}.{part}"] = data
    _, heads, tokens, head_dim = kv.layers[0][0].shape
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fingerprint": fingerprint,
        "tokens": str(tokens),
        "layers": str(len(kv.layers)),
        "kv_heads": str(heads),
        "head_dim": str(head_dim),
        "dtype": dtype_name(kv.dtype),
        "quantization": quantization,
        "group": str(group),
        **(extra or {}),
    }
    header["checksum"] = _checksum(header, tensors)
    payload = save_tensors(tensors, metadata=header)
    _atomic_write(Path(path), payload)
    return len(payload)


def read_chunk(
    path: Path,
    *,
    fingerprint: str,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> StoredChunk:
    """Read and verify a chunk file; raise CorruptBlob or IncompatibleModel when it is unfit."""
    payload = Path(path).read_bytes()
    header = _parse_header(payload, path)
    try:
        tensors = load_tensors(payload)
    except SafetensorError as error:
        raise CorruptBlob(f"unreadable KV file {path}: {error}") from error
    if _checksum(header, tensors) != header.get("checksum"):
        raise CorruptBlob(f"checksum mismatch in KV file {path}")
    _check_fingerprint(header, fingerprint, path)
    kv = _rebuild_kv(tensors, header, device, dtype)
    return StoredChunk(tensors["token_ids"].tolist(), kv, header)


def read_header(path: Path) -> dict[str, str]:
    """The header of a chunk file, reading only its first bytes (CorruptBlob if unreadable)."""
    with open(path, "rb") as file:
        head = file.read(8)
        if len(head) < 8:
            raise CorruptBlob(f"KV file {path} is truncated")
        (length,) = struct.unpack("<Q", head)
        return _metadata(head + file.read(length), path)


def _parse_header(payload: bytes, path: Path) -> dict[str, str]:
    if len(payload) < 8:
        raise CorruptBlob(f"KV file {path} is truncated")
    return _metadata(payload, path)


def _metadata(payload: bytes, path: Path) -> dict[str, str]:
    (length,) = struct.unpack("<Q", payload[:8])
    try:
        parsed = json.loads(payload[8 : 8 + length])
        header = parsed["__metadata__"]
    except (ValueError, KeyError, TypeError) as error:
        raise CorruptBlob(f"KV file {path} has an unreadable header") from error
    if header.get("format") != FORMAT or header.get("format_version") != FORMAT_VERSION:
        raise CorruptBlob(f"KV file {path} is not a {FORMAT} v{FORMAT_VERSION} file")
    return header


def _check_fingerprint(header: dict[str, str], fingerprint: str, path: Path) -> None:
    if header.get("fingerprint") != fingerprint:
        raise IncompatibleModel(
            f"KV file {path} was made by model {header.get('fingerprint')!r}, not {fingerprint!r}"
        )


def _rebuild_kv(tensors, header, device, dtype) -> ChunkKV:
    method = header["quantization"]
    shape = (1, int(header["kv_heads"]), int(header["tokens"]), int(header["head_dim"]))
    target = dtype or _DTYPES[header["dtype"]]
    layers = []
    for index in range(int(header["layers"])):
        pair = []
        for role in ("key", "value"):
            prefix = f"{index}.{role}."
            parts = {
                name[len(prefix) :]: t for name, t in tensors.items() if name.startswith(prefix)
            }
            pair.append(dequantize(parts, method, role, shape, target).to(device))
        layers.append((pair[0], pair[1]))
    return ChunkKV(layers)


def _checksum(header: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    fields = {name: value for name, value in header.items() if name != "checksum"}
    crc = zlib.crc32(json.dumps(fields, sort_keys=True).encode())
    for name in sorted(tensors):
        crc = zlib.crc32(name.encode(), crc)
        crc = zlib.crc32(tensors[name].contiguous().view(torch.uint8).numpy().data, crc)
    return f"crc32:{crc:08x}"


def _atomic_write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temp, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
