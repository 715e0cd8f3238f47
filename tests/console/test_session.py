"""Console sessions and CSRF tokens, without a browser."""

from __future__ import annotations

from api.console.csrf import tokens_match
from api.console.session import SessionStore


def test_session_keeps_the_key_and_a_fresh_csrf_token():
    store = SessionStore()
    first, second = store.open("memos_key"), store.open("memos_key")
    assert first != second
    assert store.get(first).api_key == "memos_key"
    assert store.get(first).csrf != store.get(second).csrf


def test_closed_or_unknown_session_is_gone():
    store = SessionStore()
    session_id = store.open("memos_key")
    store.close(session_id)
    assert store.get(session_id) is None
    assert store.get("made-up") is None and store.get(None) is None


def test_idle_session_expires():
    store = SessionStore(idle_seconds=-1)
    assert store.get(store.open("memos_key")) is None


def test_csrf_tokens_must_match_exactly():
    assert tokens_match("abc", "abc")
    assert not tokens_match("abd", "abc")
    assert not tokens_match("", "")
    assert not tokens_match(None, "abc")
    assert not tokens_match("abc", None)
