"""Every change of a memory leaves a history row, and the past can be read back (as-of)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from memcube.lifecycle import State
from storage.clock import ManualClock
from storage.errors import NotFound

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def clocked(open_memos, clock):
    return open_memos(clock=clock)


@pytest.fixture
def cube(clocked):
    # No similarity links, so no 'evolved' rows from the linker in between.
    return clocked.create_cube("history", settings={"similar_threshold": 1.01})


def test_add_records_a_created_row_at_version_one(cube):
    item = cube.add("Marta keeps bees on the roof of her flat.", actor="marta")
    [created] = cube.history(item.id)
    assert (created.event, created.version, created.changes) == ("created", 1, {})
    assert (created.actor, created.at) == ("marta", START)


def test_each_update_records_old_and_new_values(cube, clock):
    item = cube.add("Marta keeps bees on the roof of her flat.", metadata={"hives": 2})
    clock.advance(hours=1)
    cube.update(item.id, text="Marta keeps bees in her garden.", actor="marta")
    clock.advance(hours=1)
    cube.update(item.id, metadata={"hives": 3}, tags=["bees"])
    history = cube.history(item.id)
    assert [(h.event, h.version) for h in history] == [
        ("created", 1), ("updated", 2), ("updated", 3)]
    assert history[1].changes == {
        "text": ["Marta keeps bees on the roof of her flat.", "Marta keeps bees in her garden."]}
    assert history[1].actor == "marta" and history[1].at == START + timedelta(hours=1)
    assert history[2].changes["metadata"] == [{"hives": 2}, {"hives": 3}]
    assert history[2].changes["tags"][1] == ["bees"]
    assert cube.get(item.id).version == 3


def test_update_that_changes_nothing_records_nothing(cube):
    item = cube.add("Marta keeps bees on the roof of her flat.", metadata={"hives": 2})
    unchanged = cube.update(item.id, text=item.text, metadata={"hives": 2})
    assert unchanged.version == 1
    assert len(cube.history(item.id)) == 1


def test_state_changes_and_merges_are_recorded(clocked, cube):
    keep = cube.add("The bakery on Rua Augusta opens at six.")
    other = cube.add("Fresh bread is sold from six on Rua Augusta.", force=True)
    cube.set_state(keep.id, State.ACTIVATED, actor="scheduler", reason="hot")
    cube.merge(keep.id, [other.id], actor="scheduler", reason="duplicate")
    assert [h.event for h in cube.history(keep.id)] == ["created", "activated"]
    merged = cube.history(other.id)[-1]
    assert merged.event == "merged" and merged.reason == "duplicate"
    assert merged.changes == {"state": ["created", "merged"], "merged_into": [None, keep.id]}
    assert clocked.items.get(other.id).merged_into == keep.id


def test_history_versions_are_contiguous_and_match_the_item(clocked, cube, clock):
    item = cube.add("The tram to Belém runs every twelve minutes.")
    for minutes in (10, 15, 20):
        clock.advance(minutes=1)
        cube.update(item.id, text=f"The tram to Belém runs every {minutes} minutes.")
    cube.archive(item.id)
    history = cube.history(item.id)
    assert [h.version for h in history] == list(range(1, len(history) + 1))
    assert clocked.items.get(item.id).version == history[-1].version


def test_as_of_reads_each_past_version(cube, clock):
    item = cube.add("Ana works at the aquarium.", metadata={"floor": 1}, tags=["work"])
    clock.advance(days=1)
    cube.update(item.id, text="Ana works at the botanical garden.", metadata={"floor": 2})
    clock.advance(days=1)
    cube.archive(item.id)
    first = cube.as_of(item.id, START + timedelta(hours=12))
    assert (first.text, first.metadata, first.version) == ("Ana works at the aquarium.",
                                                           {"floor": 1}, 1)
    assert first.state == State.CREATED and first.tags == ["work"]
    second = cube.as_of(item.id, START + timedelta(days=1))
    assert (second.text, second.version, second.state) == (
        "Ana works at the botanical garden.", 2, State.CREATED)
    now = cube.as_of(item.id, clock.now())
    assert (now.state, now.version) == (State.ARCHIVED, 3)


def test_as_of_before_the_memory_existed_is_not_found(cube):
    item = cube.add("Ana works at the aquarium.")
    with pytest.raises(NotFound):
        cube.as_of(item.id, START - timedelta(seconds=1))


def test_as_of_accepts_naive_and_other_timezone_datetimes(cube, clock):
    item = cube.add("Ana works at the aquarium.")
    clock.advance(hours=2)
    cube.update(item.id, text="Ana works at the library.")
    lisbon_summer = timezone(timedelta(hours=1))
    one_hour_in = (START + timedelta(hours=1)).astimezone(lisbon_summer)
    assert cube.as_of(item.id, one_hour_in).text == "Ana works at the aquarium."
    naive = (START + timedelta(hours=3)).replace(tzinfo=None)
    assert cube.as_of(item.id, naive).text == "Ana works at the library."


def test_history_of_a_purged_memory_is_gone(cube):
    item = cube.add("Ana works at the aquarium.")
    cube.purge(item.id)
    with pytest.raises(NotFound):
        cube.history(item.id)



def test_linking_a_similar_note_records_the_older_notes_new_tags(clocked):
    cube = clocked.create_cube("evolving")
    older = cube.add("Alice moved to Lisbon in May 2023.")
    newer = cube.add("Alice lives in Lisbon with her cat.")
    evolved = cube.history(older.id)[-1]
    assert (evolved.event, evolved.actor, evolved.reason) == (
        "evolved", "memos", f"linked to {newer.id}")
    assert set(evolved.changes["tags"][1]) == set(older.tags) | set(newer.tags)


def test_batch_add_records_each_notes_own_actor(cube):
    first, second = cube.add_many([
        {"text": "Marta keeps bees on the roof of her flat.", "actor": "marta"},
        {"text": "The ferry to Barreiro leaves at midnight.", "actor": "rui"}])
    assert cube.history(first.id)[0].actor == "marta"
    assert cube.history(second.id)[0].actor == "rui"
