"""Memories over HTTP: add, read, change, retire, purge, list, history, as-of and search."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from memos.errors import IllegalTransition, NotFound


@pytest.fixture()
def cube(alice, request):
    cube = alice.create_cube(f"mem-{request.node.name}"[:100])
    yield cube
    alice.delete_cube(cube.id)


def test_add_then_get_returns_the_stored_memory(cube):
    item = cube.add("Alice moved to Lisbon in May 2023.", metadata={"speaker": "Alice"},
                    tags=["move"])
    got = cube.get(item.id)
    assert (got.id, got.text, got.metadata, got.tags) == (item.id, item.text, {"speaker": "Alice"},
                                                          ["move"])
    assert got.provenance.actor == "alice"
    assert got.state == "created"


def test_batch_add_stores_every_entry(cube):
    items = cube.add_many([{"text": "Bob plays the cello."}, {"text": "Carol grows tomatoes."}])
    assert [i.text for i in items] == ["Bob plays the cello.", "Carol grows tomatoes."]
    assert cube.list()[1] == 2


def test_update_records_a_new_version_and_history(cube):
    item = cube.add("The meeting is on Monday.")
    updated = cube.update(item.id, text="The meeting is on Tuesday.", tags=["meeting"])
    assert (updated.version, updated.text, updated.tags) == (2, "The meeting is on Tuesday.",
                                                              ["meeting"])
    history = cube.history(item.id)
    assert [h.event for h in history] == ["created", "updated"]
    assert history[1].changes["text"] == ["The meeting is on Monday.", "The meeting is on Tuesday."]


def test_as_of_reads_the_text_before_an_update(cube):
    item = cube.add("The office is in Porto.")
    between = datetime.now(UTC)
    time.sleep(0.01)
    cube.update(item.id, text="The office is in Faro.")
    assert cube.as_of(item.id, between).text == "The office is in Porto."
    assert cube.get(item.id).text == "The office is in Faro."


def test_lifecycle_routes_move_states(cube):
    item = cube.add("Dave's birthday is in June.")
    assert cube.archive(item.id).state == "archived"
    assert cube.activate(item.id).state == "activated"
    assert cube.freeze(item.id).state == "frozen"
    with pytest.raises(IllegalTransition):
        cube.archive(item.id)
    assert cube.delete(item.id).state == "deleted"


def test_purge_removes_a_memory_for_good(cube):
    item = cube.add("A secret to forget.")
    cube.purge(item.id)
    with pytest.raises(NotFound):
        cube.get(item.id)


def test_list_filters_by_state_and_tag_and_pages(cube):
    garden = [{"text": f"Note number {n} about gardening.", "tags": ["garden"]} for n in range(5)]
    items = cube.add_many([*garden, {"text": "A note about chess.", "tags": ["chess"]}])
    cube.archive(items[0].id)
    page, total = cube.list(tags=["garden"], limit=2, offset=0)
    assert total == 5 and len(page) == 2
    assert [i.id for i in cube.list(states=["archived"])[0]] == [items[0].id]
    everything = [i.id for i in cube.list(limit=3)[0] + cube.list(limit=3, offset=3)[0]]
    assert sorted(everything) == sorted(i.id for i in items)


def test_search_in_a_cube_finds_the_relevant_memory(cube):
    cube.add_many([{"text": "Alice moved to Lisbon in May 2023."},
                   {"text": "Bob adopted a cat named Miso."}])
    hits = cube.search("Where does Alice live?", k=2)
    assert hits[0].item.text == "Alice moved to Lisbon in May 2023."
    assert hits[0].score >= hits[-1].score


def test_search_across_cubes_merges_hits(alice, cube):
    other = alice.create_cube("second-cube-for-search")
    try:
        cube.add("Erin works as a pilot.")
        other.add("Frank works as a baker.")
        hits = alice.search("Who works as a baker?", cube_ids=[cube.id, other.id], k=2)
        assert {h.item.cube_id for h in hits} == {cube.id, other.id}
        assert "Frank works as a baker." in [h.item.text for h in hits]
    finally:
        alice.delete_cube(other.id)
