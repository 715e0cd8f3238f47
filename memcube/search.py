"""What a search asks for (filters) and what it returns (hits that say why they were found)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from memcube.item import MemoryItem
from memcube.lifecycle import SEARCHABLE, State
from memcube.validation import check_text
from storage.clock import as_utc
from storage.errors import InvalidInput

MAX_K = 200


@dataclass(slots=True)
class SearchFilters:
    """Which memories a search may return."""

    states: frozenset[State] = SEARCHABLE
    tags: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)
    event_after: datetime | None = None
    event_before: datetime | None = None
    written_after: datetime | None = None
    written_before: datetime | None = None
    current_only: bool = False  # leave out notes that a newer note superseded
    as_of: datetime | None = None  # only the notes that were valid at this moment

    def __post_init__(self) -> None:
        self.states = frozenset(State(s) for s in self.states)
        for name in ("event_after", "event_before", "written_after", "written_before", "as_of"):
            setattr(self, name, as_utc(getattr(self, name)))

    def admits(self, item: MemoryItem) -> bool:
        """Whether an item passes every filter."""
        return (
            item.state in self.states
            and set(self.tags) <= set(item.tags)
            and all(item.metadata.get(key) == value for key, value in self.metadata.items())
            and _within(item.event_time, self.event_after, self.event_before)
            and _within(item.created_at, self.written_after, self.written_before)
            and self._current(item)
        )

    def _current(self, item: MemoryItem) -> bool:
        if self.as_of is not None:
            return _valid_at(item, self.as_of)
        return not (self.current_only and item.superseded_by)


def _valid_at(item: MemoryItem, moment: datetime) -> bool:
    """Whether a note was the valid fact at ``moment`` (begun, and not yet superseded)."""
    begun = as_utc(item.event_time or item.created_at) <= moment
    return begun and (item.valid_to is None or moment < as_utc(item.valid_to))


def _within(moment: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if moment is None:
        return False
    return (after is None or moment >= after) and (before is None or moment <= before)


@dataclass(slots=True)
class SearchHit:
    """One retrieved memory, its fused score, and why it was found."""

    item: MemoryItem
    score: float
    why: dict

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {"item": self.item.to_dict(), "score": self.score, "why": self.why}


def check_k(k: int) -> int:
    """Bounds on how many hits one search may ask for."""
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}")
    return k


def check_query(query) -> str:
    """A search query: non-blank text that can be encoded (InvalidInput otherwise)."""
    if query is None or (isinstance(query, str) and not query.strip()):
        raise InvalidInput("query must not be empty")
    return check_text(query, "the query")


def include_states(states: Iterable[str | State] | None) -> frozenset[State]:
    """The states a search covers: the searchable ones unless asked otherwise."""
    return SEARCHABLE if states is None else frozenset(State(s) for s in states)
