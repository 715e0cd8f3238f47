"""A request that races another request's delete answers a 4xx JSON error (or succeeds),
never a 500: the competing delete runs at the moment the first request has read its row."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

import memcube.item_store as item_store
from api.app import create_app
from memos.auth import KeyStore
from memos.kernel import MemOS
from memos.settings import Settings
from storage.clock import SystemClock

ADMIN_KEY = "memos_test-admin-key-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


class ClockLettingAnotherWriteIn(SystemClock):
    """The real clock; once armed, its next reading first runs another request to its end."""

    def __init__(self) -> None:
        self._interruption: Callable[[], object] | None = None

    def let_in(self, interruption: Callable[[], object]) -> None:
        """Run ``interruption`` (in another thread) at the next reading."""
        self._interruption = interruption

    def now(self):
        interruption, self._interruption = self._interruption, None
        if interruption is not None:
            run_to_end(interruption)
        return super().now()


def run_to_end(action: Callable[[], object]) -> None:
    """Run ``action`` in another thread (another request) and wait for it."""
    thread = threading.Thread(target=action)
    thread.start()
    thread.join()


@pytest.fixture
def clocks() -> tuple[ClockLettingAnotherWriteIn, ClockLettingAnotherWriteIn]:
    """The kernel's clock and the key store's (each read inside a write, after its read)."""
    return ClockLettingAnotherWriteIn(), ClockLettingAnotherWriteIn()


@pytest.fixture
def mos(tmp_path, embedder, clocks):
    with MemOS(settings=Settings(home=tmp_path / "home", workers=0), embedder=embedder,
               clock=clocks[0]) as mos:
        yield mos


@pytest.fixture
def http(mos, clocks) -> TestClient:
    settings = mos.settings.model_copy(update={"admin_key": ADMIN_KEY})
    app = create_app(mos, settings, keys=KeyStore(mos.database, clocks[1]))
    return TestClient(app, raise_server_exceptions=False)


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error["message"]


def test_an_edit_of_a_memory_purged_meanwhile_answers_not_found(http, mos, monkeypatch):
    cube = http.post("/v1/cubes", json={"name": "notes"}, headers=ADMIN).json()
    memory = http.post(f"/v1/cubes/{cube['id']}/memories", headers=ADMIN,
                       json={"text": "Dana keeps bees on the roof.", "force": True}).json()
    purge = [lambda: mos.get_cube(cube["id"]).purge(memory["id"])]
    real_apply = item_store.apply_fields

    def let_the_purge_in_then_apply(row, fields):
        if purge:
            run_to_end(purge.pop())
        return real_apply(row, fields)

    monkeypatch.setattr(item_store, "apply_fields", let_the_purge_in_then_apply)

    response = http.patch(f"/v1/cubes/{cube['id']}/memories/{memory['id']}",
                          json={"tags": ["bees"]}, headers=ADMIN)

    assert memory["id"] in _error(response, 404, "not_found")


def test_an_edit_of_a_cube_deleted_meanwhile_answers_conflict(http, mos, clocks):
    cube = http.post("/v1/cubes", json={"name": "notes"}, headers=ADMIN).json()
    # The cube store reads the clock once it has read the cube's row, before it writes.
    clocks[0].let_in(lambda: mos.delete_cube(cube["id"]))

    response = http.patch(f"/v1/cubes/{cube['id']}", json={"description": "bees"},
                          headers=ADMIN)

    assert "deleted meanwhile" in _error(response, 409, "conflict")
    assert http.get(f"/v1/cubes/{cube['id']}", headers=ADMIN).status_code == 404


def test_a_request_whose_key_is_revoked_meanwhile_is_no_server_error(http, clocks):
    http.post("/v1/users", json={"id": "alice"}, headers=ADMIN)
    key = http.post("/v1/keys", json={"user_id": "alice", "name": "laptop"},
                    headers=ADMIN).json()
    alice = {"Authorization": f"Bearer {key['key']}"}
    # The key store reads the clock once it has found the key, before it records the use.
    clocks[1].let_in(lambda: http.delete(f"/v1/keys/{key['id']}", headers=ADMIN))

    assert http.get("/v1/users/me", headers=alice).status_code == 200
    assert http.get("/v1/users/me", headers=alice).status_code == 401
