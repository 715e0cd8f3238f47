"""Chat sessions are rows: a session started by one worker continues on another."""

from __future__ import annotations

from memos.sessions import SessionStore
from storage.clock import SystemClock
from storage.database import Database, sqlite_url


def worker_sessions(database_url, home) -> SessionStore:
    """What one worker process opens: its own engine and pool on the shared database."""
    database = Database(database_url or sqlite_url(home))
    database.migrate()
    return SessionStore(database, SystemClock(), window=3)


def test_a_session_started_on_one_worker_continues_on_another(database_url, tmp_path):
    first = worker_sessions(database_url, tmp_path)
    first.append("trip", [{"role": "user", "content": "I leave on Monday."},
                          {"role": "assistant", "content": "Noted."}], owner="alice")
    second = worker_sessions(database_url, tmp_path)  # another worker, started afterwards
    assert [t["content"] for t in second.recent("trip", owner="alice")] == [
        "I leave on Monday.", "Noted."]
    spilled = []
    second.append("trip", [{"role": "user", "content": "Where to?"},
                           {"role": "assistant", "content": "Lisbon."}],
                  spill=spilled.append, owner="alice")
    assert spilled == [{"role": "user", "content": "I leave on Monday."}]  # window of 3 holds
    assert [t["content"] for t in first.recent("trip", owner="alice")] == [
        "Noted.", "Where to?", "Lisbon."]
    assert second.recent("trip", owner="bob") == []  # scoped to its owner
    for store in (first, second):
        store._database.close()
