"""Walks the OpenAPI spec: every route that takes an id answers another user's ids exactly as
it answers random ids, and changes nothing of the owner's."""

from __future__ import annotations

import uuid

import pytest

METHODS = ("get", "post", "put", "patch", "delete")
ID_PARAMS = {"cube_id", "item_id", "adapter_id", "job_id", "key_id", "key", "user_id"}
ID_LISTS = {"cube_ids": "cube_id", "item_ids": "item_id"}
SKIP = {("post", "/v1/cubes/import")}  # takes an archive, not an id (see test_import_security)


@pytest.fixture(scope="module")
def spec(live) -> dict:
    with live.http(None) as http:
        return http.get("/openapi.json").json()


@pytest.fixture(scope="module")
def victim(live, admin, alice):
    """A fresh user's cube, note, pending job, warm KV entry and API key."""
    carol = f"carol-{uuid.uuid4().hex[:8]}"
    admin.create_user(carol)
    key = admin.create_key(carol, name="walk")
    with live.client(key["key"]) as carol:
        cube = carol.create_cube("walk-target")
        item = cube.add("Carol's bank is in Zurich.")
        job = carol.start_distill(cube.id, steps=1)
        carol.warm(cube.id, [item.id])
        kv_key = carol.kv_entries(cube.id)[0]["key"]
    ids = {"cube_id": cube.id, "item_id": item.id, "job_id": job.id, "adapter_id": job.id,
           "key_id": key["id"], "key": kv_key, "user_id": carol}
    yield ids
    admin.delete_cube(cube.id)


def random_ids() -> dict[str, str]:
    fresh = uuid.uuid4().hex
    return {"cube_id": fresh, "item_id": fresh, "job_id": fresh, "adapter_id": fresh,
            "key_id": fresh, "key": fresh[:16], "user_id": f"nobody-{fresh[:8]}"}


def world_of(admin, ids: dict) -> dict:
    """Everything of Carol's that a request could change."""
    cube = admin.get_cube(ids["cube_id"])
    items, count = cube.list(states=["created", "activated", "archived", "frozen", "merged",
                                     "deleted"], limit=100)
    return {"cube": cube.info.to_dict(),
            "items": [(i.id, i.text, i.state, i.version) for i in items], "count": count,
            "history": [len(cube.history(i.id)) for i in items],
            "job": admin.get_job(ids["job_id"]).state,
            "kv": sorted(e["key"] for e in admin.kv_entries(ids["cube_id"])),
            "keys": sorted(k["id"] for k in admin.list_keys(ids["user_id"]))}


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    found = []
    for path, ops in spec["paths"].items():
        for method in METHODS:
            operation = ops.get(method)
            if operation is None or (method, path) in SKIP:
                continue
            body = _body_schema(spec, operation)
            takes_ids = "{" in path or any(name in (body or {}).get("properties", {})
                                           for name in ID_LISTS)
            if takes_ids:
                found.append((method, path, operation))
    return found


def _body_schema(spec: dict, operation: dict) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return _resolve(spec, schema) if schema else None


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def example(spec: dict, schema: dict, ids: dict, name: str = "") -> object:
    """A small valid value for ``schema``; id lists get the ids under test."""
    schema = _resolve(spec, schema)
    if name in ID_LISTS:
        return [ids[ID_LISTS[name]]]
    if "anyOf" in schema:
        return example(spec, next(s for s in schema["anyOf"] if s.get("type") != "null"), ids)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = schema.get("required", [])
        return {key: example(spec, value, ids, key)
                for key, value in schema.get("properties", {}).items() if key in required}
    if kind == "array":
        return [example(spec, schema["items"], ids)] * max(1, schema.get("minItems", 0))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return False
    return "hello" if name != "messages" else [{"role": "user", "content": "hi"}]


def call(http, spec: dict, method: str, path: str, operation: dict, ids: dict):
    body = _body_schema(spec, operation)
    payload = example(spec, body, ids) if body else None
    if payload is not None and "max_new_tokens" in (body or {}).get("properties", {}):
        payload["max_new_tokens"] = 1
    if payload is not None and "messages" in (body or {}).get("properties", {}):
        payload["messages"] = [{"role": "user", "content": "hi"}]
    query = {p["name"]: _query_value(p) for p in operation.get("parameters", [])
             if p["in"] == "query" and p.get("required")}
    return http.request(method.upper(), path.format(**ids), json=payload, params=query)


def _query_value(parameter: dict) -> str:
    return "2030-01-01T00:00:00Z" if parameter["name"] == "at" else "x"


def answer(response) -> tuple[int, str | None]:
    try:
        code = response.json().get("error", {}).get("code")
    except ValueError:
        code = None
    return response.status_code, code


def test_spec_walk_finds_the_id_taking_routes(spec):
    labels = {f"{m.upper()} {p}" for m, p, _ in operations(spec)}
    assert "DELETE /v1/cubes/{cube_id}" in labels and "POST /v1/chat" in labels
    assert len(labels) >= 30


def test_another_users_ids_answer_like_random_ids_and_change_nothing(live, bob_key, admin,
                                                                     spec, victim):
    before = world_of(admin, victim)
    differences = []
    with live.http(bob_key) as http:
        for method, path, operation in operations(spec):
            foreign = answer(call(http, spec, method, path, operation, victim))
            unknown = answer(call(http, spec, method, path, operation, random_ids()))
            if foreign != unknown or foreign[0] < 400 and "{" in path:
                differences.append(f"{method.upper()} {path}: {foreign} vs random {unknown}")
    assert not differences, "\n".join(differences)
    assert world_of(admin, victim) == before
