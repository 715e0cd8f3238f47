"""Conversations by (owner, session id) in SQL: recent turns are kept, older ones spill as notes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.clock import Clock
from storage.database import Database
from storage.errors import InvalidInput
from storage.schema import ChatSessionRow, SessionSourceRow, SessionTurnRow
from storage.text_match import contains_any

MAX_SESSION_ID = 128
LOCAL_OWNER = "local"  # the embedded caller, who passes no user

Spill = Callable[[dict], None]


class SessionStore:
    """The last ``window`` turns of each conversation; another owner's id is another session."""

    def __init__(self, database: Database, clock: Clock, window: int = 8,
                 max_sessions: int = 10_000) -> None:
        if window < 1:
            raise InvalidInput("a session window must keep at least one turn")
        self.window = window
        self._database = database
        self._clock = clock
        self._max_sessions = max_sessions  # per owner; the least recently used go first

    def recent(self, session_id: str, owner: str | None = None) -> list[dict]:
        """The kept turns of a conversation, oldest first."""
        _check(session_id)
        with self._database.session() as session:
            row_id = _session_row_id(session, owner or LOCAL_OWNER, session_id)
            if row_id is None:
                return []
            turns = session.scalars(select(SessionTurnRow).where(
                SessionTurnRow.session_id == row_id).order_by(SessionTurnRow.seq))
            return [{"role": t.role, "content": t.content} for t in turns]

    def append(self, session_id: str, turns: list[dict], spill: Spill | None = None,
               owner: str | None = None, sources: Collection[str] = ()) -> None:
        """Add turns; each turn pushed out of the window is handed to ``spill``. ``sources``
        are the cubes whose memories the turn was given (their forgets may scrub it)."""
        _check(session_id)
        owner = owner or LOCAL_OWNER
        try:
            pushed_out = self._append(owner, session_id, turns, sources)
        except IntegrityError:  # the session row was created concurrently: write into it
            pushed_out = self._append(owner, session_id, turns, sources)
        for turn in pushed_out:
            if spill is not None:
                spill(turn)

    def forget(self, session_id: str, owner: str | None = None) -> None:
        """Drop a conversation's kept turns."""
        _check(session_id)
        with self._database.session() as session:
            row_id = _session_row_id(session, owner or LOCAL_OWNER, session_id)
            if row_id is not None:
                _drop_sessions(session, [row_id])

    def sessions_quoting(self, cube_id: str, owner: str | None,
                         texts: Sequence[str]) -> list[tuple[str, str]]:
        """(session id, owner) of each kept turn quoting one of the (non-empty) texts, among
        the sessions that may hold a cube's notes: those of its ``owner`` and those that were
        given its memories."""
        if not texts:
            return []
        with self._database.session() as session:
            rows = session.execute(select(ChatSessionRow.session_key, ChatSessionRow.owner_id)
                                   .join(SessionTurnRow,
                                         SessionTurnRow.session_id == ChatSessionRow.id)
                                   .where(_may_hold(cube_id, owner),
                                          contains_any(SessionTurnRow.content, texts)))
            return [(key, owner) for key, owner in rows]

    def rewrite_turns_quoting(self, cube_id: str, owner: str | None, texts: Sequence[str],
                              rewrite: Callable[[str], str]) -> int:
        """Replace each kept turn quoting one of the texts, in the sessions that may hold the
        cube's notes (as ``sessions_quoting``), by ``rewrite`` of it; how many were."""
        if not texts:
            return 0
        with self._database.session() as session:
            turns = session.scalars(select(SessionTurnRow).join(
                ChatSessionRow, ChatSessionRow.id == SessionTurnRow.session_id).where(
                _may_hold(cube_id, owner), contains_any(SessionTurnRow.content, texts)))
            changed = 0
            for turn in turns:
                turn.content = rewrite(turn.content)
                changed += 1
            return changed

    def _append(self, owner: str, session_id: str, turns: list[dict],
                sources: Collection[str]) -> list[dict]:
        now = self._clock.now()
        with self._database.session() as session:
            row_id = _session_row_id(session, owner, session_id)
            if row_id is None:
                row_id = self._create(session, owner, session_id)
            _add_sources(session, row_id, sources)
            session.add_all(SessionTurnRow(session_id=row_id, role=t["role"],
                                           content=t["content"], at=now) for t in turns)
            session.get(ChatSessionRow, row_id).updated_at = now
            session.flush()
            return _pop_beyond_window(session, row_id, self.window)

    def _create(self, session: Session, owner: str, session_id: str) -> str:
        now = self._clock.now()
        row = ChatSessionRow(id=uuid.uuid4().hex, owner_id=owner, session_key=session_id,
                             created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        count = session.scalar(select(func.count()).where(ChatSessionRow.owner_id == owner))
        if count > self._max_sessions:
            oldest = session.scalars(select(ChatSessionRow.id).where(
                ChatSessionRow.owner_id == owner).order_by(ChatSessionRow.updated_at)
                .limit(count - self._max_sessions))
            _drop_sessions(session, list(oldest))
        return row.id


def _session_row_id(session: Session, owner: str, session_id: str) -> str | None:
    return session.scalar(select(ChatSessionRow.id).where(
        ChatSessionRow.owner_id == owner, ChatSessionRow.session_key == session_id))


def _may_hold(cube_id: str, owner: str | None):
    """Sessions that may quote a cube's notes: its owner's, and those given its memories
    (never another user's other sessions: a share alone reaches nobody's conversations)."""
    given = select(SessionSourceRow.session_id).where(SessionSourceRow.cube_id == cube_id)
    return or_(ChatSessionRow.owner_id == owner, ChatSessionRow.id.in_(given))


def _add_sources(session: Session, row_id: str, cube_ids: Collection[str]) -> None:
    known = set(session.scalars(select(SessionSourceRow.cube_id).where(
        SessionSourceRow.session_id == row_id)))
    session.add_all(SessionSourceRow(session_id=row_id, cube_id=cube_id)
                    for cube_id in dict.fromkeys(cube_ids) if cube_id not in known)


def _pop_beyond_window(session: Session, row_id: str, window: int) -> list[dict]:
    """Delete the turns older than the newest ``window``; returns them, oldest first."""
    newest = select(SessionTurnRow.seq).where(SessionTurnRow.session_id == row_id) \
        .order_by(SessionTurnRow.seq.desc()).limit(window)
    old = list(session.scalars(select(SessionTurnRow).where(
        SessionTurnRow.session_id == row_id, SessionTurnRow.seq.not_in(newest))
        .order_by(SessionTurnRow.seq)))
    if old:
        session.execute(delete(SessionTurnRow).where(
            SessionTurnRow.seq.in_([turn.seq for turn in old])))
    return [{"role": turn.role, "content": turn.content} for turn in old]


def _drop_sessions(session: Session, row_ids: list[str]) -> None:
    session.execute(delete(SessionSourceRow).where(SessionSourceRow.session_id.in_(row_ids)))
    session.execute(delete(SessionTurnRow).where(SessionTurnRow.session_id.in_(row_ids)))
    session.execute(delete(ChatSessionRow).where(ChatSessionRow.id.in_(row_ids)))


def _check(session_id: str) -> None:
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
        raise InvalidInput(f"session_id must be 1 to {MAX_SESSION_ID} characters")
