"""A real server whose home lies on a small tmpfs that is filled to the last byte."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from small_disk import fill_to_the_last_byte, mounted_tmpfs

from tests.api.conftest import ADMIN_KEY, new_user_key, start_server

V1 = "/v1"


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 24 MiB tmpfs (skips where mounting is not allowed)."""
    with mounted_tmpfs(tmp_path / "small-disk", "24m") as mount_point:
        yield mount_point


def test_full_disk_refuses_writes_with_507_while_chats_answer(small_disk, engine, embedder):
    server = start_server(small_disk / "home", engine, embedder)
    try:
        with server.client(ADMIN_KEY) as admin:
            key = new_user_key(admin, "dora")
        http = server.http(key)
        cube_id = http.post(f"{V1}/cubes", json={"name": "notes"}).json()["id"]
        memories = f"{V1}/cubes/{cube_id}/memories"
        acknowledged = [http.post(memories, json={"text": f"Dora keeps note {n} in a red box."})
                        .json()["id"] for n in range(5)]
        chat = {"messages": [{"role": "user", "content": "Where does Dora keep her notes?"}],
                "cube_ids": [cube_id], "k": 2, "max_new_tokens": 4}
        assert http.post(f"{V1}/chat", json=chat).status_code == 200

        filler = fill_to_the_last_byte(small_disk)
        refused = None
        for n in range(40):  # SQLite may still fit a few rows into pages it already holds
            answer = http.post(memories, json={"text": f"Full-disk note {n} about Dora's cat."})
            if answer.status_code == 201:
                acknowledged.append(answer.json()["id"])
                continue
            refused = answer
            break
        assert refused is not None and refused.status_code == 507, refused and refused.text
        error = refused.json()["error"]
        assert error["code"] == "insufficient_storage" and "could not be stored" in error["message"]
        assert http.post(memories, json={"text": "One more note."}).status_code == 507

        for body in ({**chat, "k": 5}, {**chat, "write_back": True}):  # k=5: new KV chunks
            answer = http.post(f"{V1}/chat", json=body)
            assert answer.status_code == 200, answer.text
        assert http.get(f"{V1}/cubes/{cube_id}/memories/{acknowledged[0]}").status_code == 200
        health = http.get("/health").json()
        assert health["status"] == "disk_nearly_full" and health["disk_nearly_full"]
        with server.http(ADMIN_KEY) as admin_http:  # metrics are for administrators
            metrics = admin_http.get("/metrics").text
        assert "memos_disk_full_events 0\n" not in metrics
        assert 'memos_cache_failures{cache="chat",operation="write-back"} 1' in metrics
        assert 'memos_cache_failures{cache="kv",operation="persist"}' in metrics

        filler.unlink()
        for item_id in acknowledged:
            assert http.get(f"{memories}/{item_id}").status_code == 200
        assert http.post(memories, json={"text": "Space is back for Dora."}).status_code == 201
    finally:
        server.stop()
    with sqlite3.connect(small_disk / "home" / "memos.db") as database:
        assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
