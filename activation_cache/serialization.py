"""One safetensors file per cached chunk: K and V of all layers, token ids and a checked header.

Keys (and values) of every layer are stacked into one ``[layers, kv_heads, tokens, head_dim]``
tensor, stored as is or as the parts of its quantization, so a file holds a handful of tensors
and loading costs no per-layer bookkeeping.

The header's ``checksum`` is an XXH3-64 over the other header fields, the tensor table (names,
dtypes, shapes, offsets) and the data bytes (corruption, not tampering, is what it guards
against; XXH3 runs at memory speed, where CRC-32 costs more than reading the file), so a
flipped bit anywhere (header included) or a truncated file reads as CorruptBlob, and a file
written for another model fingerprint reads as IncompatibleModel. Loading reads the data once,
in slices hashed while they are still in the CPU cache, into one buffer whose views become the
tensors (no second copy).
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import xxhash
from safetensors.torch import save as save_tensors

from activation_cache.chunk_kv import ChunkKV
from activation_cache.quantization import DEFAULT_GROUP, check_method, dequantize, quantize
from storage.atomic import write_replacing
from storage.errors import CorruptBlob, IncompatibleModel

FORMAT = "memos-kv"
FORMAT_VERSION = "3"
SUFFIX = ".safetensors"
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
# safetensors' dtype codes of the tensors a chunk file holds
_CODES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16,
          "U8": torch.uint8, "I64": torch.int64}
_SLICE_BYTES = 1 << 20  # read and hash this much at a time, while it sits in the CPU cache
_PLACEHOLDER = "xxh3_64:" + "0" * 16  # as long as every checksum, written before it is known

Layout = list[tuple[str, tuple[str, list[int], int, int]]]  # name, (code, shape, begin, end)


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
    for role, index in (("key", 0), ("value", 1)):
        stacked = torch.cat([layer[index] for layer in kv.layers])
        for part, data in quantize(stacked, quantization, role, group).items():
            tensors[f"{role}.{part}"] = data
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
    # Serialized once with a placeholder of the checksum's length, which is then filled in.
    payload = bytearray(save_tensors(tensors, metadata={**header, "checksum": _PLACEHOLDER}))
    table, data_start = _split(payload, path)
    digest = _digest(header, _layout(table, path))
    digest.update(memoryview(payload)[data_start:])
    spot = payload.find(_PLACEHOLDER.encode(), 0, data_start)
    payload[spot : spot + len(_PLACEHOLDER)] = _hex(digest).encode()
    write_replacing(Path(path), payload)
    return len(payload)


def write_bytes(path: Path, payload: bytes) -> None:
    """Write a chunk file's bytes made elsewhere (another server's), atomically, unchecked:
    ``read_chunk`` checks them like any file."""
    write_replacing(Path(path), payload)


def read_chunk(
    path: Path,
    *,
    fingerprint: str,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
) -> StoredChunk:
    """Read and verify a chunk file; raise CorruptBlob or IncompatibleModel when it is unfit."""
    with open(path, "rb") as file:
        table = _table(_read_table_bytes(file, path), path)
        header = table.pop("__metadata__")
        layout = _layout(table, path)
        data_bytes = os.fstat(file.fileno()).st_size - file.tell()
        _check_tiling(layout, data_bytes, path)
        digest = _digest(header, layout)
        data = _read_hashed(file, data_bytes, digest, path)
    if _hex(digest) != header.get("checksum"):
        raise CorruptBlob(f"checksum mismatch in KV file {path}")
    _check_fingerprint(header, fingerprint, path)
    tensors = {name: data[begin:end].view(_CODES[code]).view(shape)
               for name, (code, shape, begin, end) in layout}
    kv = _rebuild_kv(tensors, header, device, dtype)
    return StoredChunk(tensors["token_ids"].tolist(), kv, header)


def read_header(path: Path) -> dict[str, str]:
    """The header of a chunk file, reading only its first bytes (CorruptBlob if unreadable)."""
    with open(path, "rb") as file:
        return _table(_read_table_bytes(file, path), path)["__metadata__"]


def _read_table_bytes(file, path: Path) -> bytes:
    head = file.read(8)
    if len(head) < 8:
        raise CorruptBlob(f"KV file {path} is truncated")
    (length,) = struct.unpack("<Q", head)
    return file.read(length)


def _split(payload: bytes | bytearray, path: Path) -> tuple[dict, int]:
    """A whole file's table and where its data starts."""
    (length,) = struct.unpack("<Q", payload[:8])
    return _table(bytes(payload[8 : 8 + length]), path), 8 + length


def _table(table_bytes: bytes, path: Path) -> dict:
    """The JSON table (tensor entries and ``__metadata__``), its format checked."""
    try:
        table = json.loads(table_bytes)
        header = table["__metadata__"]
        known = header.get("format") == FORMAT and header.get("format_version") == FORMAT_VERSION
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptBlob(f"KV file {path} has an unreadable header") from error
    if not known:
        raise CorruptBlob(f"KV file {path} is not a {FORMAT} v{FORMAT_VERSION} file")
    return table


def _layout(table: dict, path: Path) -> Layout:
    """``(name, (code, shape, begin, end))`` per tensor, sorted by name."""
    try:
        return sorted((name, _entry(raw)) for name, raw in table.items() if name != "__metadata__")
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptBlob(f"KV file {path} has a malformed tensor table") from error


def _entry(raw: dict) -> tuple[str, list[int], int, int]:
    code, shape, (begin, end) = raw["dtype"], [int(n) for n in raw["shape"]], raw["data_offsets"]
    if code not in _CODES or end - begin != math.prod(shape) * _CODES[code].itemsize:
        raise ValueError(f"bad tensor entry {raw}")
    return code, shape, int(begin), int(end)


def _check_tiling(layout: Layout, data_bytes: int, path: Path) -> None:
    """The tensors must cover the data exactly: a truncated or padded file is corrupt."""
    spans = sorted((begin, end) for _, (_, _, begin, end) in layout)
    edges = [0, *(edge for span in spans for edge in span), data_bytes]
    if any(edges[i] != edges[i + 1] for i in range(0, len(edges), 2)):
        raise CorruptBlob(f"KV file {path} is truncated or its tensors overlap")


def _read_hashed(file, size: int, digest, path: Path) -> torch.Tensor:
    """The next ``size`` bytes as a uint8 tensor, fed to ``digest`` slice by slice."""
    # numpy's buffer, not torch.empty: glibc hands it recycled heap pages, where a torch
    # allocation this large is fresh memory the kernel must zero (3-4x the read itself).
    buffer = np.empty(size, dtype=np.uint8)
    view = memoryview(buffer)
    for start in range(0, size, _SLICE_BYTES):
        piece = view[start : start + _SLICE_BYTES]
        if file.readinto(piece) != len(piece):
            raise CorruptBlob(f"KV file {path} is truncated")
        digest.update(piece)
    return torch.from_numpy(buffer)


def _digest(header: dict[str, str], layout: Layout):
    """An XXH3-64 state fed the header fields (less the checksum) and the tensor table."""
    fields = {name: value for name, value in header.items() if name != "checksum"}
    return xxhash.xxh3_64(json.dumps([fields, layout], sort_keys=True).encode())


def _hex(digest) -> str:
    return f"xxh3_64:{digest.hexdigest()}"


def _check_fingerprint(header: dict[str, str], fingerprint: str, path: Path) -> None:
    if header.get("fingerprint") != fingerprint:
        raise IncompatibleModel(
            f"KV file {path} was made by model {header.get('fingerprint')!r}, not {fingerprint!r}"
        )


def _rebuild_kv(tensors, header, device, dtype) -> ChunkKV:
    method = header["quantization"]
    layers = int(header["layers"])
    shape = (layers, int(header["kv_heads"]), int(header["tokens"]), int(header["head_dim"]))
    target = dtype or _DTYPES[header["dtype"]]
    stacked = []
    for role in ("key", "value"):
        parts = {name.split(".")[1]: t for name, t in tensors.items() if name.startswith(role)}
        stacked.append(dequantize(parts, method, role, shape, target).to(device))
    keys, values = stacked
    return ChunkKV([(keys[i : i + 1], values[i : i + 1]) for i in range(layers)])
