"""ChunkCache: the thread-safe facade over keys, tiers and files of cached chunk KV."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import DynamicCache

from activation_cache.backend import Backend
from activation_cache.chunk_kv import ChunkKV
from activation_cache.keys import chunk_key
from activation_cache.policies import DEFAULT_POLICY, EntryInfo, make_policy
from activation_cache.quantization import check_method
from activation_cache.redis_tier import RedisTier
from activation_cache.tiers import DiskTier, MemoryTier, TieredStore
from storage.errors import InvalidInput, NotFound

_MIB = 1024 * 1024


@dataclass(slots=True)
class CacheConfig:
    """Byte budgets per tier, the eviction policy and how disk files are quantized."""

    device_bytes: int = 256 * _MIB
    host_bytes: int = 1024 * _MIB
    disk_bytes: int = 8192 * _MIB
    policy: str = DEFAULT_POLICY
    quantization: str = "none"
    write_through: bool = True

    def __post_init__(self) -> None:
        if min(self.device_bytes, self.host_bytes, self.disk_bytes) < 0:
            raise ValueError("tier budgets must not be negative")
        make_policy(self.policy)
        check_method(self.quantization)


@dataclass(slots=True)
class CacheEntry:
    """A cache hit. ``kv`` is the stored copy: hand the model ``kv.to_cache()``, never ``kv``."""

    key: str
    token_ids: list[int]
    kv: ChunkKV
    tier: str


class ChunkCache:
    """KV of text chunks computed at position 0, kept across device, host and disk tiers."""

    def __init__(self, backend: Backend, folder: Path, config: CacheConfig | None = None, *,
                 remote: RedisTier | None = None) -> None:
        self.backend = backend
        self.config = config or CacheConfig()
        self._lock = threading.RLock()
        self._store = TieredStore(
            MemoryTier("device", backend.device, self.config.device_bytes,
                       make_policy(self.config.policy)),
            MemoryTier("host", torch.device("cpu"), self.config.host_bytes,
                       make_policy(self.config.policy)),
            DiskTier(Path(folder), self.config.disk_bytes, make_policy(self.config.policy),
                     fingerprint=backend.fingerprint, quantization=self.config.quantization),
            dtype=backend.dtype,
            write_through=self.config.write_through,
            remote=remote,
        )

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the model whose KV this cache holds."""
        return self.backend.fingerprint

    def key_for(self, token_ids: Sequence[int]) -> str:
        """The key a chunk of these tokens is stored under."""
        return chunk_key(self.backend.fingerprint, token_ids)

    def get(self, token_ids: Sequence[int], key: str | None = None) -> CacheEntry | None:
        """The cached KV of exactly these tokens, or None (a miss)."""
        ids = _checked_ids(token_ids)
        key = key or self.key_for(ids)
        with self._lock:
            found = self._store.lookup(key, ids)
        if found is None:
            return None
        return CacheEntry(key=key, token_ids=ids, kv=found[0], tier=found[1])

    def put(
        self, token_ids: Sequence[int], kv: ChunkKV | DynamicCache, key: str | None = None
    ) -> str:
        """Store a copy of the KV of ``token_ids`` (computed at position 0); return its key."""
        ids = _checked_ids(token_ids)
        chunk = ChunkKV.from_cache(kv) if isinstance(kv, DynamicCache) else kv
        if chunk.num_tokens != len(ids):
            raise InvalidInput(f"KV covers {chunk.num_tokens} tokens, not {len(ids)}")
        private = chunk.to(self.backend.device, self.backend.dtype)
        key = key or self.key_for(ids)
        with self._lock:
            self._store.insert(key, ids, private)
        return key

    def warm(self, token_ids: Sequence[int]) -> CacheEntry:
        """Return the chunk's entry, prefilling it at position 0 and storing it on a miss."""
        ids = _checked_ids(token_ids)
        entry = self.get(ids)
        if entry is not None:
            return entry
        cache = self.backend.forward(ids).cache
        key = self.put(ids, ChunkKV.from_cache(cache))
        kv = ChunkKV.from_cache(cache)
        return CacheEntry(key=key, token_ids=ids, kv=kv, tier=self._tier(key))

    def pin(self, key: str) -> None:
        """Never evict this entry from the tiers it is in."""
        self._set_pinned(key, True)

    def unpin(self, key: str) -> None:
        """Let the policies evict this entry again."""
        self._set_pinned(key, False)

    def evict(self, key: str) -> None:
        """Drop the entry from every tier and delete its file."""
        with self._lock:
            if not self._store.remove(key):
                raise NotFound(f"no cached chunk {key}")

    def file_path(self, key: str) -> Path:
        """Where the entry's file lives (or would live) on disk."""
        return self._store.disk.path(key)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._store.info

    def entries(self) -> list[EntryInfo]:
        """Every entry (key, tokens, bytes, tier, pinned, hits, last use), most recent first."""
        with self._lock:
            return [dataclasses.replace(entry) for entry in self._store.entries()]

    def stats(self) -> dict:
        """Hits, misses, evictions and bytes per tier, disk load time, bad files and failures."""
        with self._lock:
            store = self._store
            tiers = {
                tier.name: {
                    **dataclasses.asdict(tier.counters),
                    "bytes": tier.used_bytes,
                    "budget_bytes": tier.budget_bytes,
                    "entries": sum(1 for e in store.info.values() if e.tier == tier.name),
                }
                for tier in (store.device, store.host, store.disk)
            }
            if store.remote is not None:
                tiers["redis"] = {**dataclasses.asdict(store.remote.counters),
                                  "bytes": store.remote.used_bytes,
                                  "budget_bytes": store.remote.budget_bytes, "entries": 0}
            return {
                "entries": len(store.info),
                "hits": sum(tier["hits"] for tier in tiers.values()),
                "misses": store.misses,
                "tiers": tiers,
                "disk_loads": store.disk_loads,
                "disk_load_s": store.disk_load_s,
                "corrupt_files": store.corrupt_files,
                "incompatible_files": store.incompatible_files,
                "failures": {**store.failures.counts(),
                             **(store.remote.failures.counts() if store.remote else {})},
                "policy": self.config.policy,
                "quantization": self.config.quantization,
            }

    def _tier(self, key: str) -> str:
        with self._lock:
            info = self._store.info.get(key)
            return info.tier if info is not None else ""

    def _set_pinned(self, key: str, pinned: bool) -> None:
        with self._lock:
            if not self._store.set_pinned(key, pinned):
                raise NotFound(f"no cached chunk {key}")


def _checked_ids(token_ids: Sequence[int]) -> list[int]:
    ids = [int(token) for token in token_ids]
    if not ids:
        raise InvalidInput("a cached chunk needs at least one token")
    return ids
