"""Chat sessions are rows keyed by (owner, session id): kept across restarts, never shared."""

from __future__ import annotations

import pytest

from memos.sessions import SessionStore
from storage.clock import SystemClock
from storage.database import Database, sqlite_url
from storage.errors import InvalidInput


@pytest.fixture
def database(tmp_path):
    database = Database(sqlite_url(tmp_path))
    database.migrate()
    yield database
    database.close()


def turns(*texts: str) -> list[dict]:
    return [{"role": "user", "content": text} for text in texts]


def test_another_owner_with_the_same_session_id_has_its_own_session(database):
    store = SessionStore(database, SystemClock())
    store.append("chat-1", turns("Alice's PIN is 4312."), owner="alice")
    store.append("chat-1", turns("Bob says hello."), owner="bob")
    assert store.recent("chat-1", owner="alice") == turns("Alice's PIN is 4312.")
    assert store.recent("chat-1", owner="bob") == turns("Bob says hello.")
    assert store.recent("chat-1") == []  # the embedded caller is a third owner


def test_turns_leaving_the_window_are_spilled_to_their_owner_only(database):
    store = SessionStore(database, SystemClock(), window=2)
    spilled: dict[str, list] = {"alice": [], "bob": []}
    store.append("s", turns("a1", "a2"), spilled["alice"].append, owner="alice")
    store.append("s", turns("b1"), spilled["bob"].append, owner="bob")
    store.append("s", turns("a3"), spilled["alice"].append, owner="alice")
    assert spilled == {"alice": turns("a1"), "bob": []}
    assert store.recent("s", owner="alice") == turns("a2", "a3")


def test_sessions_survive_a_restart(database, tmp_path):
    SessionStore(database, SystemClock()).append("s", turns("remember me"), owner="alice")
    reopened = Database(sqlite_url(tmp_path))
    try:
        assert SessionStore(reopened, SystemClock()).recent("s", owner="alice") == \
            turns("remember me")
    finally:
        reopened.close()


def test_forget_drops_only_that_owners_session(database):
    store = SessionStore(database, SystemClock())
    store.append("s", turns("x"), owner="alice")
    store.append("s", turns("y"), owner="bob")
    store.forget("s", owner="alice")
    assert store.recent("s", owner="alice") == [] and store.recent("s", owner="bob") == turns("y")


def test_each_owner_keeps_at_most_max_sessions(database):
    store = SessionStore(database, SystemClock(), max_sessions=2)
    for name in ("one", "two", "three"):
        store.append(name, turns(name), owner="alice")
    store.append("other", turns("b"), owner="bob")
    assert store.recent("one", owner="alice") == []
    assert store.recent("three", owner="alice") == turns("three")
    assert store.recent("other", owner="bob") == turns("b")


@pytest.mark.parametrize("session_id", ["", "x" * 129])
def test_session_id_out_of_bounds_is_refused(database, session_id):
    with pytest.raises(InvalidInput, match="session_id"):
        SessionStore(database, SystemClock()).recent(session_id)
