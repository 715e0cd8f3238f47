"""The KV tier shared by several servers, made from the settings (Redis, when configured)."""

from __future__ import annotations

from activation_cache.redis_tier import RedisTier
from memos.settings import Settings

_MIB = 1 << 20


def redis_tier(settings: Settings, engine) -> RedisTier | None:
    """A Redis tier for this model's KV when ``MEMOS_KV_REDIS_URL`` is set, else None."""
    if not settings.kv_redis_url:
        return None
    return RedisTier.connect(settings.kv_redis_url, engine.fingerprint,
                             settings.kv_redis_mib * _MIB, settings.kv_redis_ttl_s)
