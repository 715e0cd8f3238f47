"""Plaintext memory through MemCube: attributes, links, filters, duplicates, cross-cube search."""

from datetime import UTC, datetime, timedelta

import pytest

from memcube.lifecycle import State
from memos import MemOS
from memos.errors import NotFound
from storage.clock import ManualClock

NOTES = [
    {"text": "Tom adopted a beagle named Biscuit.", "metadata": {"speaker": "Tom"},
     "tags": ["pet"], "event_time": datetime(2023, 3, 4, tzinfo=UTC)},
    {"text": "Tom lives in Denver with his family.", "metadata": {"speaker": "Tom"},
     "event_time": datetime(2023, 6, 1, tzinfo=UTC)},
    {"text": "Maria ran a half marathon in Lisbon.", "metadata": {"speaker": "Maria"},
     "event_time": datetime(2024, 3, 10, tzinfo=UTC)},
    {"text": "Maria's favourite food is ramen.", "metadata": {"speaker": "Maria"}},
]


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def mos(tmp_path, embedder, clock):
    with MemOS(home=tmp_path / "home", embedder=embedder, clock=clock) as mos:
        yield mos


@pytest.fixture
def cube(mos):
    cube = mos.create_cube("people", owner="alice")
    cube.add_many(NOTES)
    return cube


def ids_of(hits):
    return [hit.item.id for hit in hits]


def texts_of(hits):
    return [hit.item.text for hit in hits]


def test_add_derives_attributes_unless_the_caller_sets_them(cube):
    items, _ = cube.list(limit=10)
    derived = next(i for i in items if i.text.startswith("Tom lives"))
    assert {"tom", "denver"} <= set(derived.keywords)
    assert derived.context
    given = next(i for i in items if i.text.startswith("Tom adopted"))
    assert given.tags == ["pet"]


def test_notes_sharing_an_entity_are_linked(cube):
    items, _ = cube.list(limit=10)
    beagle = next(i for i in items if "beagle" in i.text)
    denver = next(i for i in items if "Denver" in i.text)
    links = cube.links(beagle.id)
    assert denver.id in {link["id"] for link in links}
    assert all(link["kind"] in {"similar", "keyword"} and 0 < link["weight"] <= 1
               for link in links)


CITIES = ["Oslo", "Lima", "Porto", "Quito", "Hanoi", "Dakar", "Perth", "Turin", "Cork", "Riga"]
PETS = ["parrot", "rabbit", "corgi", "husky", "hamster", "ferret", "tortoise", "greyhound"]
NAMES = [a + b for a in ("Ka", "Lo", "Mi", "Ne", "Ru", "So", "Ta", "Vi") for b in ("ran", "tel",
                                                                              "dor", "mis")]
# Other people's homes and pets, so the beagle owner's home is not among the top hits.
FILLER = [f"{name} lives in {CITIES[i % len(CITIES)]}." for i, name in enumerate(NAMES)] + [
    f"{name} adopted a {PETS[i % len(PETS)]}." for i, name in enumerate(NAMES)]


def test_graph_hit_names_the_path_it_was_found_by(cube):
    cube.add_many([{"text": text} for text in FILLER])
    hits = cube.search("Which city is home to the owner of the beagle?", k=10)
    bridged = [hit for hit in hits if "graph" in hit.why]
    assert bridged
    for hit in bridged:
        path, edges = hit.why["graph"]["path"], hit.why["graph"]["edges"]
        assert path[-1] == hit.item.id and len(edges) == len(path) - 1 >= 1
        assert set(edges) <= {"entity", "similar", "keyword"}
    denver = next(hit for hit in hits if "Denver" in hit.item.text)
    assert "graph" in denver.why


def test_hits_say_which_sources_found_them(cube):
    [best, *_] = cube.search("Biscuit the beagle", k=2)
    assert best.item.text.startswith("Tom adopted")
    assert {"dense", "lexical"} <= set(best.why)


def test_tag_and_metadata_filters(cube):
    tagged = cube.search("pets", k=5, tags=["pet"])
    assert texts_of(tagged) == ["Tom adopted a beagle named Biscuit."]
    maria = cube.search("what happened", k=5, metadata={"speaker": "Maria"})
    assert maria and all(hit.item.metadata["speaker"] == "Maria" for hit in maria)


def test_event_time_filters(cube):
    hits = cube.search("what did they do", k=5, event_after=datetime(2024, 1, 1, tzinfo=UTC))
    assert texts_of(hits) == ["Maria ran a half marathon in Lisbon."]
    early = cube.search("what did they do", k=5, event_before=datetime(2023, 12, 31, tzinfo=UTC))
    assert set(texts_of(early)) == {NOTES[0]["text"], NOTES[1]["text"]}


def test_write_time_filters(mos, clock):
    cube = mos.create_cube("diary", owner="alice")
    old = cube.add("I planted tomatoes in the garden.")
    clock.advance(days=10)
    new = cube.add("I planted basil in the garden.")
    cutoff = clock.now() - timedelta(days=1)
    assert ids_of(cube.search("planted", k=5, written_after=cutoff)) == [new.id]
    assert ids_of(cube.search("planted", k=5, written_before=cutoff)) == [old.id]


def test_archived_notes_are_found_only_when_asked(cube):
    [item] = [i for i in cube.list(limit=10)[0] if "ramen" in i.text]
    cube.archive(item.id)
    assert item.id not in ids_of(cube.search("favourite food ramen", k=5))
    asked = cube.search("favourite food ramen", k=5, states=["created", "archived"])
    assert item.id in ids_of(asked)


def test_deleted_notes_are_never_returned(cube):
    [item] = [i for i in cube.list(limit=10)[0] if "ramen" in i.text]
    cube.delete(item.id)
    for states in (None, [s.value for s in State]):
        assert item.id not in ids_of(cube.search("favourite food ramen", k=5, states=states))


def test_near_duplicate_add_returns_the_existing_note_and_counts_an_access(cube):
    first = cube.list(limit=10)[0][-1]
    again = cube.add(first.text)
    assert again.id == first.id
    assert again.access_count == first.access_count + 1
    forced = cube.add(first.text, force=True)
    assert forced.id != first.id


def test_cross_cube_search_covers_only_cubes_the_user_can_read(mos, cube):
    other = mos.create_cube("bob-notes", owner="bob")
    other.add("Bob's beagle is called Pepper.")
    shared = mos.create_cube("bob-shared", owner="bob")
    shared.add("Bob's second beagle is called Waffles.")
    mos.share_cube(shared.id, "alice", "read", user="bob")
    texts = texts_of(mos.search("beagle", k=10, user="alice"))
    assert "Bob's second beagle is called Waffles." in texts
    assert "Bob's beagle is called Pepper." not in texts
    with pytest.raises(NotFound):
        mos.search("beagle", cube_ids=[other.id], k=5, user="alice")
