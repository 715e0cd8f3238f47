"""Note ids on a sorted time axis, several moments per note, queried by window."""

from __future__ import annotations

import bisect
from datetime import datetime


class Timeline:
    """(moment, note id) pairs in time order; a note may sit at several moments."""

    def __init__(self) -> None:
        self._entries: list[tuple[datetime, str]] = []
        self._moments: dict[str, list[datetime]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, moment: datetime, note_id: str) -> None:
        """Place a note at a (naive UTC) moment."""
        moments = self._moments.setdefault(note_id, [])
        if moment not in moments:
            moments.append(moment)
            bisect.insort(self._entries, (moment, note_id))

    def remove(self, note_id: str) -> None:
        """Take a note off the axis at every moment; unknown ids are ignored."""
        for moment in self._moments.pop(note_id, []):
            del self._entries[bisect.bisect_left(self._entries, (moment, note_id))]

    def between(self, start: datetime | None, end: datetime | None) -> list[str]:
        """Ids of notes at a moment in [start, end), each once, in time order."""
        low = bisect.bisect_left(self._entries, (start or datetime.min, ""))
        high = bisect.bisect_left(self._entries, (end or datetime.max, ""))
        return list(dict.fromkeys(note_id for _, note_id in self._entries[low:high]))
