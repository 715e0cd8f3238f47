"""Two MemOS instances on one database: each one's search sees the other's writes."""

from __future__ import annotations

import pytest

from memos.kernel import MemOS
from memos.settings import Settings


@pytest.fixture
def pair(database_url, embedder, tmp_path):
    """Two MemOS on the same home and database, each with its own in-memory indexes."""
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    first, second = (MemOS(settings=settings, embedder=embedder) for _ in range(2))
    yield first, second
    for mos in (first, second):
        mos.close()


def found(mos, cube_id, query):
    return [hit.item.text for hit in mos.get_cube(cube_id).search(query, k=5)]


def test_a_note_added_in_one_instance_is_found_by_the_other(pair):
    first, second = pair
    cube = first.create_cube("pets")
    cube.add("The dog sleeps in the garden.")
    assert found(second, cube.id, "dog") == ["The dog sleeps in the garden."]
    cube.add("My cat is called Pixel.")
    assert "My cat is called Pixel." in found(second, cube.id, "What is my cat called?")


def test_update_delete_and_purge_in_one_instance_reach_the_other(pair):
    first, second = pair
    cube = first.create_cube("pets")
    kept, changed, gone = (cube.add(text).id for text in (
        "Rex is a brown dog.", "Pixel is a grey cat.", "Nemo is an orange fish."))
    purged = cube.add("Tweety is a yellow bird.").id
    assert len(found(second, cube.id, "pet animal")) == 4
    cube.update(changed, text="Pixel is a black cat.")
    cube.delete(gone)
    cube.purge(purged)
    texts = found(second, cube.id, "pet animal")
    assert sorted(texts) == ["Pixel is a black cat.", "Rex is a brown dog."]
    assert second.get_cube(cube.id).stats()["indexed"] == 2
    assert kept in {hit.item.id for hit in second.get_cube(cube.id).search("dog")}


def test_links_made_in_one_instance_show_in_the_others_graph(pair):
    first, second = pair
    cube = first.create_cube("pets")
    older = cube.add("Pixel the cat likes tuna.")
    second.get_cube(cube.id).search("cat")  # the second opens the cube before the link exists
    newer = cube.add("Pixel the cat likes salmon.")
    assert {link["id"] for link in second.get_cube(cube.id).links(older.id)} == {newer.id}


def test_nothing_changed_costs_no_replay(pair):
    first, second = pair
    cube = first.create_cube("pets")
    cube.add("Rex is a brown dog.")
    view = second.get_cube(cube.id)
    view.search("dog")
    replayed = view._sync.replayed
    view.search("dog")
    view.search("cat")
    assert view._sync.replayed == replayed


def test_saved_index_records_the_change_sequence_it_reflects(pair, tmp_path):
    from memcube.plaintext_index import saved_change_seq

    first, _ = pair
    cube = first.create_cube("pets")
    cube.add("Rex is a brown dog.")
    cube.save_indexes()
    folder = first.cube_dir(cube.id) / "index"
    assert saved_change_seq(folder) == cube._sync.head() > 0


def test_an_instance_replays_the_others_adds_but_not_its_own(pair):
    first, second = pair
    cube = first.create_cube("pets")
    cube.add_many([{"text": "Rex is a brown dog."}, {"text": "Rex the brown dog sleeps a lot."}])
    cube.search("dog")
    assert cube._sync.replayed == 0
    second.get_cube(cube.id).add("Pixel is a grey cat.")
    assert "Pixel is a grey cat." in [hit.item.text for hit in cube.search("cat", k=5)]
    assert cube._sync.replayed > 0


def test_tags_an_older_note_learns_by_a_link_reach_the_index_without_a_replay(pair):
    first, _ = pair
    cube = first.create_cube("pets")
    older = cube.add("My dog Rex is a beagle.")
    cube.add("My dog Rex is a beagle and he is sick.")  # similar enough to evolve the older
    cube.search("dog")
    tags = cube.get(older.id).tags
    assert "health" in tags
    assert cube._index._retriever.note(older.id).tags == tags
    assert cube._sync.replayed == 0
