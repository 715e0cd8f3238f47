"""Quotas, history retention, metrics access, sharing and key prefixes, over a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from memos.auth import KeyStore
from memos.errors import QuotaExceeded
from memos.kernel import MemOS
from memos.settings import Settings
from tests.api.conftest import ADMIN_KEY, LiveServer, start_server
from tests.api.test_fairness import make_user

METRICS_TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(engine, embedder, tmp_path_factory) -> Iterator[LiveServer]:
    """Small quotas, five history entries kept, and a metrics token."""
    server = start_server(tmp_path_factory.mktemp("limits-home"), engine, embedder,
                          max_memories_per_cube=20, max_bytes_per_user=8000,
                          history_versions_kept=5, metrics_token=METRICS_TOKEN)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def carol(server) -> str:
    return make_user(server, "carol")


def new_cube(http, name: str) -> str:
    return http.post("/v1/cubes", json={"name": name}).json()["id"]


def test_metadata_filters_named_since_and_until_are_not_time_windows(server, carol):
    with server.http(carol) as http:
        cube_id = new_cube(http, "filters")
        http.post(f"/v1/cubes/{cube_id}/memories",
                  json={"text": "Tea at five.", "metadata": {"since": "2020", "until": "now"}})
        http.post(f"/v1/cubes/{cube_id}/memories", json={"text": "Tea at six."})
        body = {"query": "tea", "metadata": {"since": "2020", "until": "now"}}
        in_cube = http.post(f"/v1/cubes/{cube_id}/search", json=body)
        across = http.post("/v1/search", json={**body, "cube_ids": [cube_id]})
    assert in_cube.status_code == across.status_code == 200
    assert [hit["item"]["text"] for hit in in_cube.json()["data"]] == ["Tea at five."]
    assert [hit["item"]["text"] for hit in across.json()["data"]] == ["Tea at five."]


def test_deleting_a_cube_while_adds_are_in_flight_never_gives_500(server, carol):
    with server.http(carol) as http:
        cube_id = new_cube(http, "doomed")
    statuses: list[int] = []

    def add(n: int) -> None:
        with server.http(carol) as http:
            for m in range(3):
                note = {"text": f"Note {n}-{m} about racing deletes.", "force": True}
                statuses.append(http.post(f"/v1/cubes/{cube_id}/memories", json=note)
                                .status_code)

    writers = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for writer in writers:
        writer.start()
    with server.http(carol) as http:
        assert http.delete(f"/v1/cubes/{cube_id}").status_code == 204
    for writer in writers:
        writer.join()
    assert set(statuses) <= {201, 404, 409}
    with server.http(carol) as http:
        assert http.get(f"/v1/cubes/{cube_id}/memories").status_code == 404


def test_metrics_answer_the_metrics_token_and_admins_only(server, carol):
    with server.http(METRICS_TOKEN) as http:
        assert "memos_http_requests_total" in http.get("/metrics").text
    with server.http(ADMIN_KEY) as http:
        assert http.get("/metrics").status_code == 200
    with server.http(carol) as http:
        assert http.get("/metrics").status_code == 403
    with server.http("not-the-metrics-token-at-all") as http:
        assert http.get("/metrics").status_code == 401


def test_history_is_paged_and_keeps_the_newest_versions(server, carol):
    with server.http(carol) as http:
        cube_id = new_cube(http, "edits")
        item = http.post(f"/v1/cubes/{cube_id}/memories", json={"text": "Version 0."}).json()
        for version in range(1, 9):
            http.patch(f"/v1/cubes/{cube_id}/memories/{item['id']}",
                       json={"text": f"Version {version}."}).raise_for_status()
        path = f"/v1/cubes/{cube_id}/memories/{item['id']}/history"
        everything = http.get(path).json()
        page = http.get(path, params={"limit": 2, "offset": 1}).json()
    assert everything["count"] == 5
    assert [entry["version"] for entry in everything["data"]] == [5, 6, 7, 8, 9]
    assert page["count"] == 5 and [entry["version"] for entry in page["data"]] == [6, 7]


def test_sharing_with_an_unknown_user_answers_like_a_known_one(server, carol):
    make_user(server, "dave")
    with server.http(carol) as http:
        cube_id = new_cube(http, "shared")
        known = http.put(f"/v1/cubes/{cube_id}/shares/dave", json={"access": "read"})
        unknown = http.put(f"/v1/cubes/{cube_id}/shares/nobody-here", json={"access": "read"})
        revoked = http.delete(f"/v1/cubes/{cube_id}/shares/nobody-else")
    assert known.status_code == unknown.status_code == revoked.status_code == 200
    assert unknown.json()["shares"] == {"dave": "read", "nobody-here": "read"}


def test_only_a_short_prefix_of_any_key_is_stored(server):
    keys = KeyStore(server.mos.database, server.mos.clock)
    _, operator_secret = keys.create_key("carol", "ops", secret="correct-horse-battery-staple")
    with server.http(ADMIN_KEY) as http:
        prefixes = {key["name"]: key["prefix"] for key in http.get("/v1/keys").json()["data"]}
    admin_prefix = next(p for name, p in prefixes.items() if name != "ops" and "memos_t" in p)
    assert len(admin_prefix) <= len("memos_") + 4 and not ADMIN_KEY.startswith(admin_prefix + "e")
    assert prefixes["ops"] == operator_secret[:2]


def test_quotas_refuse_what_does_not_fit_and_store_nothing(server):
    erin = make_user(server, "erin")
    with server.http(erin) as http:
        cube_id = new_cube(http, "full")
        batch = {"items": [{"text": f"Fact {n}.", "force": True} for n in range(20)]}
        assert http.post(f"/v1/cubes/{cube_id}/memories/batch", json=batch).status_code == 201
        over_count = http.post(f"/v1/cubes/{cube_id}/memories", json={"text": "One more."})
        other = new_cube(http, "big")
        big = {"text": "x" * 7000}
        assert http.post(f"/v1/cubes/{other}/memories", json=big).status_code == 201
        over_bytes = http.post(f"/v1/cubes/{other}/memories",
                               json={"text": "y" * 2000, "force": True})
        counts = [http.get(f"/v1/cubes/{c}/memories").json()["count"] for c in (cube_id, other)]
        limits = http.get("/v1/limits").json()
    assert over_count.status_code == over_bytes.status_code == 429
    assert over_count.json()["error"]["code"] == "quota_exceeded"
    assert "20 memories per cube" in over_count.json()["error"]["message"]
    assert "8000 bytes per user" in over_bytes.json()["error"]["message"]
    assert counts == [20, 1]
    assert limits["storage"] == {"max_memories_per_cube": 20, "max_bytes_per_user": 8000,
                                 "history_versions_kept": 5}
    assert limits["usage"]["bytes"] == 7000 + sum(len(f"Fact {n}.") for n in range(20))


def test_an_import_that_would_pass_a_quota_is_refused_whole(server, engine, embedder,
                                                           tmp_path):
    source = MemOS(settings=Settings(home=tmp_path / "source"), engine=engine,
                   embedder=embedder)
    cube = source.create_cube("big-archive")
    cube.add_many([{"text": f"Archived fact {n}.", "force": True} for n in range(25)])
    archive = tmp_path / "big.memcube"
    source.export_cube(cube.id, archive)
    source.close()
    frank = make_user(server, "frank")
    with server.client(frank) as client:
        with pytest.raises(QuotaExceeded, match="20 memories per cube"):
            client.import_cube(archive)
        assert client.list_cubes() == []
