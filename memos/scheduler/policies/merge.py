"""merge: near-duplicate notes are folded into one survivor (the others point at it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from memcube.item import MemoryItem, decode_embedding
from memcube.lifecycle import SEARCHABLE, State, can_transition
from memos.scheduler.memories import Memories
from memos.scheduler.policies.base import Policy
from memos.scheduler.settings import MergeSettings
from memos.scheduler.workers import JobContext

LIVE = tuple(state.value for state in SEARCHABLE)
BLOCK_ROWS = 512


class MergePolicy(Policy):
    """Merge notes whose embeddings reach ``threshold`` cosine similarity."""

    name = "merge"

    def plan(self, memories: Memories, cube_id: str,
             settings: MergeSettings, now: datetime) -> dict | None:
        ids, frozen, vectors = _live_notes(memories, cube_id, settings.max_notes)
        groups = duplicate_groups(ids, frozen, vectors, settings.threshold)
        return {"groups": groups, "threshold": settings.threshold} if groups else None

    def run(self, ctx: JobContext) -> dict:
        groups, threshold = ctx.job.payload["groups"], ctx.job.payload["threshold"]
        merged = 0
        for done, group in enumerate(groups, start=1):
            ctx.check_cancelled()
            merged += self.merge_group(ctx, group[0], group[1:], threshold)
            ctx.progress(done / len(groups), merged=merged)
        return {"merged": merged}

    def merge_group(self, ctx: JobContext, survivor_id: str, other_ids: Sequence[str],
                    threshold: float) -> int:
        """Merge the others that are still live duplicates of a still-live survivor."""
        items = ctx.memories.items.get_many([survivor_id, *other_ids])
        survivor = items.get(survivor_id)
        if survivor is None or survivor.state.value not in LIVE or survivor.embedding is None:
            return 0
        others = [item.id for item in (items.get(i) for i in other_ids)
                  if item is not None and _still_duplicate(survivor, item, threshold)]
        if others:
            ctx.memories.open_cube(ctx.job.cube_id).merge(survivor_id, others,
                                                          actor=ctx.actor, reason=ctx.reason)
        return len(others)


def duplicate_groups(ids: Sequence[str], frozen: np.ndarray, vectors: np.ndarray,
                     threshold: float) -> list[list[str]]:
    """Greedy groups ``[survivor, *others]``: earlier ids survive; frozen ones never merge.

    Each group holds only notes similar to its survivor (no chains of A~B~C).
    """
    assigned = np.zeros(len(ids), dtype=bool)
    groups = []
    for i, neighbours in enumerate(_neighbours(vectors, threshold)):
        if assigned[i]:
            continue
        members = [j for j in neighbours if not assigned[j] and not frozen[j]]
        if members:
            assigned[[i, *members]] = True
            groups.append([ids[i], *(ids[j] for j in members)])
    return groups


def _neighbours(vectors: np.ndarray, threshold: float):
    for start in range(0, len(vectors), BLOCK_ROWS):
        similarity = vectors[start:start + BLOCK_ROWS] @ vectors.T
        for row, scores in enumerate(similarity, start=start):
            hits = np.flatnonzero(scores >= threshold)
            yield hits[hits != row]


def _live_notes(memories: Memories, cube_id: str,
                limit: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Live notes with embeddings, survivors-first: frozen, most retrieved, oldest."""
    rows = memories.items.embedded_survivors_first(cube_id, SEARCHABLE, limit)
    if not rows:
        return [], np.zeros(0, dtype=bool), np.zeros((0, 0), dtype=np.float32)
    vectors = _unit_rows(np.stack([decode_embedding(blob) for _, _, blob in rows]))
    frozen = np.array([state == State.FROZEN.value for _, state, _ in rows])
    return [item_id for item_id, _, _ in rows], frozen, vectors


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _still_duplicate(survivor: MemoryItem, other: MemoryItem, threshold: float) -> bool:
    if not can_transition(other.state, State.MERGED) or other.embedding is None:
        return False
    pair = _unit_rows(np.stack([survivor.embedding, other.embedding]))
    return float(pair[0] @ pair[1]) >= threshold
