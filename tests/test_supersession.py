"""A newer note supersedes an older one: current facts rank first, as-of reads see the past."""

from datetime import UTC, datetime

import pytest

from memos import MemOS
from memos.errors import InvalidInput, NotFound

LISBON = {"text": "Ana lives in Lisbon.", "event_time": datetime(2023, 1, 10, tzinfo=UTC)}
BERLIN_TEXT = "Ana moved to Berlin."
MOVED_AT = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def mos(tmp_path, embedder):
    with MemOS(home=tmp_path / "home", embedder=embedder) as mos:
        yield mos


@pytest.fixture
def cube(mos):
    cube = mos.create_cube("ana", owner="alice")
    cube.add_many([LISBON, {"text": "Ana plays the cello in an orchestra."}])
    return cube


def lisbon_of(cube):
    return next(item for item in cube.list()[0] if "Lisbon" in item.text)


def test_superseding_note_ranks_first_and_marks_the_old_one(cube):
    old = lisbon_of(cube)
    new = cube.add(BERLIN_TEXT, event_time=MOVED_AT, supersedes=old.id)
    hits = cube.search("Where does Ana live?", k=3)
    assert hits[0].item.id == new.id
    superseded = next(hit for hit in hits if hit.item.id == old.id)
    assert superseded.why["superseded_by"] == new.id
    assert superseded.item.valid_to == MOVED_AT
    assert [h.item.id for h in cube.search("Ana lives", k=3, current_only=True)
            ].count(old.id) == 0


def test_as_of_before_the_move_sees_the_old_fact_only(cube):
    old = lisbon_of(cube)
    new = cube.add(BERLIN_TEXT, event_time=MOVED_AT, supersedes=old.id)
    before = [h.item.id for h in cube.search("Where does Ana live?", k=3,
                                               as_of=datetime(2024, 1, 1, tzinfo=UTC))]
    after = [h.item.id for h in cube.search("Where does Ana live?", k=3,
                                              as_of=datetime(2025, 1, 1, tzinfo=UTC))]
    assert old.id in before and new.id not in before
    assert new.id in after and old.id not in after


def test_superseded_note_keeps_its_history(cube):
    old = lisbon_of(cube)
    new = cube.add(BERLIN_TEXT, event_time=MOVED_AT, supersedes=old.id)
    history = cube.history(old.id)
    assert history[-1].event == "superseded"
    assert history[-1].changes["superseded_by"] == [None, new.id]
    assert cube.get(old.id).text == LISBON["text"]


def test_update_can_supersede_and_bad_ids_store_nothing(cube):
    old = lisbon_of(cube)
    other = cube.add("Ana is thinking about moving.")
    cube.update(other.id, text=BERLIN_TEXT, supersedes=old.id)
    assert cube.get(old.id).superseded_by == other.id
    before = cube.list()[1]
    with pytest.raises(NotFound):
        cube.add("Ana moved to Paris.", supersedes="0" * 32)
    with pytest.raises(InvalidInput):
        cube.add("Ana moved to Rome.", supersedes=7)
    assert cube.list()[1] == before


def test_multi_cube_search_ranks_current_first(mos, cube):
    old = lisbon_of(cube)
    new = cube.add(BERLIN_TEXT, event_time=MOVED_AT, supersedes=old.id)
    hits = mos.search("Where does Ana live? Lisbon", cube_ids=[cube.id], k=3)
    ids = [hit.item.id for hit in hits]
    assert ids.index(new.id) < ids.index(old.id)


def test_detected_updates_supersede_only_when_the_cube_opts_in(mos):
    plain = mos.create_cube("plain", owner="alice")
    opted = mos.create_cube("opted", owner="alice", settings={"detect_updates": True})
    for cube in (plain, opted):
        cube.add("I live in Lisbon.")
        cube.add("I work at a bakery.")
        cube.add("I moved to Berlin.")
    assert all(item.superseded_by is None for item in plain.list()[0])
    superseded = [item for item in opted.list()[0] if item.superseded_by]
    assert [item.text for item in superseded] == ["I live in Lisbon."]
    assert "detected update" in opted.history(superseded[0].id)[-1].reason
