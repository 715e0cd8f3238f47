"""Distillation jobs: one per cube at a time, a few per user, and TTL holds while they wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.conftest import LiveServer, start_server
from tests.api.test_fairness import make_user


@pytest.fixture(scope="module")
def server(engine, embedder, tmp_path_factory) -> Iterator[LiveServer]:
    """Jobs stay queued (no workers); each user may have two distillations queued."""
    server = start_server(tmp_path_factory.mktemp("jobs-home"), engine, embedder,
                          max_jobs_per_user=2)
    yield server
    server.stop()


def new_cube(http, name: str, *notes: dict) -> str:
    cube_id = http.post("/v1/cubes", json={"name": name}).json()["id"]
    for note in notes:
        assert http.post(f"/v1/cubes/{cube_id}/memories", json=note).status_code == 201
    return cube_id


def test_distill_jobs_are_limited_per_cube_and_per_user(server):
    with server.http(make_user(server, "trainer")) as http:
        cubes = [new_cube(http, f"t{n}", {"text": f"Fact number {n} is true."}) for n in range(3)]
        first = http.post(f"/v1/cubes/{cubes[0]}/adapters/jobs", json={"steps": 5})
        again = http.post(f"/v1/cubes/{cubes[0]}/adapters/jobs", json={"steps": 5})
        second = http.post(f"/v1/cubes/{cubes[1]}/adapters/jobs", json={"steps": 5})
        third = http.post(f"/v1/cubes/{cubes[2]}/adapters/jobs", json={"steps": 5})
    assert first.status_code == second.status_code == 202
    assert again.status_code == 409 and first.json()["id"] in again.json()["error"]["message"]
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    assert "the limit is 2" in third.json()["error"]["message"]



def test_concurrent_distill_requests_never_pass_the_per_user_limit(server):
    key = make_user(server, "eager")
    with server.http(key) as http:
        cubes = [new_cube(http, f"e{n}", {"text": f"Eager fact {n} holds."}) for n in range(8)]
    start = threading.Barrier(len(cubes))

    def ask(cube_id: str) -> int:
        with server.http(key) as http:
            start.wait()
            return http.post(f"/v1/cubes/{cube_id}/adapters/jobs", json={}).status_code

    with ThreadPoolExecutor(len(cubes)) as pool:
        codes = sorted(pool.map(ask, cubes))
    assert codes == [202, 202] + [429] * 6
    queued = server.mos.scheduler.jobs.active("distill")
    assert sum(job.cube_id in cubes for job in queued) == 2

def test_expired_note_is_not_found_by_search_while_distills_are_queued(server):
    with server.http(make_user(server, "forgetful")) as http:
        cube_id = new_cube(http, "ttl",
                           {"text": "The wifi password is hunter2.", "ttl_seconds": 1},
                           {"text": "The kettle is in the kitchen."})
        assert http.post(f"/v1/cubes/{cube_id}/adapters/jobs", json={}).status_code == 202
        time.sleep(1.2)  # let the note's time to live run out; no expire job can run here
        body = {"query": "wifi password", "k": 5}
        hits = http.post(f"/v1/cubes/{cube_id}/search", json=body).json()["data"]
        listed = http.get(f"/v1/cubes/{cube_id}/memories",
                          params={"state": ["created", "activated"]}).json()
    assert all("hunter2" not in hit["item"]["text"] for hit in hits)
    assert [item["text"] for item in listed["data"]] == ["The kettle is in the kitchen."]
    assert server.mos.scheduler.jobs.list("pending", kind="distill")[1] >= 1


def test_another_users_job_answers_as_a_random_id_does(server):
    with server.http(make_user(server, "owner-of-job")) as http:
        cube_id = new_cube(http, "jobbed", {"text": "A fact to learn."})
        job_id = http.post(f"/v1/cubes/{cube_id}/adapters/jobs", json={}).json()["id"]
    with server.http(make_user(server, "prober")) as http:
        theirs = http.get(f"/v1/jobs/{job_id}")
        random = http.get(f"/v1/jobs/{'0' * 32}")
    assert theirs.status_code == random.status_code == 404
    assert cube_id not in theirs.text
    assert theirs.json()["error"]["message"].replace(job_id, "X") == \
        random.json()["error"]["message"].replace("0" * 32, "X")
