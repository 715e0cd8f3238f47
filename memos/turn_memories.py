"""Which memories each user turn was given, so later turns keep them in place in the prompt.

A client may resend the whole history each turn (as OpenAI-style clients do) or send only the
new turn with a session id; either way an earlier user turn gets back the memories it was
first answered with (those still searchable), and a turn not seen before is retrieved once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Sequence

from memcube.lifecycle import SEARCHABLE
from memcube.search import SearchHit

Retrieve = Callable[[str], list[SearchHit]]


class TurnMemories:
    """Item ids retrieved for (caller, cubes, turn text, options), most recent kept."""

    def __init__(self, items, max_turns: int = 8192) -> None:
        self._items = items
        self._max_turns = max_turns
        self._ids: OrderedDict[Hashable, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: Hashable, hits: Sequence[SearchHit]) -> None:
        """Record the memories a turn was given, in prompt order."""
        with self._lock:
            self._ids[key] = [hit.item.id for hit in hits]
            self._ids.move_to_end(key)
            while len(self._ids) > self._max_turns:
                self._ids.popitem(last=False)

    def texts(self, key: Hashable, retrieve: Callable[[], list[SearchHit]],
              readable: Collection[str]) -> list[str]:
        """Texts of the memories a turn was given that are still searchable in the cubes
        ``readable`` now (a cube unshared since is left out); retrieved (and recorded) if
        unknown."""
        with self._lock:
            ids = self._ids.get(key)
        if ids is None:
            hits = retrieve()
            self.remember(key, hits)
            return [hit.item.text for hit in hits]
        found = self._items.get_many(ids)
        return [found[i].text for i in ids if i in found and found[i].state in SEARCHABLE
                and found[i].cube_id in readable]
