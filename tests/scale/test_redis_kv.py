"""The shared KV tier on a real Redis: one server's KV is a hit on another; Redis down is a miss.

Runs when ``MEMOS_TEST_REDIS_URL`` points at a Redis (``.ci/redis`` starts one on loopback).
"""

from __future__ import annotations

import os

import pytest
import torch

from activation_cache import ChunkCache
from activation_cache.redis_tier import RedisTier
from memos.kernel import MemOS
from memos.settings import Settings

REDIS_ENV = "MEMOS_TEST_REDIS_URL"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
pytestmark = pytest.mark.skipif(not os.environ.get(REDIS_ENV),
                                reason=f"{REDIS_ENV} is not set; Redis tests skipped")


@pytest.fixture
def redis_url() -> str:
    """The test Redis, emptied."""
    url = os.environ[REDIS_ENV]
    RedisTier.connect(url, "x", 1, 1)._client.flushdb()
    return url


def server_cache(engine, folder, url: str) -> ChunkCache:
    """One server's KV cache: its own memory and disk tiers, Redis shared."""
    return ChunkCache(engine, folder, remote=RedisTier.connect(url, engine.fingerprint,
                                                               64 << 20, 600))


def test_kv_computed_on_one_server_is_a_redis_hit_on_another(engine, redis_url, tmp_path):
    ids = engine.tokenizer("Alice moved to Lisbon in May 2023.")["input_ids"]
    first = server_cache(engine, tmp_path / "a", redis_url)
    computed = first.warm(ids)
    second = server_cache(engine, tmp_path / "b", redis_url)
    found = second.get(ids)
    assert found is not None and found.tier == "redis"
    for (k1, v1), (k2, v2) in zip(computed.kv.layers, found.kv.layers, strict=True):
        assert torch.equal(k1, k2) and torch.equal(v1, v2)
    assert second.stats()["tiers"]["redis"]["hits"] == 1
    assert second.get(ids).tier in {"device", "host"}  # now held locally


def test_damaged_bytes_in_redis_are_a_miss_and_are_dropped(engine, redis_url, tmp_path):
    ids = engine.tokenizer("Bob adopted a grey cat named Pixel.")["input_ids"]
    first = server_cache(engine, tmp_path / "a", redis_url)
    key = first.warm(ids).key
    remote = RedisTier.connect(redis_url, engine.fingerprint, 64 << 20, 600)
    payload = bytearray(remote.fetch(key))
    payload[-5] ^= 0xFF
    remote._client.set(remote._entry_key(key), bytes(payload))
    second = server_cache(engine, tmp_path / "b", redis_url)
    assert second.get(ids) is None
    assert remote.fetch(key) is None
    assert not list((tmp_path / "b").glob("*.safetensors"))


def test_with_redis_down_kv_misses_and_chat_still_answers(engine, embedder, tmp_path):
    settings = Settings(home=tmp_path / "home", kv_redis_url=DEAD_REDIS)
    with MemOS(settings=settings, engine=engine, embedder=embedder) as mos:
        cube = mos.create_cube("notes")
        cube.add("Alice moved to Lisbon in May 2023.")
        reply = mos.chat([{"role": "user", "content": "Where does Alice live?"}],
                         cube_ids=[cube.id], max_new_tokens=4)
        assert reply.text
        stats = mos.activation.cache.stats()
        assert stats["tiers"]["redis"]["hits"] == 0
        assert sum(count for op, count in stats["failures"].items() if "redis" in op) > 0
