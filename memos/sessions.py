"""Conversations by id: recent turns are kept, older turns leave the window as notes."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from storage.errors import InvalidInput

MAX_SESSION_ID = 128

Spill = Callable[[dict], None]


class SessionStore:
    """The last ``window`` turns of each conversation, in this process."""

    def __init__(self, window: int = 8, max_sessions: int = 10_000) -> None:
        if window < 1:
            raise InvalidInput("a session window must keep at least one turn")
        self.window = window
        self._max_sessions = max_sessions
        self._turns: dict[str, deque[dict]] = {}
        self._lock = threading.Lock()

    def recent(self, session_id: str) -> list[dict]:
        """The kept turns of a conversation, oldest first."""
        _check(session_id)
        with self._lock:
            return [dict(turn) for turn in self._turns.get(session_id, ())]

    def append(self, session_id: str, turns: list[dict], spill: Spill | None = None) -> None:
        """Add turns; each turn pushed out of the window is handed to ``spill``."""
        _check(session_id)
        with self._lock:
            kept = self._turns.setdefault(session_id, deque())
            pushed_out = []
            for turn in turns:
                kept.append(dict(turn))
                if len(kept) > self.window:
                    pushed_out.append(kept.popleft())
            if len(self._turns) > self._max_sessions:
                self._turns.pop(next(iter(self._turns)))
        for turn in pushed_out:
            if spill is not None:
                spill(turn)

    def forget(self, session_id: str) -> None:
        """Drop a conversation's kept turns."""
        with self._lock:
            self._turns.pop(session_id, None)


def _check(session_id: str) -> None:
    if not session_id or len(session_id) > MAX_SESSION_ID:
        raise InvalidInput(f"session_id must be 1 to {MAX_SESSION_ID} characters")
