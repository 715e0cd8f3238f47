"""Sharded distillation (SISA-style exact unlearning): notes split into disjoint shards.

Each shard is distilled into its own small adapter. Forgetting a note then retrains only the
shard that held it, without it; the other shards never saw the note and stay as they are.
A note's shard depends only on its id, so a retrain puts every surviving note back in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from memos.parametric.distillation_data import DistillNote
from storage.errors import InvalidInput

MAX_SHARDS = 64


def check_shards(shards: int) -> int:
    """``shards`` if it is a valid shard count, else InvalidInput."""
    if not 1 <= shards <= MAX_SHARDS:
        raise InvalidInput(f"shards must be between 1 and {MAX_SHARDS}")
    return shards


def shard_of(item_id: str, shards: int) -> int:
    """The shard (0 … shards-1) a note belongs to: a stable hash of its id."""
    digest = hashlib.sha256(item_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % check_shards(shards)


def split_notes(notes: Sequence[DistillNote], shards: int) -> list[list[DistillNote]]:
    """The notes of each shard, in their given order (a shard may be empty)."""
    groups: list[list[DistillNote]] = [[] for _ in range(check_shards(shards))]
    for note in notes:
        groups[shard_of(note.item_id, shards)].append(note)
    return groups
