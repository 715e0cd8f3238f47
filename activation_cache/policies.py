"""Eviction policies: which unpinned entry of a full tier has to make room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

DEFAULT_POLICY = "cost"  # the service's default too (Settings.kv_policy)
# Attention makes prefill cost grow faster than linearly; past this many tokens the
# quadratic term dominates (a rough constant for small models on CPU and GPU alike).
ATTENTION_SPAN = 2048


@dataclass(slots=True)
class EntryInfo:
    """What the cache knows about one entry; ``tier`` is the fastest tier holding it."""

    key: str
    tokens: int
    nbytes: int
    tier: str
    pinned: bool = False
    hits: int = 0
    last_used: float = 0.0
    on_disk: bool = False

    @property
    def recompute_cost(self) -> float:
        """Prefill work to rebuild the entry, in token-equivalents."""
        return prefill_cost(self.tokens)


def prefill_cost(tokens: int) -> float:
    """Token-equivalents of prefilling ``tokens`` tokens: linear layers plus attention."""
    return tokens + tokens * tokens / ATTENTION_SPAN


class EvictionPolicy(Protocol):
    """Picks the victim among candidates (all unpinned, never empty)."""

    name: str

    def victim(self, candidates: Sequence[EntryInfo], sizes: dict[str, int]) -> EntryInfo: ...


class LeastRecentlyUsed:
    """Evict the entry used longest ago."""

    name = "lru"

    def victim(self, candidates: Sequence[EntryInfo], sizes: dict[str, int]) -> EntryInfo:
        return min(candidates, key=lambda entry: entry.last_used)


class LeastFrequentlyUsed:
    """Evict the entry with the fewest hits; the least recently used among equals."""

    name = "lfu"

    def victim(self, candidates: Sequence[EntryInfo], sizes: dict[str, int]) -> EntryInfo:
        return min(candidates, key=lambda entry: (entry.hits, entry.last_used))


class CostAware:
    """Evict the entry that is cheapest to recompute per byte it occupies in this tier."""

    name = "cost"

    def victim(self, candidates: Sequence[EntryInfo], sizes: dict[str, int]) -> EntryInfo:
        def value(entry: EntryInfo) -> tuple[float, float]:
            size = max(sizes.get(entry.key, entry.nbytes), 1)
            return entry.recompute_cost / size, entry.last_used

        return min(candidates, key=value)


POLICIES: dict[str, type] = {
    "lru": LeastRecentlyUsed,
    "lfu": LeastFrequentlyUsed,
    "cost": CostAware,
}


def make_policy(name: str) -> EvictionPolicy:
    """The policy called ``name`` ("lru", "lfu" or "cost")."""
    if name not in POLICIES:
        raise ValueError(f"eviction policy must be one of {sorted(POLICIES)}, not {name!r}")
    return POLICIES[name]()
