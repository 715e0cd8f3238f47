"""Every cube-scoped route: another user's key gets 404, a bad key 401, a reader 403 on writes."""

from __future__ import annotations

import pytest

from memos.errors import NotFound

CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_new_tokens": 1}
ROUTES = [
    ("GET", "/v1/cubes/{cube}", None),
    ("PATCH", "/v1/cubes/{cube}", {"description": "taken over"}),
    ("DELETE", "/v1/cubes/{cube}", None),
    ("GET", "/v1/cubes/{cube}/stats", None),
    ("PUT", "/v1/cubes/{cube}/shares/{user}", {"access": "write"}),
    ("DELETE", "/v1/cubes/{cube}/shares/{user}", None),
    ("GET", "/v1/cubes/{cube}/export", None),
    ("POST", "/v1/cubes/{cube}/memories", {"text": "injected"}),
    ("POST", "/v1/cubes/{cube}/memories/batch", {"items": [{"text": "injected"}]}),
    ("GET", "/v1/cubes/{cube}/memories", None),
    ("GET", "/v1/cubes/{cube}/memories/{item}", None),
    ("PATCH", "/v1/cubes/{cube}/memories/{item}", {"text": "changed"}),
    ("DELETE", "/v1/cubes/{cube}/memories/{item}", None),
    ("POST", "/v1/cubes/{cube}/memories/{item}/purge", None),
    ("POST", "/v1/cubes/{cube}/memories/{item}/archive", None),
    ("POST", "/v1/cubes/{cube}/memories/{item}/freeze", None),
    ("POST", "/v1/cubes/{cube}/memories/{item}/activate", None),
    ("GET", "/v1/cubes/{cube}/memories/{item}/history", None),
    ("GET", "/v1/cubes/{cube}/memories/{item}/as-of?at=2030-01-01T00:00:00Z", None),
    ("POST", "/v1/cubes/{cube}/search", {"query": "anything"}),
    ("POST", "/v1/search", {"query": "anything", "cube_ids": ["{cube}"]}),
    ("GET", "/v1/cubes/{cube}/kv", None),
    ("POST", "/v1/cubes/{cube}/kv/warm", {"item_ids": ["{item}"]}),
    ("GET", "/v1/cubes/{cube}/adapters", None),
    ("POST", "/v1/cubes/{cube}/adapters", {"steps": 1}),
    ("POST", "/v1/cubes/{cube}/adapters/jobs", {"steps": 1}),
    ("POST", "/v1/cubes/{cube}/adapters/{adapter}/verify", None),
    ("DELETE", "/v1/cubes/{cube}/adapters/{adapter}", None),
    ("POST", "/v1/cubes/{cube}/forget-check", {"item_ids": ["{item}"]}),
    ("POST", "/v1/chat", {**CHAT, "cube_ids": ["{cube}"]}),
    ("POST", "/v1/chat/stream", {**CHAT, "cube_ids": ["{cube}"]}),
]
READ_ROUTES = {("GET", path) for method, path, _ in ROUTES if method == "GET"} | {
    ("POST", "/v1/cubes/{cube}/search"), ("POST", "/v1/search"), ("POST", "/v1/chat"),
    ("POST", "/v1/chat/stream"), ("POST", "/v1/cubes/{cube}/adapters/{adapter}/verify")}


@pytest.fixture(scope="module")
def target(alice, admin):
    """Alice's cube with one memory; the user 'dave' has read access to it."""
    admin.create_user("dave")
    cube = alice.create_cube("access-target")
    item = cube.add("Only Alice should see this note.")
    alice.share_cube(cube.id, "dave", "read")
    yield cube, item
    alice.delete_cube(cube.id)


def _request(http, route, cube, item):
    method, path, body = route
    fill = {"cube": cube.id, "item": item.id, "adapter": item.id, "user": "bob"}
    path = path.format(**fill)
    if body is not None:
        body = _filled(body, fill)
    return http.request(method, path, json=body)


def _filled(value, fill):
    if isinstance(value, str):
        return value.format(**fill)
    if isinstance(value, list):
        return [_filled(v, fill) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, fill) for k, v in value.items()}
    return value


def _name(route):
    return f"{route[0]} {route[1].split('?')[0]}"


@pytest.mark.parametrize("route", ROUTES, ids=_name)
def test_other_users_cube_answers_404(live, bob_key, target, route):
    with live.http(bob_key) as http:
        response = _request(http, route, *target)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("route", ROUTES, ids=_name)
def test_invalid_key_answers_401(live, target, route):
    with live.http("memos_forged-key-that-was-never-issued") as http:
        response = _request(http, route, *target)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", [r for r in ROUTES if (r[0], r[1]) not in READ_ROUTES],
                         ids=_name)
def test_reader_cannot_write_answers_403(live, admin, target, route):
    dave_key = admin.create_key("dave")["key"]
    with live.http(dave_key) as http:
        response = _request(http, route, *target)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_route_table_covers_every_cube_scoped_route(live):
    with live.http(None) as http:
        paths = http.get("/openapi.json").json()["paths"]
    scoped = {(method.upper(), path) for path, ops in paths.items() for method in ops
              if "{cube_id}" in path}
    table = {(m, p.split("?")[0].replace("{cube}", "{cube_id}").replace("{item}", "{item_id}")
              .replace("{user}", "{user_id}").replace("{adapter}", "{adapter_id}"))
             for m, p, _ in ROUTES}
    assert scoped <= table


def test_cube_and_memory_survive_the_attempts(alice, target):
    cube, item = target
    assert alice.get_cube(cube.id).info.description == ""
    assert alice.get_cube(cube.id).get(item.id).text == item.text
    with pytest.raises(NotFound):
        alice.get_cube("0" * 32)
