"""Chunk KV files, tiers, eviction policies and quantization (small synthetic KV)."""

from __future__ import annotations

import os
import time

import pytest
import torch

from activation_cache import CacheConfig, ChunkCache, ChunkKV, block_keys, chunk_key
from activation_cache.policies import EntryInfo, make_policy
from activation_cache.quantization import dequantize, quantize
from activation_cache.serialization import read_chunk, write_chunk
from storage.errors import CorruptBlob, IncompatibleModel, NotFound


def small_kv(tokens: int = 8, seed: int = 0, layers: int = 2) -> ChunkKV:
    generator = torch.Generator().manual_seed(seed)
    return ChunkKV(
        [
            (torch.randn(1, 2, tokens, 8, generator=generator),
             torch.randn(1, 2, tokens, 8, generator=generator))
            for _ in range(layers)
        ]
    )


ENTRY_BYTES = small_kv().nbytes  # 2 layers x (K, V) x 2 heads x 8 tokens x 8 dims x 4 bytes


def ids(seed: int, tokens: int = 8) -> list[int]:
    return [seed * 100 + i for i in range(tokens)]


def test_written_chunk_reads_back_identical(tmp_path):
    kv = small_kv()
    write_chunk(tmp_path / "a.safetensors", ids(1), kv, fingerprint="model-a")
    stored = read_chunk(tmp_path / "a.safetensors", fingerprint="model-a")
    assert stored.token_ids == ids(1)
    for (k, v), (k2, v2) in zip(kv.layers, stored.kv.layers, strict=True):
        assert torch.equal(k, k2) and torch.equal(v, v2)
    assert stored.header["tokens"] == "8" and stored.header["quantization"] == "none"


def test_reject_kv_cache_from_other_model(tmp_path):
    write_chunk(tmp_path / "a.safetensors", ids(1), small_kv(), fingerprint="model-a")
    with pytest.raises(IncompatibleModel):
        read_chunk(tmp_path / "a.safetensors", fingerprint="model-b")


def test_flipped_byte_is_caught_by_checksum(tmp_path):
    path = tmp_path / "a.safetensors"
    write_chunk(path, ids(1), small_kv(), fingerprint="model-a")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptBlob):
        read_chunk(path, fingerprint="model-a")


def test_edited_header_field_is_caught_by_checksum(tmp_path):
    path = tmp_path / "a.safetensors"
    write_chunk(path, ids(1), small_kv(), fingerprint="model-a")
    data = path.read_bytes()
    assert data.count(b'"layers":"2"') == 1
    path.write_bytes(data.replace(b'"layers":"2"', b'"layers":"1"'))
    with pytest.raises(CorruptBlob, match="checksum"):
        read_chunk(path, fingerprint="model-a")


def test_quantized_chunk_reads_back_every_layer_within_its_error(tmp_path):
    kv = small_kv(tokens=40, layers=3)
    for method, bound in (("int8", 0.02), ("int4", 0.3)):
        path = tmp_path / f"{method}.safetensors"
        write_chunk(path, ids(1, 40), kv, fingerprint="m", quantization=method)
        stored = read_chunk(path, fingerprint="m")
        assert stored.kv.num_tokens == 40 and len(stored.kv.layers) == 3
        for (k, v), (k2, v2) in zip(kv.layers, stored.kv.layers, strict=True):
            assert k2.shape == k.shape and v2.shape == v.shape
            assert float((k2 - k).abs().max()) <= bound * float(k.abs().max())
            assert float((v2 - v).abs().max()) <= bound * float(v.abs().max())


def test_truncated_file_is_corrupt(tmp_path):
    path = tmp_path / "a.safetensors"
    write_chunk(path, ids(1), small_kv(), fingerprint="model-a")
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(CorruptBlob):
        read_chunk(path, fingerprint="model-a")


def test_chunk_key_depends_on_model_and_tokens():
    assert chunk_key("m", [1, 2, 3]) == chunk_key("m", [1, 2, 3])
    assert chunk_key("m", [1, 2, 3]) != chunk_key("other", [1, 2, 3])
    assert chunk_key("m", [1, 2, 3]) != chunk_key("m", [1, 2, 4])


def test_block_keys_chain_so_a_changed_token_changes_every_later_block():
    base = list(range(64))
    changed = [*base[:20], 999, *base[21:]]
    first, second = block_keys("m", base, 16), block_keys("m", changed, 16)
    assert len(first) == 4
    assert first[0] == second[0]
    assert all(a != b for a, b in zip(first[1:], second[1:], strict=True))
    assert block_keys("m", base[:40], 16) == first[:2]  # a partial block gets no key


def test_quantization_round_trip_error_is_bounded():
    x = small_kv(tokens=70, seed=3).layers[0][0] * 4
    scale = float(x.abs().max())
    for method, bound in (("none", 0.0), ("int8", 0.01), ("int4", 0.15)):
        for role in ("key", "value"):
            parts = quantize(x, method, role)
            back = dequantize(parts, method, role, tuple(x.shape), torch.float32)
            assert back.shape == x.shape
            assert float((back - x).abs().max()) <= bound * scale


def test_quantized_files_are_smaller(tmp_path):
    kv = small_kv(tokens=64)
    sizes = {
        method: write_chunk(tmp_path / f"{method}.safetensors", ids(1, 64), kv,
                            fingerprint="m", quantization=method)
        for method in ("none", "int8", "int4")
    }
    assert sizes["int4"] < sizes["int8"] < sizes["none"] / 2


@pytest.fixture
def make_cache(engine, tmp_path):
    def make(**budgets) -> ChunkCache:
        return ChunkCache(engine, tmp_path / "kv", CacheConfig(**budgets))

    return make


def test_reload_after_restart_hits_the_disk_tier(make_cache):
    make_cache().put(ids(1), small_kv())
    reopened = make_cache()
    entry = reopened.get(ids(1))
    assert entry is not None and entry.tier == "disk"
    assert torch.equal(entry.kv.layers[1][1], small_kv().layers[1][1])
    stats = reopened.stats()
    assert stats["tiers"]["disk"]["hits"] == 1 and stats["disk_loads"] == 1
    assert reopened.get(ids(1)).tier == "device"  # promoted by the disk hit


def test_corrupt_file_is_a_counted_miss_and_deleted(make_cache, tmp_path):
    key = make_cache().put(ids(1), small_kv())
    path = tmp_path / "kv" / f"{key}.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    reopened = make_cache()
    assert reopened.get(ids(1)) is None
    assert reopened.stats()["corrupt_files"] == 1
    assert reopened.stats()["misses"] == 1
    assert not path.exists()


def test_eviction_demotes_down_the_tiers_within_budgets(make_cache):
    cache = make_cache(device_bytes=2 * ENTRY_BYTES, host_bytes=ENTRY_BYTES,
                       disk_bytes=10 * ENTRY_BYTES)
    keys = [cache.put(ids(n), small_kv(seed=n)) for n in range(4)]
    tiers = {entry.key: entry.tier for entry in cache.entries()}
    assert [tiers[k] for k in keys] == ["disk", "host", "device", "device"]
    stats = cache.stats()["tiers"]
    assert stats["device"]["bytes"] <= 2 * ENTRY_BYTES and stats["host"]["bytes"] <= ENTRY_BYTES
    assert stats["device"]["evictions"] == 2 and stats["host"]["evictions"] == 1


def test_disk_eviction_deletes_the_file_and_forgets_the_entry(make_cache, tmp_path):
    file_bytes = write_chunk(tmp_path / "probe.safetensors", ids(0), small_kv(), fingerprint="m")
    cache = make_cache(device_bytes=0, host_bytes=0, disk_bytes=int(2.5 * file_bytes))
    keys = [cache.put(ids(n), small_kv(seed=n)) for n in range(3)]
    assert keys[0] not in cache and not (tmp_path / "kv" / f"{keys[0]}.safetensors").exists()
    assert cache.get(ids(0)) is None
    assert cache.stats()["tiers"]["disk"]["evictions"] == 1
    assert cache.stats()["tiers"]["disk"]["bytes"] <= 2.5 * file_bytes


def test_pinned_entry_is_never_evicted(make_cache):
    cache = make_cache(device_bytes=2 * ENTRY_BYTES, host_bytes=0, disk_bytes=10 * ENTRY_BYTES)
    pinned = cache.put(ids(0), small_kv(seed=0))
    cache.pin(pinned)
    for n in range(1, 5):
        cache.put(ids(n), small_kv(seed=n))
    tiers = {entry.key: (entry.tier, entry.pinned) for entry in cache.entries()}
    assert tiers[pinned] == ("device", True)
    cache.unpin(pinned)
    cache.put(ids(9), small_kv(seed=9))
    cache.put(ids(8), small_kv(seed=8))
    assert {e.key: e.tier for e in cache.entries()}[pinned] == "disk"


def test_explicit_evict_removes_entry_and_unknown_key_is_not_found(make_cache):
    cache = make_cache()
    key = cache.put(ids(1), small_kv())
    cache.evict(key)
    assert cache.get(ids(1)) is None and key not in cache
    with pytest.raises(NotFound):
        cache.evict(key)
    with pytest.raises(NotFound):
        cache.pin("nope")


def info(key: str, tokens: int = 8, hits: int = 0, last_used: float = 0.0) -> EntryInfo:
    return EntryInfo(key=key, tokens=tokens, nbytes=tokens * 100, tier="device",
                     hits=hits, last_used=last_used)


def test_lru_evicts_the_least_recently_used():
    entries = [info("a", last_used=3), info("b", last_used=1), info("c", last_used=2)]
    assert make_policy("lru").victim(entries, {}).key == "b"


def test_lfu_evicts_the_least_hit_then_oldest():
    entries = [info("a", hits=5, last_used=1), info("b", hits=1, last_used=3),
               info("c", hits=1, last_used=2)]
    assert make_policy("lfu").victim(entries, {}).key == "c"


def test_cost_aware_evicts_cheapest_to_recompute_per_byte():
    # Same bytes per token, so the short chunk (no quadratic attention term) goes first;
    # a quantized file holding the long chunk in fewer bytes is worth even more to keep.
    entries = [info("long", tokens=2000, last_used=0), info("short", tokens=50, last_used=5)]
    assert make_policy("cost").victim(entries, {}).key == "short"
    sizes = {"long": 2000 * 100, "short": 50 * 100 * 100}
    assert make_policy("cost").victim(entries, sizes).key == "short"
    sizes = {"long": 2000 * 100 * 100, "short": 50 * 100}
    assert make_policy("cost").victim(entries, sizes).key == "long"


def test_scan_leaves_a_younger_write_of_another_process_alone(tmp_path):
    from activation_cache.tiers import ABANDONED_AFTER_S, DiskTier

    writing = tmp_path / ".a.safetensors.0123.tmp"  # another worker's write in progress
    crashed = tmp_path / ".b.safetensors.4567.tmp"  # a write whose process died long ago
    for temp in (writing, crashed):
        temp.write_bytes(b"partial")
    old = time.time() - ABANDONED_AFTER_S - 60
    os.utime(crashed, (old, old))
    DiskTier(tmp_path, 1 << 20, make_policy("lru"), fingerprint="model-a").scan()
    assert writing.exists() and not crashed.exists()
