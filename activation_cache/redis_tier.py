"""A KV tier on Redis shared by several servers: the same checked file bytes as the disk tier.

An entry written to the local disk tier is also published to Redis (``SET`` with a TTL) under
a key that holds the model fingerprint; a server that misses locally fetches the bytes, writes
them as a local file and reads it back through the disk tier, so a Redis entry passes exactly
the checks a disk file does (XXH3 checksum, format, fingerprint, token ids). A sorted set of
publish times keeps the tier under its byte budget, oldest first.

Redis is a cache: when it is down or slow, every call here is a miss (counted and logged once),
never an error for the chat that asked.
"""

from __future__ import annotations

import logging
import time

from activation_cache.tier_counters import TierCounters
from storage.cache_failures import CacheFailures

logger = logging.getLogger(__name__)

PREFIX = "memos:kv"


class RedisTier:
    """KV file bytes in Redis, keyed by model fingerprint and chunk key, under a byte budget."""

    name = "redis"

    def __init__(self, client, fingerprint: str, budget_bytes: int, ttl_s: int,
                 failures: CacheFailures | None = None) -> None:
        if budget_bytes < 0 or ttl_s < 1:
            raise ValueError("a Redis tier needs a budget >= 0 and a TTL of at least 1 s")
        self._client = client  # a redis.Redis with short socket timeouts
        self.fingerprint = fingerprint
        self.budget_bytes = budget_bytes
        self.ttl_s = ttl_s
        self.counters = TierCounters()
        self.failures = failures or CacheFailures(logger)

    @classmethod
    def connect(cls, url: str, fingerprint: str, budget_bytes: int, ttl_s: int,
                timeout_s: float = 0.5) -> RedisTier:
        """A tier on the Redis at ``url`` (nothing is sent until it is used)."""
        import redis

        client = redis.Redis.from_url(url, socket_timeout=timeout_s,
                                      socket_connect_timeout=timeout_s)
        return cls(client, fingerprint, budget_bytes, ttl_s)

    @property
    def used_bytes(self) -> int:
        """Bytes this model's entries hold in Redis (0 when Redis cannot be asked)."""
        return int(self._call("size", lambda: self._client.get(self._total_key())) or 0)

    def publish(self, key: str, payload: bytes) -> bool:
        """Store an entry's file bytes; False when Redis refused or the entry is over budget."""
        if len(payload) > self.budget_bytes:
            return False

        def write() -> bool:
            pipe = self._client.pipeline()
            pipe.set(self._entry_key(key), payload, ex=self.ttl_s)
            pipe.zadd(self._order_key(), {key: time.time()})
            pipe.hset(self._sizes_key(), key, len(payload))
            pipe.incrby(self._total_key(), len(payload))
            pipe.execute()
            self._trim()
            return True

        return bool(self._call("publish", write))

    def fetch(self, key: str) -> bytes | None:
        """An entry's file bytes, or None (a miss: absent, expired, or Redis unreachable)."""
        payload = self._call("fetch", lambda: self._client.get(self._entry_key(key)))
        if payload is None:
            self.counters.misses += 1
            return None
        self.counters.hits += 1
        return payload

    def delete(self, key: str) -> None:
        """Drop an entry (a forgotten memory's KV, or bytes that failed their checks)."""
        self._call("delete", lambda: self._drop([key]))

    def _trim(self) -> None:
        """Drop the oldest entries until this model's entries fit the budget."""
        while int(self._client.get(self._total_key()) or 0) > self.budget_bytes:
            oldest = self._client.zrange(self._order_key(), 0, 0)
            if not oldest:
                self._client.set(self._total_key(), 0)  # entries expired: recount from zero
                return
            self._drop([oldest[0].decode()])
            self.counters.evictions += 1

    def _drop(self, keys: list[str]) -> None:
        for key in keys:
            size = int(self._client.hget(self._sizes_key(), key) or 0)
            pipe = self._client.pipeline()
            pipe.delete(self._entry_key(key))
            pipe.zrem(self._order_key(), key)
            pipe.hdel(self._sizes_key(), key)
            pipe.decrby(self._total_key(), size)
            pipe.execute()

    def _call(self, operation: str, action):
        import redis

        try:
            return action()
        except (redis.RedisError, OSError) as error:  # down or slow: a miss, logged once
            self.failures.record(f"redis {operation}", error)
            return None

    def _entry_key(self, key: str) -> str:
        return f"{PREFIX}:{self.fingerprint}:entry:{key}"

    def _order_key(self) -> str:
        return f"{PREFIX}:{self.fingerprint}:order"

    def _sizes_key(self) -> str:
        return f"{PREFIX}:{self.fingerprint}:sizes"

    def _total_key(self) -> str:
        return f"{PREFIX}:{self.fingerprint}:bytes"
