"""Activation cache, adapters and jobs over HTTP."""

from __future__ import annotations

import pytest

from memos.errors import InvalidInput, NotFound
from tests.api.conftest import ADMIN_KEY


@pytest.fixture(scope="module")
def cube(alice):
    cube = alice.create_cube("system-cube")
    yield cube
    alice.delete_cube(cube.id)


def test_warm_lists_pins_and_evicts_a_chunk(live, alice, admin, cube):
    item = cube.add("Alice keeps her passport in the blue drawer.")
    assert alice.warm(cube.id, [item.id]) == 1
    entries = alice.kv_entries(cube.id)
    assert [e["item_id"] for e in entries] == [item.id] and entries[0]["tokens"] > 0
    key = entries[0]["key"]
    assert alice.kv_stats()["entries"] >= 1
    with live.http(ADMIN_KEY) as http:
        assert http.put(f"/v1/kv/entries/{key}/pin", json={"pinned": True}).status_code == 204
        assert alice.kv_entries(cube.id)[0]["pinned"] is True
        assert http.delete(f"/v1/kv/entries/{key}").status_code == 204
        assert http.delete(f"/v1/kv/entries/{key}").status_code == 404
    assert alice.kv_entries(cube.id) == []


def test_global_kv_routes_are_admin_only(live, alice_key):
    with live.http(alice_key) as http:
        assert http.get("/v1/kv/entries").status_code == 403
        assert http.delete("/v1/kv/entries/abc").status_code == 403


def test_distill_lists_and_deletes_an_adapter(alice, cube):
    cube.add_many([{"text": "Zed's favourite colour is teal."},
                   {"text": "Zed was born in Oslo."}])
    adapter = alice.distill(cube.id, steps=1, rank=4)
    assert adapter["cube_id"] == cube.id and adapter["steps"] == 1 and adapter["items"] >= 2
    assert [a["id"] for a in alice.list_adapters(cube.id)] == [adapter["id"]]
    alice.delete_adapter(cube.id, adapter["id"])
    assert alice.list_adapters(cube.id) == []
    with pytest.raises(NotFound):
        alice.delete_adapter(cube.id, adapter["id"])


def test_distill_runs_as_a_job_when_asked_to(live, alice, cube):
    cube.add("Ulla's bicycle is painted orange.")
    job = alice.start_distill(cube.id, steps=1, rank=4)
    assert (job.kind, job.state, job.cube_id) == ("distill", "pending", cube.id)
    live.mos.scheduler.run_pending()
    done = alice.get_job(job.id)
    assert done.state == "succeeded", done.error
    assert done.result["adapter_id"] in [a["id"] for a in alice.list_adapters(cube.id)]
    alice.delete_adapter(cube.id, done.result["adapter_id"])


def test_distill_job_with_bad_settings_or_no_notes_is_refused(alice, cube):
    with pytest.raises(InvalidInput):
        alice.start_distill(cube.id, steps=0)
    empty = alice.create_cube("nothing-to-learn")
    with pytest.raises(InvalidInput):
        alice.start_distill(empty.id, steps=1)
    alice.delete_cube(empty.id)


def test_jobs_are_listed_read_and_cancelled_by_cube_access(live, alice, bob, admin, cube):
    job = live.mos.scheduler.enqueue("archive", cube.id)
    jobs, total = alice.list_jobs(cube_id=cube.id)
    assert job.id in [j.id for j in jobs] and total >= 1
    assert alice.get_job(job.id).state == "pending"
    assert job.id in [j.id for j in admin.list_jobs(state="pending")[0]]
    with pytest.raises(NotFound):
        bob.get_job(job.id)
    with pytest.raises(NotFound):
        bob.list_jobs(cube_id=cube.id)
    with pytest.raises(InvalidInput):
        alice.list_jobs()
    assert alice.cancel_job(job.id).state == "cancelled"
    system_job = live.mos.scheduler.enqueue("archive", None)
    with pytest.raises(NotFound):
        alice.get_job(system_job.id)
    admin.cancel_job(system_job.id)


def test_metrics_report_kv_tiers_and_job_counts(live):
    with live.http(ADMIN_KEY) as http:
        text = http.get("/metrics").text
    assert 'memos_kv_bytes{tier="device"}' in text and 'memos_kv_hits{tier="disk"}' in text
    assert 'memos_jobs{state="pending"}' in text
    assert 'memos_model_requests{state="queued"}' in text
    assert 'memos_decode{counter="tokens_generated"}' in text
