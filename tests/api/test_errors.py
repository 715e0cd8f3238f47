"""Bad input gets a 4xx JSON error with a stable code, never a 500."""

from __future__ import annotations

import pytest

from memos.errors import InvalidInput
from tests.api.conftest import ADMIN_KEY


@pytest.fixture(scope="module")
def cube(alice):
    cube = alice.create_cube("errors-cube")
    yield cube
    alice.delete_cube(cube.id)


@pytest.fixture()
def http(live, alice_key):
    with live.http(alice_key) as client:
        yield client


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_unknown_fields_are_rejected(http, cube):
    response = http.post(f"/v1/cubes/{cube.id}/memories", json={"text": "x", "colour": "red"})
    error = _error(response, 422, "validation_error")
    assert "colour" in error["message"]


@pytest.mark.parametrize("body", [
    {"text": ""}, {"text": "   "}, {"text": "x" * 20_001}, {"text": 5},
    {"text": "ok", "ttl_seconds": -1}, {"text": "ok", "event_time": "yesterday"},
    {"text": "ok", "event_time": "0001-01-01T00:00:00+05:00"}, {},
])
def test_bad_memory_bodies_are_422(http, cube, body):
    _error(http.post(f"/v1/cubes/{cube.id}/memories", json=body), 422, "validation_error")


@pytest.mark.parametrize("body", [
    {"query": "x", "k": 0}, {"query": "x", "k": 201}, {"query": ""},
    {"query": "x", "states": ["sleeping"]}, {"query": "x" * 2_001},
])
def test_bad_searches_are_422(http, cube, body):
    _error(http.post(f"/v1/cubes/{cube.id}/search", json=body), 422, "validation_error")


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1},
                                    {"state": "sleeping"}])
def test_bad_pagination_is_422(http, cube, params):
    _error(http.get(f"/v1/cubes/{cube.id}/memories", params=params), 422, "validation_error")


def test_body_over_one_mebibyte_is_413(http, cube):
    response = http.post(f"/v1/cubes/{cube.id}/memories/batch",
                         json={"items": [{"text": "y" * 19_000}] * 60})
    _error(response, 413, "payload_too_large")


def test_malformed_json_is_422(http, cube):
    response = http.post(f"/v1/cubes/{cube.id}/memories", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    _error(response, 422, "validation_error")


def test_deeply_nested_metadata_is_a_4xx(http, cube):
    body = b'{"text": "deep", "metadata": {"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}}"
    response = http.post(f"/v1/cubes/{cube.id}/memories", content=body,
                         headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]


def test_garbage_archive_import_is_400(http):
    response = http.post("/v1/cubes/import", content=b"this is not a zip file",
                         headers={"Content-Type": "application/octet-stream"})
    _error(response, 400, "invalid_input")


def test_unknown_route_and_wrong_method_are_json(live):
    with live.http(ADMIN_KEY) as http:
        _error(http.get("/v1/nothing-here"), 404, "not_found")
        _error(http.put("/v1/cubes"), 405, "method_not_allowed")


def test_missing_memory_and_as_of_before_creation_are_404(http, cube):
    item = cube.add("Judy fixed the bike.")
    _error(http.get(f"/v1/cubes/{cube.id}/memories/{'f' * 32}"), 404, "not_found")
    response = http.get(f"/v1/cubes/{cube.id}/memories/{item.id}/as-of",
                        params={"at": "2000-01-01T00:00:00Z"})
    _error(response, 404, "not_found")


def test_illegal_transition_is_409(http, cube):
    item = cube.add("Ken sold his car.")
    cube.delete(item.id)
    _error(http.post(f"/v1/cubes/{cube.id}/memories/{item.id}/archive"), 409,
           "illegal_transition")


def test_prompt_over_the_context_window_is_400(http, cube):
    long_turn = {"role": "user", "content": "word " * 3_900}
    body = {"messages": [long_turn] * 3, "cube_ids": [cube.id], "max_new_tokens": 4}
    error = _error(http.post("/v1/chat", json=body), 400, "invalid_input")
    assert "context" in error["message"]


def test_client_raises_the_projects_errors(alice, cube):
    with pytest.raises(InvalidInput):
        cube.search("x", k=1000)
    with pytest.raises(InvalidInput):
        cube.add("x", colour="red")
