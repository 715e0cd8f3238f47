"""Storage tiers for chunk KV: device memory -> host memory -> disk, each under a byte budget.

A full tier demotes its policy's victim one tier down; the disk tier deletes the victim's
file. Pinned entries are never evicted. Disk is written through on insert (so a restart
finds every entry that fit), and a file that fails its checks is deleted and read as a miss.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from activation_cache.chunk_kv import ChunkKV
from activation_cache.policies import EntryInfo
from activation_cache.redis_tier import RedisTier
from activation_cache.tier_levels import ABANDONED_AFTER_S, DiskTier, MemoryTier
from storage.cache_failures import CacheFailures
from storage.errors import CorruptBlob, IncompatibleModel

logger = logging.getLogger(__name__)

TIER_NAMES = ("device", "host", "disk")
__all__ = ["ABANDONED_AFTER_S", "TIER_NAMES", "DiskTier", "MemoryTier", "TieredStore"]


class TieredStore:
    """Entries across device, host and disk tiers, with promotion, demotion and counters.

    An entry being placed or demoted is "in flight": it sits in no tier for a moment, and
    the cascade below it must not forget it; whoever put it in flight settles it afterwards.
    """

    def __init__(self, device: MemoryTier, host: MemoryTier, disk: DiskTier, *,
                 dtype: torch.dtype, write_through: bool = True,
                 failures: CacheFailures | None = None, remote: RedisTier | None = None) -> None:
        self.device, self.host, self.disk = device, host, disk
        self.remote = remote  # shared with other servers, below (beside) the disk tier
        self.dtype = dtype
        self.write_through = write_through
        self.failures = failures or CacheFailures(logger)
        self.info: dict[str, EntryInfo] = {}
        self._tokens: dict[str, list[int]] = {}
        self.misses = 0
        self.corrupt_files = 0
        self.incompatible_files = 0
        self.disk_loads = 0
        self.disk_load_s = 0.0
        self._last_touch = 0.0
        self._placing: set[str] = set()
        self._load_existing()

    def lookup(self, key: str, token_ids: list[int]) -> tuple[ChunkKV, str] | None:
        """The entry's KV (shared, do not mutate) and the tier that answered, or None."""
        info = self.info.get(key)
        for tier in (self.device, self.host):
            kv = tier.get(key) if info is not None else None
            if kv is not None and self._tokens.get(key) == list(token_ids):
                tier.counters.hits += 1
                self._touch(info)
                if tier is self.host:
                    kv = self._promote(key)
                return kv, tier.name
            tier.counters.misses += 1
        kv = self._load(key, token_ids) if info is not None and info.on_disk else None
        tier = self.disk
        if kv is None:
            self.disk.counters.misses += 1
            kv, tier = self._load_remote(key, token_ids), self.remote
        if kv is None:
            self.misses += 1
            return None
        if tier is self.disk:
            self.disk.counters.hits += 1
        self._touch(self.info[key])
        self._settle(key, kv)
        return kv, tier.name

    def insert(self, key: str, token_ids: list[int], kv: ChunkKV) -> bool:
        """Store a private KV under ``key``; False when no tier had room for it."""
        if key in self.info:
            self._touch(self.info[key])
            return True
        self.info[key] = EntryInfo(key=key, tokens=len(token_ids), nbytes=kv.nbytes, tier="")
        self._tokens[key] = list(token_ids)
        self._touch(self.info[key])
        with self._in_flight(key):
            if self.write_through:
                self._write_disk(key, kv)
            self._place(0, key, kv)
        return self._settled(key)

    def remove(self, key: str) -> bool:
        """Drop the entry from every tier and delete its file; False if it was unknown."""
        if key not in self.info:
            return False
        self.device.pop(key)
        self.host.pop(key)
        self._delete_file(key)
        self._forget(key)
        if self.remote is not None:
            self.remote.delete(key)
        return True

    def set_pinned(self, key: str, pinned: bool) -> bool:
        """Pin or unpin an entry; False if it is unknown."""
        info = self.info.get(key)
        if info is not None:
            info.pinned = pinned
        return info is not None

    def entries(self) -> list[EntryInfo]:
        """Every entry, most recently used first."""
        return sorted(self.info.values(), key=lambda entry: entry.last_used, reverse=True)

    def _promote(self, key: str) -> ChunkKV:
        kv = self.host.pop(key)
        self._settle(key, kv)
        return self.device.get(key) or self.host.get(key) or kv

    def _settle(self, key: str, kv: ChunkKV) -> bool:
        """Place an entry from the top tier down; True if some tier holds it afterwards."""
        with self._in_flight(key):
            self._place(0, key, kv)
        return self._settled(key)

    def _place(self, level: int, key: str, kv: ChunkKV) -> None:
        """Put ``kv`` in memory tier ``level`` or, if it cannot fit, further down."""
        tiers = (self.device, self.host)
        if level >= len(tiers):
            if not self.info[key].on_disk:
                self._write_disk(key, kv)
            return
        if self._make_room(level, kv.nbytes, exclude=key):
            tiers[level].add(key, kv)
        else:
            self._place(level + 1, key, kv)

    def _make_room(self, level: int, need: int, exclude: str) -> bool:
        """Demote unpinned entries of tier ``level`` until ``need`` bytes fit; False if they
        cannot (pinned entries alone leave too little room)."""
        tier = (self.device, self.host)[level]
        pinned = sum(size for key, size in tier.sizes().items() if self.info[key].pinned)
        if pinned + need > tier.budget_bytes:
            return False
        while tier.used_bytes + need > tier.budget_bytes:
            candidates = [self.info[key] for key in tier.keys()
                          if key != exclude and not self.info[key].pinned]
            victim = tier.policy.victim(candidates, tier.sizes())
            self._demote(level, victim.key)
        return True

    def _demote(self, level: int, key: str) -> None:
        tier = (self.device, self.host)[level]
        kv = tier.pop(key)
        tier.counters.evictions += 1
        with self._in_flight(key):
            self._place(level + 1, key, kv)
        self._settled(key)

    def _write_disk(self, key: str, kv: ChunkKV) -> bool:
        """Write the entry's file and trim the disk tier to its budget; False if not kept."""
        try:
            self.disk.write(key, self._tokens[key], kv)
        except OSError as error:  # a full or read-only disk: the entry stays in memory only
            self.failures.record("persist", error)
            return False
        self.info[key].on_disk = True
        self._publish(key)
        return self._trim_disk(keep=key)

    def _trim_disk(self, keep: str | None) -> bool:
        """Delete files of unpinned entries until the disk tier fits its budget; False if
        ``keep``'s own file had to go."""
        while self.disk.used_bytes > self.disk.budget_bytes:
            candidates = [self.info[k] for k in self.disk.file_sizes
                          if k != keep and not self.info[k].pinned]
            if not candidates:
                self._lose_disk_copy(keep)
                return False
            victim = self.disk.policy.victim(candidates, dict(self.disk.file_sizes))
            self.disk.counters.evictions += 1
            self._lose_disk_copy(victim.key)
        return True

    def _lose_disk_copy(self, key: str) -> None:
        """Delete the entry's file; an entry that no tier holds any more is forgotten, unless
        it is in flight (then whoever placed it settles it)."""
        self._delete_file(key)
        self.info[key].on_disk = False
        if key not in self._placing:
            self._settled(key)

    def _delete_file(self, key: str) -> None:
        try:
            self.disk.delete(key)
        except OSError as error:  # counted; the tier no longer tracks the file either way
            self.failures.record("evict", error)

    def _load(self, key: str, token_ids: list[int]) -> ChunkKV | None:
        start = time.perf_counter()
        try:
            stored = self.disk.read(key, self.device.device, self.dtype)
        except (CorruptBlob, FileNotFoundError):
            self.corrupt_files += 1
            self._lose_disk_copy(key)
            return None
        except IncompatibleModel:  # another model's file: left in place for that model
            self.incompatible_files += 1
            self.disk.file_sizes.pop(key, None)
            self.info[key].on_disk = False
            self._settled(key)
            return None
        except OSError as error:  # an unreadable disk: a miss, the file is tried again later
            self.failures.record("load", error)
            return None
        self.disk_loads += 1
        self.disk_load_s += time.perf_counter() - start
        if stored.token_ids != list(token_ids):
            return None  # a key collision: never serve another chunk's KV
        self._tokens[key] = stored.token_ids
        self.info[key].nbytes = stored.kv.nbytes
        return stored.kv

    def _load_remote(self, key: str, token_ids: list[int]) -> ChunkKV | None:
        """The entry from the shared tier, written as a local file and read back through the
        disk tier's checks; None on a miss or when the bytes fail them (then dropped there)."""
        if self.remote is None or key in self.info:
            return None  # known here: the local tiers were the truth for it
        payload = self.remote.fetch(key)
        if payload is None:
            return None
        try:
            self.disk.write_bytes(key, payload)
        except OSError as error:
            self.failures.record("persist", error)
            return None
        self.info[key] = EntryInfo(key=key, tokens=len(token_ids), nbytes=len(payload),
                                   tier="disk", on_disk=True)
        self._tokens[key] = list(token_ids)
        kv = self._load(key, token_ids)
        if kv is None:
            self.remote.delete(key)  # damaged, another model's, or another chunk's bytes
            self.remote.counters.hits -= 1
            self.remote.counters.misses += 1
            self.remove(key)
            return None
        self._trim_disk(keep=key)
        return kv

    def _publish(self, key: str) -> None:
        """Share the entry's checked file with other servers (best effort)."""
        if self.remote is None:
            return
        try:
            payload = self.disk.path(key).read_bytes()
        except OSError as error:
            self.failures.record("publish", error)
            return
        self.remote.publish(key, payload)

    def _settled(self, key: str) -> bool:
        """Update the entry's tier, forgetting it if no tier holds it; True if one does."""
        if self._refresh(key):
            return True
        self._forget(key)
        return False

    def _refresh(self, key: str) -> bool:
        """Update the entry's tier; False if no tier holds it any more."""
        info = self.info.get(key)
        if info is None:
            return False
        if key in self.device:
            info.tier = "device"
        elif key in self.host:
            info.tier = "host"
        elif info.on_disk:
            info.tier = "disk"
        else:
            info.tier = ""
            return False
        return True

    @contextmanager
    def _in_flight(self, key: str) -> Iterator[None]:
        added = key not in self._placing
        self._placing.add(key)
        try:
            yield
        finally:
            if added:
                self._placing.discard(key)

    def _forget(self, key: str) -> None:
        self.info.pop(key, None)
        self._tokens.pop(key, None)

    def _touch(self, info: EntryInfo) -> None:
        # Strictly increasing, so LRU never sees a tie between two quick operations.
        self._last_touch = max(time.time(), self._last_touch + 1e-6)
        info.hits += 1 if info.last_used else 0
        info.last_used = self._last_touch

    def _load_existing(self) -> None:
        found, corrupt = self.disk.scan()
        self.corrupt_files += corrupt
        for key, header, mtime in found:
            self.info[key] = EntryInfo(
                key=key, tokens=int(header["tokens"]), nbytes=self.disk.file_sizes[key],
                tier="disk", last_used=mtime, on_disk=True,
            )
        self._trim_disk(keep=None)  # the budget may have shrunk since the files were written
