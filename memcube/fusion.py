"""Merge ranked lists from several retrievers into one, remembering why each hit is there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

FusionMethod = Literal["rrf", "weighted"]


@dataclass(slots=True)
class FusedHit:
    """One fused result; `why[source]` holds that source's rank (1-based), score and extras."""

    id: str
    score: float
    why: dict[str, dict] = field(default_factory=dict)


def fuse(
    rankings: Mapping[str, list[tuple[str, float]]],
    weights: Mapping[str, float] | None = None,
    method: FusionMethod = "rrf",
    k_rrf: int = 60,
    details: Mapping[str, Mapping[str, dict]] | None = None,
) -> list[FusedHit]:
    """Fuse best-first (id, score) lists by reciprocal rank or by weighted normalised score."""
    if method not in ("rrf", "weighted"):
        raise ValueError(f"unknown fusion method {method!r}")
    weights = weights or {}
    details = details or {}
    hits: dict[str, FusedHit] = {}
    for source, ranking in rankings.items():
        weight = weights.get(source, 1.0)
        contributions = _contributions(ranking, method, k_rrf)
        ranked = zip(ranking, contributions, strict=True)
        for rank, ((id_, score), part) in enumerate(ranked, start=1):
            hit = hits.get(id_)
            if hit is None:
                hit = hits[id_] = FusedHit(id_, 0.0)
            if source in hit.why:
                continue  # a source listing an id twice counts its best rank once
            hit.score += weight * part
            hit.why[source] = {"rank": rank, "score": score, **details.get(source, {}).get(id_, {})}
    return sorted(hits.values(), key=lambda hit: (-hit.score, hit.id))


def fused_scores(
    rankings: Mapping[str, list[tuple[str, float]]],
    weights: Mapping[str, float] | None = None,
    method: FusionMethod = "rrf",
    k_rrf: int = 60,
) -> list[tuple[str, float]]:
    """``fuse``'s (id, score) order without the reasons: for seeding, where only ids count."""
    if method not in ("rrf", "weighted"):
        raise ValueError(f"unknown fusion method {method!r}")
    weights = weights or {}
    totals: dict[str, float] = {}
    for source, ranking in rankings.items():
        weight = weights.get(source, 1.0)
        seen: set[str] = set()
        for (id_, _), part in zip(ranking, _contributions(ranking, method, k_rrf), strict=True):
            if id_ not in seen:  # as in fuse: a source's best rank counts once
                seen.add(id_)
                totals[id_] = totals.get(id_, 0.0) + weight * part
    return sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))


def _contributions(ranking: list[tuple[str, float]], method: str, k_rrf: int) -> list[float]:
    if method == "rrf":
        return [1.0 / (k_rrf + rank) for rank in range(1, len(ranking) + 1)]
    scores = [score for _, score in ranking]
    if not scores:
        return []
    low, high = min(scores), max(scores)
    if high == low:
        return [1.0] * len(scores)
    return [(score - low) / (high - low) for score in scores]
