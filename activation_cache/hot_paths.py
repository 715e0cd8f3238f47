"""Which prefix-tree nodes to pin for a set of hot paths, within a token budget.

A pinned node saves its tokens' prefill on every prompt whose path runs through it, and only
while every node above it is cached too. So a node is worth the uses of all the hot paths
through it, per token it holds; that worth never grows down a path. Taking nodes greedily by
that worth (a node only once its parent is taken) pins the system head and the prefixes that
many hot memory sets share before the tails that only one set uses: when the budget holds
only a few whole paths, the shared prefixes save far more prefill than a few whole paths.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class HotPath:
    """One hot prompt path: its node keys from the root, each node's tokens, and its uses."""

    keys: list[str]
    tokens: list[int]
    uses: int

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.tokens):
            raise ValueError("a hot path needs one token count per node key")
        if self.uses < 0:
            raise ValueError("a hot path's uses cannot be negative")


def nodes_to_pin(paths: Sequence[HotPath], budget_tokens: int, min_uses: int = 1) -> list[str]:
    """Keys of the nodes worth pinning, most used first, their tokens within the budget; a
    node is taken only after its parent (a path is only reusable from the root) and only if
    the paths through it were used ``min_uses`` times, though no one path may have been."""
    worth: Counter[str] = Counter()
    size: dict[str, int] = {}
    parent: dict[str, str | None] = {}
    depth: dict[str, int] = {}
    for path in paths:
        above = None
        for level, (key, tokens) in enumerate(zip(path.keys, path.tokens, strict=True)):
            worth[key] += path.uses
            size[key], parent[key], depth[key] = tokens, above, level
            above = key
    chosen: dict[str, None] = {}
    used = 0
    for key in sorted(worth, key=lambda k: (-worth[k], depth[k], k)):
        if parent[key] is not None and parent[key] not in chosen:
            continue
        if worth[key] >= max(min_uses, 1) and used + size[key] <= budget_tokens:
            chosen[key] = None
            used += size[key]
    return list(chosen)
