"""The levels chunk KV lives on: a memory tier (device or host) and the disk tier.

Each keeps entries under a byte budget; ``activation_cache.tiers.TieredStore`` moves entries
between them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from activation_cache.chunk_kv import ChunkKV
from activation_cache.policies import EvictionPolicy
from activation_cache.serialization import (
    SUFFIX,
    StoredChunk,
    read_chunk,
    read_header,
    write_bytes,
    write_chunk,
)
from activation_cache.tier_counters import TierCounters
from storage.errors import CorruptBlob

logger = logging.getLogger(__name__)


class MemoryTier:
    """Chunk KV tensors held in memory on one device, under a byte budget."""

    def __init__(self, name: str, device: torch.device, budget_bytes: int, policy: EvictionPolicy):
        self.name = name
        self.device = torch.device(device)
        self.budget_bytes = budget_bytes
        self.policy = policy
        self.counters = TierCounters()
        self._kvs: dict[str, ChunkKV] = {}
        self._bytes: dict[str, int] = {}  # kept beside the tensors: summing them is not free
        self.used_bytes = 0

    def __contains__(self, key: str) -> bool:
        return key in self._kvs

    def keys(self) -> list[str]:
        """Keys held here."""
        return list(self._kvs)

    def get(self, key: str) -> ChunkKV | None:
        """The stored KV (shared: copy before handing it to a model)."""
        return self._kvs.get(key)

    def add(self, key: str, kv: ChunkKV) -> None:
        """Hold ``kv`` (moved to this tier's device) under ``key``."""
        if kv.device != self.device:
            kv = kv.to(self.device)
        self.pop(key)
        self._kvs[key] = kv
        self._bytes[key] = kv.nbytes
        self.used_bytes += self._bytes[key]

    def pop(self, key: str) -> ChunkKV | None:
        """Drop and return the entry, if held."""
        kv = self._kvs.pop(key, None)
        if kv is not None:
            self.used_bytes -= self._bytes.pop(key)
        return kv

    def sizes(self) -> dict[str, int]:
        """Bytes per key."""
        return dict(self._bytes)


class DiskTier:
    """One checked safetensors file per entry in a folder, under a byte budget."""

    name = "disk"

    def __init__(
        self, folder: Path, budget_bytes: int, policy: EvictionPolicy, *, fingerprint: str,
        quantization: str = "none",
    ):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.budget_bytes = budget_bytes
        self.policy = policy
        self.fingerprint = fingerprint
        self.quantization = quantization
        self.counters = TierCounters()
        self.file_sizes: dict[str, int] = {}

    @property
    def used_bytes(self) -> int:
        """Bytes of all files this tier tracks."""
        return sum(self.file_sizes.values())

    def path(self, key: str) -> Path:
        """Where the file of ``key`` lives."""
        return self.folder / f"{key}{SUFFIX}"

    def write(self, key: str, token_ids: list[int], kv: ChunkKV) -> None:
        """Write the entry's file atomically."""
        size = write_chunk(
            self.path(key), token_ids, kv, fingerprint=self.fingerprint,
            quantization=self.quantization,
        )
        self.file_sizes[key] = size

    def write_bytes(self, key: str, payload: bytes) -> None:
        """Write an entry's file from bytes made elsewhere (checked when it is read)."""
        write_bytes(self.path(key), payload)
        self.file_sizes[key] = len(payload)

    def read(self, key: str, device: torch.device, dtype: torch.dtype) -> StoredChunk:
        """Read and verify the entry's file (CorruptBlob / IncompatibleModel on failure)."""
        return read_chunk(self.path(key), fingerprint=self.fingerprint, device=device, dtype=dtype)

    def delete(self, key: str) -> None:
        """Remove the entry's file."""
        self.file_sizes.pop(key, None)
        self.path(key).unlink(missing_ok=True)

    def scan(self) -> tuple[list[tuple[str, dict, float]], int]:
        """Files of this model already in the folder as (key, header, mtime), plus how many
        unreadable files were deleted. Files of other models are left alone."""
        found, corrupt = [], 0
        for stale in self.folder.glob(f".*{SUFFIX}.*.tmp"):
            if _abandoned(stale):  # a write that crashed before its rename
                stale.unlink(missing_ok=True)
        for path in sorted(self.folder.glob(f"*{SUFFIX}")):
            key = path.name[: -len(SUFFIX)]
            try:
                header = read_header(path)
            except CorruptBlob:
                path.unlink(missing_ok=True)
                corrupt += 1
                continue
            if header.get("fingerprint") == self.fingerprint:
                stat = path.stat()
                self.file_sizes[key] = stat.st_size
                found.append((key, header, stat.st_mtime))
        return found, corrupt


ABANDONED_AFTER_S = 600.0  # another process on this home may be writing a younger one


def _abandoned(temp: Path) -> bool:
    """Whether a temp file is old enough that no live write can still own it."""
    try:
        return time.time() - temp.stat().st_mtime > ABANDONED_AFTER_S
    except FileNotFoundError:
        return False
