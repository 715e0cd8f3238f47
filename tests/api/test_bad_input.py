"""Bad input never reaches storage: deep, oversized or unencodable values are a 4xx."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import ADMIN_KEY

LONE = "\ud800"


def _deep(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"next": value}
    return value


BAD_MEMORIES = {
    "metadata 255 levels deep": {"text": "deep note", "metadata": _deep(255)},
    "metadata 40 levels deep": {"text": "deep note", "metadata": _deep(40)},
    "metadata over 64 KiB": {"text": "big note", "metadata": {"blob": "x" * 70_000}},
    "metadata holding NaN": {"text": "nan note", "metadata": {"score": float("nan")}},
    "lone surrogate in text": {"text": f"bad {LONE} text"},
    "lone surrogate in a metadata value": {"text": "note", "metadata": {"who": LONE}},
    "lone surrogate in a nested metadata value": {"text": "note",
                                                 "metadata": {"a": [{"b": [LONE]}]}},
    "lone surrogate in a metadata key": {"text": "note", "metadata": {LONE: 1}},
    "lone surrogate in a tag": {"text": "note", "tags": [LONE]},
    "lone surrogate in a keyword": {"text": "note", "keywords": ["ok", LONE]},
    "lone surrogate in the context": {"text": "note", "context": LONE},
    "lone surrogate in the source id": {"text": "note", "source_id": LONE},
    "lone surrogate in the session id": {"text": "note", "session_id": LONE},
    "NUL in the context": {"text": "note", "context": "a\x00b"},
}


def _post(http, path: str, body, method: str = "POST"):
    """Send ``body`` as JSON text with \\u escapes, as any client could (lone surrogates too)."""
    return http.request(method, path, content=json.dumps(body),
                        headers={"Content-Type": "application/json"})


def _assert_refused(response, what: str) -> None:
    assert response.status_code in (400, 422), (what, response.status_code, response.text)
    assert response.json()["error"]["message"], what


@pytest.fixture(scope="module")
def cube(alice):
    cube = alice.create_cube("bad-input")
    cube.add("Alice keeps her passport in the blue drawer.", metadata={"room": "hall"})
    yield cube
    alice.delete_cube(cube.id)


@pytest.fixture
def unchanged(live, alice_key, cube):
    """Checks after the test that the cube still lists and searches, with nothing added."""
    with live.http(alice_key) as http:
        before = http.get(f"/v1/cubes/{cube.id}/memories").json()
    yield
    with live.http(alice_key) as http:
        after = http.get(f"/v1/cubes/{cube.id}/memories")
        hits = http.post(f"/v1/cubes/{cube.id}/search", json={"query": "passport"})
        assert http.get("/v1/cubes").status_code == 200
    assert after.status_code == 200 and after.json() == before
    assert hits.status_code == 200 and hits.json()["count"] == 1


@pytest.mark.parametrize("what", sorted(BAD_MEMORIES))
def test_bad_memory_is_refused_and_nothing_is_stored(live, alice_key, cube, unchanged, what):
    with live.http(alice_key) as http:
        _assert_refused(_post(http, f"/v1/cubes/{cube.id}/memories", BAD_MEMORIES[what]), what)
        batch = {"items": [{"text": "a good note about tulips"}, BAD_MEMORIES[what]]}
        _assert_refused(_post(http, f"/v1/cubes/{cube.id}/memories/batch", batch), what)


@pytest.mark.parametrize("change", [{"metadata": _deep(255)}, {"text": LONE},
                                    {"tags": [LONE]}, {"metadata": {"k": LONE}}])
def test_bad_update_is_refused_and_the_memory_keeps_its_version(live, alice_key, cube,
                                                                 unchanged, change):
    with live.http(alice_key) as http:
        item = http.get(f"/v1/cubes/{cube.id}/memories").json()["data"][0]
        path = f"/v1/cubes/{cube.id}/memories/{item['id']}"
        _assert_refused(_post(http, path, change, method="PATCH"), str(change)[:40])


def test_bad_searches_are_refused(live, alice_key, cube, unchanged):
    with live.http(alice_key) as http:
        for body in ({"query": LONE}, {"query": "passport", "metadata": _deep(255)},
                     {"query": "passport", "tags": [LONE]},
                     {"query": "passport", "metadata": {LONE: "x"}}):
            _assert_refused(_post(http, f"/v1/cubes/{cube.id}/search", body), str(body)[:40])
            _assert_refused(_post(http, "/v1/search", {**body, "cube_ids": [cube.id]}), "all")


def test_bad_chats_are_refused(live, alice_key, cube, unchanged):
    good = [{"role": "user", "content": "Where is the passport?"}]
    with live.http(alice_key) as http:
        for body in ({"messages": [{"role": "user", "content": f"hi {LONE}"}]},
                     {"messages": good, "session_id": LONE, "write_back": True},
                     {"messages": good, "stop": [LONE]}):
            body = {**body, "cube_ids": [cube.id], "max_new_tokens": 1}
            _assert_refused(_post(http, "/v1/chat", body), str(body)[:40])
            _assert_refused(_post(http, "/v1/chat/stream", body), str(body)[:40])


def test_bad_cube_fields_are_refused_and_no_cube_appears(live, alice_key, cube):
    with live.http(alice_key) as http:
        before = http.get("/v1/cubes").json()
        for body in ({"name": f"cube {LONE}"}, {"name": "fine", "description": LONE},
                     {"name": "nul\x00name"}):
            _assert_refused(_post(http, "/v1/cubes", body), str(body))
            _assert_refused(_post(http, f"/v1/cubes/{cube.id}", body, method="PATCH"), "patch")
        assert http.get("/v1/cubes").json() == before


def test_bad_key_name_is_refused(live):
    with live.http(ADMIN_KEY) as http:
        http.post("/v1/users", json={"id": "carol-bad-input"})
        before = http.get("/v1/keys").json()["count"]
        _assert_refused(_post(http, "/v1/keys", {"user_id": "carol-bad-input", "name": LONE}),
                        "key")
        assert http.get("/v1/keys").json()["count"] == before
