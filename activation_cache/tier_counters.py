"""What each KV tier did: lookups it answered (hits) or passed on (misses), entries it evicted."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TierCounters:
    """Lookups answered (hits) or passed on (misses) by a tier, and entries it evicted."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
