"""API keys: bearer auth, hashed storage, admin-only routes and the first-start admin key."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from memos.auth import ADMIN_KEY_FILE, KeyStore, hash_key
from memos.errors import PermissionDenied
from memos.kernel import MemOS
from tests.api.conftest import ADMIN_KEY


def test_missing_or_invalid_key_is_401_with_json_error(live):
    for key in (None, "memos_not-a-real-key-at-all"):
        with live.http(key) as http:
            response = http.get("/v1/cubes")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_keys_are_stored_hashed_never_in_clear(live, admin, alice_key):
    with sqlite3.connect(live.home / "memos.db") as db:
        rows = db.execute("SELECT key_hash, prefix FROM api_keys").fetchall()
        dump = "\n".join(db.iterdump())
    assert hash_key(alice_key) in {row[0] for row in rows}
    for secret in (alice_key, ADMIN_KEY):
        assert secret not in dump
    assert all(len(prefix) <= 12 for _, prefix in rows)


def test_key_list_never_shows_secrets(live, alice_key):
    with live.http(ADMIN_KEY) as http:
        listed = http.get("/v1/keys", params={"user_id": "alice"}).json()
    assert listed["count"] >= 1
    assert all("key" not in k and "key_hash" not in k for k in listed["data"])


def test_revoked_key_stops_working(live, admin):
    admin.create_user("carol")
    created = admin.create_key("carol", name="short-lived")
    with live.client(created["key"]) as carol:
        assert carol.whoami()["id"] == "carol"
        admin.revoke_key(created["id"])
        with pytest.raises(PermissionDenied):
            carol.whoami()


def test_admin_routes_refuse_ordinary_users(alice):
    with pytest.raises(PermissionDenied):
        alice.create_user("mallory")
    with pytest.raises(PermissionDenied):
        alice.create_key("alice")


def test_first_start_writes_a_private_admin_key(tmp_path, embedder):
    mos = MemOS(home=tmp_path, embedder=embedder)
    keys = KeyStore(mos.database, mos.clock)
    secret = keys.ensure_admin_key(mos.home)
    path = tmp_path / ADMIN_KEY_FILE
    assert path.read_text().strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.user_for_key(secret).is_admin
    assert keys.ensure_admin_key(mos.home) is None  # shown once only
    mos.close()
