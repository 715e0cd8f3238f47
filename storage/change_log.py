"""The change log: every change to a cube's searchable notes, in commit order per cube.

Writers append in the same transaction as the change itself, so a change is logged if and only
if it is committed. Readers (the in-memory indexes of every process) replay the log from the
sequence they last applied. Changes older than the retention are pruned (each cube's newest one
stays, so its head never moves back); a reader that has not caught up for half the retention
re-reads the cube instead of replaying. Sequences must be committed in order per cube, or a
reader that saw seq 11 would skip a seq 10 committed later: SQLite has one writer at a time,
and PostgreSQL appends under a transaction-level advisory lock on the cube.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from storage.database import Database
from storage.schema import ChangeRow

ADDED, UPDATED, STATE, DELETED, PURGED, LINKED, IMPORTED = (
    "added", "updated", "state", "deleted", "purged", "linked", "imported")
_recorder: ContextVar[list[int] | None] = ContextVar("change_log_recorder", default=None)


@dataclass(frozen=True, slots=True)
class Change:
    """One logged change: which note of which cube, and what happened to it."""

    seq: int
    cube_id: str
    item_id: str | None
    kind: str


def append(session: Session, cube_id: str, item_ids: Iterable[str | None], kind: str,
           at: datetime) -> None:
    """Log a change of these notes inside the caller's transaction (call it last in it)."""
    rows = [{"cube_id": cube_id, "item_id": item_id, "kind": kind, "at": at}
            for item_id in dict.fromkeys(item_ids)]
    if not rows:
        return
    session.flush()  # row locks first, the cube's lock last: no lock-order deadlocks
    if session.get_bind().dialect.name == "postgresql":
        # Held until commit: the cube's sequences are then committed in the order handed out.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:cube))"), {"cube": cube_id})
    recorder = _recorder.get()
    if recorder is None:
        session.execute(insert(ChangeRow), rows)
    else:
        recorder += session.scalars(insert(ChangeRow).returning(ChangeRow.seq), rows).all()


@contextmanager
def recorded() -> Iterator[list[int]]:
    """The sequences that this thread's appends are given while the block runs."""
    seqs: list[int] = []
    token = _recorder.set(seqs)
    try:
        yield seqs
    finally:
        _recorder.reset(token)


def head_query(cube_id: str):
    """The statement that finds the newest sequence logged for the cube (0 when none)."""
    return select(func.coalesce(func.max(ChangeRow.seq), 0)).where(ChangeRow.cube_id == cube_id)


def head(session: Session, cube_id: str) -> int:
    """The newest sequence logged for the cube (0 when none): one index lookup."""
    return session.scalar(head_query(cube_id))


def since(session: Session, cube_id: str, after: int, upto: int) -> list[Change]:
    """The cube's changes with ``after < seq <= upto``, oldest first."""
    rows = session.execute(select(ChangeRow.seq, ChangeRow.item_id, ChangeRow.kind)
                           .where(ChangeRow.cube_id == cube_id, ChangeRow.seq > after,
                                  ChangeRow.seq <= upto).order_by(ChangeRow.seq))
    return [Change(seq, cube_id, item_id, kind) for seq, item_id, kind in rows]


def prune(database: Database, before: datetime) -> int:
    """Drop changes logged before ``before``, except each cube's newest; how many went."""
    newest = select(func.max(ChangeRow.seq)).group_by(ChangeRow.cube_id)
    with database.session() as session:
        result = session.execute(delete(ChangeRow).where(ChangeRow.at < before,
                                                         ChangeRow.seq.not_in(newest)))
        return result.rowcount or 0
