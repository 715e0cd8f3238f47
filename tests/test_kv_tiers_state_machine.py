"""Stateful property tests of the KV tier store: random operations under tiny budgets.

Real tensors, real files in a temp folder. After every step the budgets hold, the
bookkeeping matches what the tiers and the folder hold, and pinned entries are still there.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from pathlib import Path

import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from activation_cache import ChunkKV, chunk_key, write_chunk
from activation_cache.policies import make_policy
from activation_cache.serialization import SUFFIX
from activation_cache.tiers import DiskTier, MemoryTier, TieredStore

FINGERPRINT = "tiny-model"
CHUNKS = range(6)
RANK = {"device": 0, "host": 1, "disk": 2}


def tokens_of(chunk: int) -> list[int]:
    """Token ids of a synthetic chunk; chunks differ in length (1 to 3 tokens)."""
    return [chunk * 100 + i for i in range(1 + chunk % 3)]


def kv_of(chunk: int) -> ChunkKV:
    """Small real KV of one layer, one head, head_dim 4, fixed per chunk."""
    generator = torch.Generator().manual_seed(chunk)
    shape = (1, 1, len(tokens_of(chunk)), 4)
    return ChunkKV([(torch.randn(shape, generator=generator),
                     torch.randn(shape, generator=generator))])


def key_of(chunk: int) -> str:
    return chunk_key(FINGERPRINT, tokens_of(chunk))


def _largest_file_size() -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"probe{SUFFIX}"
        return max(write_chunk(path, tokens_of(c), kv_of(c), fingerprint=FINGERPRINT)
                   for c in CHUNKS)


ENTRY_BYTES = max(kv_of(c).nbytes for c in CHUNKS)
FILE_BYTES = _largest_file_size()


class FillableDiskTier(DiskTier):
    """A disk tier whose writes fail with ENOSPC while ``full`` is set, as a full disk's do."""

    full = False

    def write(self, key: str, token_ids: list[int], kv: ChunkKV) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().write(key, token_ids, kv)


class TierStoreMachine(RuleBasedStateMachine):
    """Drives one TieredStore; restarts build a new one over the same folder."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="kv-tiers-"))
        self.store: TieredStore | None = None
        self.pinned_rank: dict[str, int] = {}
        self.damaged: dict[str, bytes] = {}

    @initialize(device_slots=st.integers(0, 2), host_slots=st.integers(0, 2),
                disk_slots=st.integers(0, 3), policy=st.sampled_from(["lru", "lfu", "cost"]))
    def open_store(self, device_slots, host_slots, disk_slots, policy) -> None:
        self.budgets = (device_slots * ENTRY_BYTES, host_slots * ENTRY_BYTES,
                        disk_slots * FILE_BYTES)
        self.policy = policy
        self.store = self._open()

    def _open(self) -> TieredStore:
        device_bytes, host_bytes, disk_bytes = self.budgets
        return TieredStore(
            MemoryTier("device", torch.device("cpu"), device_bytes, make_policy(self.policy)),
            MemoryTier("host", torch.device("cpu"), host_bytes, make_policy(self.policy)),
            FillableDiskTier(self.folder, disk_bytes, make_policy(self.policy),
                             fingerprint=FINGERPRINT),
            dtype=torch.float32,
        )

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(chunk=st.sampled_from(CHUNKS))
    def insert(self, chunk) -> None:
        stored = self.store.insert(key_of(chunk), tokens_of(chunk), kv_of(chunk))
        assert stored == (key_of(chunk) in self.store.info)

    @rule(chunk=st.sampled_from(CHUNKS), asked=st.sampled_from(CHUNKS))
    def lookup(self, chunk, asked) -> None:
        """Look ``chunk``'s key up with ``asked``'s tokens (a collision when they differ)."""
        key = key_of(chunk)
        found = self.store.lookup(key, tokens_of(asked))
        if asked != chunk:
            assert found is None, "served another chunk's KV"
        elif found is not None:
            for (k, v), (k2, v2) in zip(found[0].layers, kv_of(chunk).layers, strict=True):
                assert torch.equal(k, k2) and torch.equal(v, v2)
        elif key in self.pinned_rank:
            raise AssertionError("a pinned entry missed")

    @rule(chunk=st.sampled_from(CHUNKS))
    def pin(self, chunk) -> None:
        key = key_of(chunk)
        known = key in self.store.info
        assert self.store.set_pinned(key, True) == known
        if known and not self._only_copy_damaged(key):
            self.pinned_rank[key] = RANK[self.store.info[key].tier]

    def _only_copy_damaged(self, key: str) -> bool:
        return self.store.info[key].tier == "disk" and self._damaged(key)

    def _damaged(self, key: str) -> bool:
        path = self.store.disk.path(key)
        return path.exists() and path.read_bytes() == self.damaged.get(key)

    @rule(chunk=st.sampled_from(CHUNKS))
    def unpin(self, chunk) -> None:
        key = key_of(chunk)
        assert self.store.set_pinned(key, False) == (key in self.store.info)
        self.pinned_rank.pop(key, None)

    @rule(chunk=st.sampled_from(CHUNKS))
    def remove(self, chunk) -> None:
        key = key_of(chunk)
        known = key in self.store.info
        assert self.store.remove(key) == known
        assert key not in self.store.info and not self.store.disk.path(key).exists()
        self.pinned_rank.pop(key, None)

    @precondition(lambda self: self.store is not None and self.store.info)
    @rule(data=st.data())
    def evict_known(self, data) -> None:
        """Evict an entry the store holds (the cache's ``evict``)."""
        key = data.draw(st.sampled_from(sorted(self.store.info)))
        assert self.store.remove(key)
        self.pinned_rank.pop(key, None)

    @precondition(lambda self: self.store is not None and self.store.disk.file_sizes)
    @rule(data=st.data())
    def damage_file(self, data) -> None:
        """A byte of a file flips behind the store's back: a miss when loaded, never an error."""
        intact = [key for key in sorted(self.store.disk.file_sizes) if not self._damaged(key)]
        if not intact:
            return
        key = data.draw(st.sampled_from(intact))
        path = self.store.disk.path(key)
        damaged = bytearray(path.read_bytes())
        damaged[-1] ^= 0x01
        path.write_bytes(bytes(damaged))
        self.damaged[key] = bytes(damaged)
        if self.store.info[key].tier == "disk":
            self.pinned_rank.pop(key, None)  # its only copy is gone

    @precondition(lambda self: self.store is not None)
    @rule(chunk=st.sampled_from(CHUNKS))
    def reload_from_disk(self, chunk) -> None:
        """An entry held only on disk is loaded back, checked, into a memory tier."""
        key = key_of(chunk)
        info = self.store.info.get(key)
        if info is None or info.tier != "disk":
            return
        damaged = self._only_copy_damaged(key)
        found = self.store.lookup(key, tokens_of(chunk))
        assert (found is None) == damaged
        if found is not None:
            assert found[1] == "disk"

    @rule(full=st.booleans())
    def disk_fills(self, full) -> None:
        """The disk fills up (every write fails with ENOSPC) or gets space back."""
        self.store.disk.full = full

    @rule()
    def restart(self) -> None:
        """A new process: memory tiers are empty, pins are gone, files are found again."""
        on_disk = set(self.store.disk.file_sizes)
        self.store = self._open()
        self.pinned_rank.clear()
        assert set(self.store.info) <= on_disk

    @invariant()
    def budgets_hold(self) -> None:
        if self.store is None:
            return
        for tier in (self.store.device, self.store.host, self.store.disk):
            assert tier.used_bytes <= tier.budget_bytes, f"{tier.name} over its budget"

    @invariant()
    def bookkeeping_matches_the_tiers(self) -> None:
        if self.store is None:
            return
        store = self.store
        for tier in (store.device, store.host):
            assert tier.used_bytes == sum(tier.sizes().values())
        assert not set(store.device.keys()) & set(store.host.keys())
        held = set(store.device.keys()) | set(store.host.keys()) | set(store.disk.file_sizes)
        assert set(store.info) == held, "an entry and its tiers disagree"
        files = {p.name[: -len(SUFFIX)]: p.stat().st_size for p in self.folder.glob(f"*{SUFFIX}")}
        assert store.disk.file_sizes == files
        for key, info in store.info.items():
            fastest = next(t.name for t in (store.device, store.host, store.disk)
                           if key in (t.file_sizes if t is store.disk else t.keys()))
            assert info.tier == fastest
            assert info.on_disk == (key in store.disk.file_sizes)

    @invariant()
    def pinned_entries_stay(self) -> None:
        if self.store is None:
            return
        for key, rank in list(self.pinned_rank.items()):
            assert key in self.store.info, "a pinned entry was forgotten"
            now = RANK[self.store.info[key].tier]
            assert now <= rank, "a pinned entry was demoted"
            self.pinned_rank[key] = now


TierStoreMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_tier_store_keeps_its_invariants = TierStoreMachine.TestCase


def test_cascade_to_disk_keeps_track_of_the_entry_it_demotes(tmp_path):
    """The shrunk example that hit the KeyError: the host victim's write to disk evicted the
    file of the device victim while it was between tiers, and the store forgot it."""
    policy = make_policy("lru")
    store = TieredStore(
        MemoryTier("device", torch.device("cpu"), ENTRY_BYTES, policy),
        MemoryTier("host", torch.device("cpu"), ENTRY_BYTES, policy),
        DiskTier(tmp_path, 2 * FILE_BYTES, policy, fingerprint=FINGERPRINT),
        dtype=torch.float32,
    )
    for chunk in (0, 2, 1, 5):
        store.insert(key_of(chunk), tokens_of(chunk), kv_of(chunk))
        held = set(store.device.keys()) | set(store.host.keys()) | set(store.disk.file_sizes)
        assert set(store.info) == held
