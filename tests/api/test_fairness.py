"""One tenant saturating the model: cheap routes and other tenants are still served, fairly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.api.conftest import ADMIN_KEY, LiveServer, start_server

HEAVY_CHATS = 48
CHAT = {"messages": [{"role": "user", "content": "Count to ten."}], "max_new_tokens": 4,
        "memory_kinds": ["plaintext"]}


def wait_until(condition, what: str, deadline_s: float = 120.0) -> None:
    """Poll ``condition`` until it holds (a generous bound only to end a broken run)."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def busy(engine, embedder, tmp_path_factory) -> Iterator[LiveServer]:
    """A server with one model slot and room for a long queue from one user."""
    server = start_server(tmp_path_factory.mktemp("fair-home"), engine, embedder,
                          model_max_running=1, model_max_queued_per_user=64,
                          model_max_queued=128)
    yield server
    server.stop()


def make_user(server: LiveServer, user_id: str) -> str:
    with server.http(ADMIN_KEY) as http:
        http.post("/v1/users", json={"id": user_id}).raise_for_status()
        return http.post("/v1/keys", json={"user_id": user_id, "name": "t"}).json()["key"]


def test_one_users_queue_of_chats_starves_nobody(busy):
    heavy, light = make_user(busy, "heavy"), make_user(busy, "light")
    with busy.http(light) as http:
        cube_id = http.post("/v1/cubes", json={"name": "light-notes"}).json()["id"]
        http.post(f"/v1/cubes/{cube_id}/memories", json={"text": "Light likes tea."})
    finished: list[str] = []
    lock = threading.Lock()

    def heavy_chat() -> None:
        # the last of the queue waits for all the others: on a busy machine, minutes
        with busy.http(heavy, timeout=900) as http:
            assert http.post("/v1/chat", json=CHAT).status_code == 200
        with lock:
            finished.append("heavy")

    threads = [threading.Thread(target=heavy_chat) for _ in range(HEAVY_CHATS)]
    for thread in threads:
        thread.start()
    queue = busy.mos.model_queue
    wait_until(lambda: queue.queued("heavy") >= HEAVY_CHATS - 8, "the heavy queue to fill")

    with busy.http(None) as http:
        assert http.get("/health").status_code == 200
        assert http.get("/ready").json()["queued"] > 0
    assert queue.queued("heavy") > 0, "/health waited for the heavy queue to drain"
    with busy.http(light) as http:
        assert http.get(f"/v1/cubes/{cube_id}/memories").json()["count"] == 1
        assert queue.queued("heavy") > 0, "a memory list waited for the heavy queue"
        assert http.post("/v1/chat", json=CHAT).status_code == 200
    with lock:
        heavy_done_before_light = len(finished)
    assert queue.queued("heavy") > 0, "the light chat waited for the whole heavy queue"
    # One slot, round-robin: at most the running heavy chat and the one granted with it.
    assert heavy_done_before_light <= 3
    for thread in threads:
        thread.join()
    assert len(finished) == HEAVY_CHATS
