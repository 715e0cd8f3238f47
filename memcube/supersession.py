"""Supersession: a newer note ends an older one's validity instead of sitting beside it.

The older note stays (history, as-of reads); it gets ``superseded_by`` (the newer note's id)
and ``valid_to`` (the newer note's event time, else its write time). Searches rank current
notes first and say in ``why`` when a hit was superseded; ``current_only`` leaves superseded
notes out; ``as_of`` sees the notes that were valid at that moment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from memcube.item import MemoryItem
from memcube.item_store import ItemStore
from memcube.lifecycle import SEARCHABLE, State
from memcube.search import SearchHit
from memcube.update_detection import UpdateDetector
from storage.clock import as_utc
from storage.errors import IllegalTransition, InvalidInput

MAX_ID_CHARS = 32
DETECTED = "detected update: same subject and attribute, a newer value"
CANDIDATES = 5


def detection_enabled(settings: dict) -> bool:
    """Whether the cube opted in to automatic update detection (``detect_updates``)."""
    return settings.get("detect_updates") is True


def detected_targets(index, load, texts: Sequence[str], vectors,
                     detector: UpdateDetector | None = None) -> list[str | None]:
    """Per new note, the id of the current note it corrects (None when none)."""
    detector = detector or UpdateDetector()
    live = SEARCHABLE
    nearest = index.nearest_many(vectors, CANDIDATES, live, load, detector.min_similarity)
    targets = []
    for text, found in zip(texts, nearest, strict=True):
        current = [(item, score) for item, score in found if item.superseded_by is None]
        target = detector.detect(text, current)
        targets.append(target.id if target else None)
    return targets


def check_supersedes(value) -> str | None:
    """The id a new note supersedes, checked for shape (InvalidInput otherwise)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise InvalidInput(f"supersedes must be a memory id of 1 to {MAX_ID_CHARS} characters")
    return value


def valid_from(item: MemoryItem) -> datetime:
    """When a note started being true: its event time, else when it was written."""
    return as_utc(item.event_time or item.created_at)


def check_can_supersede(items: ItemStore, cube_id: str, old_id: str) -> MemoryItem:
    """The note to be superseded, if this cube has it and it is not deleted."""
    old = items.get(old_id, cube_id)
    if old.state == State.DELETED:
        raise IllegalTransition("a deleted memory cannot be superseded")
    return old


def supersede(items: ItemStore, cube_id: str, old_id: str, new: MemoryItem,
              actor: str | None = None, reason: str | None = None) -> MemoryItem:
    """Mark ``old_id`` superseded by ``new`` from the new note's time on."""
    if old_id == new.id:
        raise InvalidInput("a memory cannot supersede itself")
    check_can_supersede(items, cube_id, old_id)
    return items.mark_superseded(old_id, cube_id, new.id, valid_from(new), actor,
                                 reason or "superseded by a newer note")


def rank_current_first(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """Current notes first (by score), then superseded ones, each saying what replaced it."""
    for hit in hits:
        if hit.item.superseded_by:
            hit.why["superseded_by"] = hit.item.superseded_by
            hit.why["valid_to"] = as_utc(hit.item.valid_to).isoformat() \
                if hit.item.valid_to else None
    return sorted(hits, key=lambda hit: (hit.item.superseded_by is not None, -hit.score))
