"""Forgetting and supersession over HTTP: the forget check, supersedes, as-of and current-only
search, and another tenant's cube answering 404."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memos.errors import NotFound


@pytest.fixture()
def cube(alice, request):
    cube = alice.create_cube(f"forget-{request.node.name}"[:100])
    yield cube
    alice.delete_cube(cube.id)


def test_supersession_through_the_sdk(cube):
    old = cube.add("Ana lives in Lisbon.", event_time=datetime(2023, 1, 1, tzinfo=UTC))
    new = cube.add("Ana moved to Berlin.", event_time=datetime(2024, 5, 1, tzinfo=UTC),
                   supersedes=old.id)
    hits = cube.search("Where does Ana live?", k=2)
    assert hits[0].item.id == new.id
    assert hits[1].why["superseded_by"] == new.id and hits[1].item.superseded_by == new.id
    assert [h.item.id for h in cube.search("Where does Ana live?", k=2, current_only=True)
            ] == [new.id]
    past = cube.search("Where does Ana live?", k=2, as_of=datetime(2024, 1, 1, tzinfo=UTC))
    assert [h.item.id for h in past] == [old.id]


def test_forget_check_after_a_delete_is_clean(alice, cube):
    item = cube.add("Ana's locker code is 7421.")
    assert not alice.forget_check(cube.id, [item.id], probe_model=False)["clean"]
    cube.delete(item.id)
    report = alice.forget_check(cube.id, [item.id], probe_model=False)
    assert report["clean"] and report["retained"][0]["state"] == "deleted"


def test_another_tenant_gets_404_for_the_forget_check(alice, bob, cube):
    item = cube.add("Ana's bike is blue.")
    with pytest.raises(NotFound):
        bob.forget_check(cube.id, [item.id])
    with pytest.raises(NotFound):
        bob.forget_check("0" * 32, [item.id])


def test_forget_check_asks_search_and_default_chat_over_http(alice, cube):
    item = cube.add("Ana lives in Lisbon.")
    cube.add("Bob's cat is called Mochi.")
    live = alice.forget_check(cube.id, texts=["Ana lives in Lisbon."], probe_model=False)
    assert live["probes"]["reproduced"] and live["probes"]["channels"] == ["search"]
    cube.delete(item.id)
    probes = alice.forget_check(cube.id, [item.id])["probes"]
    assert probes["channels"] == ["search", "chat"] and not probes["reproduced"]
    chat = [a for r in probes["results"] for a in r["answers"] if a["channel"] == "chat"]
    assert len(chat) == len(probes["results"]) and all(a["reply"] is not None for a in chat)
