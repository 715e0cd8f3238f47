"""Which notes a search may return: metadata equalities and an optional time window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from memcube.hybrid_inputs import Note


@dataclass(slots=True)
class Admission:
    """A search's admission test; callable on a note id."""

    notes: Mapping[str, Note]
    equal: Mapping[str, Any]
    members: set[str] | None
    window_ids: list[str] = field(default_factory=list)  # the window in time order
    window_seqs: list[int] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """True when every note is admitted (no equalities, no window)."""
        return not self.equal and self.members is None

    def __call__(self, note_id: str) -> bool:
        if self.members is not None and note_id not in self.members:
            return False
        if not self.equal:
            return True
        metadata = self.notes[note_id].metadata
        return all(metadata.get(key) == value for key, value in self.equal.items())


def naive_utc(moment: datetime) -> datetime:
    """Event times compare as naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
