"""Console sessions: a random id in an HttpOnly cookie, the API key kept only on the server."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

COOKIE = "memos_console"
IDLE_SECONDS = 8 * 3600


@dataclass(slots=True)
class Session:
    """One logged-in browser: the key it logged in with and its CSRF token."""

    api_key: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    last_seen: float = field(default_factory=time.monotonic)
    notices: list[str] = field(default_factory=list)  # shown once, on the next page


class SessionStore:
    """Sessions of this process; a restart logs every browser out (keys are never on disk)."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, api_key: str) -> str:
        """A new session id for a verified API key."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_idle()
            self._sessions[session_id] = Session(api_key)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown or idle too long)."""
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or self._expired(session):
                self._sessions.pop(session_id, None)
                return None
            session.last_seen = time.monotonic()
            return session

    def close(self, session_id: str | None) -> None:
        """Forget a session (log out)."""
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def _expired(self, session: Session) -> bool:
        return time.monotonic() - session.last_seen > self._idle_seconds

    def _drop_idle(self) -> None:
        for session_id in [s for s, session in self._sessions.items() if self._expired(session)]:
            del self._sessions[session_id]
