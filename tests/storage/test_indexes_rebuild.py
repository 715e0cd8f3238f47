"""FAISS and graph files are derived: lose or damage them and search comes back identical."""

from __future__ import annotations

import pytest

from storage.graph_store import LinkGraph
from storage.vector_index import VectorIndex

NOTES = [
    "Alice moved to Lisbon in May 2023.",
    "Alice lives in Lisbon with her cat Miso.",
    "Bob teaches chemistry at the secondary school in Porto.",
    "Bob and Alice met at a chemistry conference in 2019.",
    "The cat Miso only eats salmon on Sundays.",
    "Porto's bridges were designed by several different engineers.",
    "Carla runs a bakery near the cathedral in Braga.",
    "The bakery in Braga sells custard tarts every morning.",
    "Alice's cello teacher lives in Sintra.",
    "Bob is training for the Lisbon marathon in October.",
]
QUERIES = ["Where does Alice live?", "What does the cat eat?", "Who teaches chemistry?",
           "bakery Braga", "marathon training"]


def build(mos):
    cube = mos.create_cube("city notes")
    items = cube.add_many([{"text": text} for text in NOTES])
    cube.update(items[0].id, text="Alice moved to Lisbon in June 2023.")
    cube.archive(items[5].id)
    cube.merge(items[6].id, [items[7].id])
    cube.delete(items[3].id)
    cube.freeze(items[4].id)
    return cube


def results(cube) -> list:
    return [[(hit.item.id, round(hit.score, 6), sorted(hit.why)) for hit in
             cube.search(query, k=6)] for query in QUERIES]


def index_files(mos, cube_id):
    folder = mos.cube_dir(cube_id) / "index"
    return folder / "vectors.faiss", folder / "graph.json"


def reopen(open_memos, mos, cube_id):
    mos.close()
    again = open_memos(mos.home)
    return again, again.get_cube(cube_id)


def test_reopening_with_saved_indexes_searches_like_the_live_cube(open_memos):
    mos = open_memos()
    cube = build(mos)
    live = results(cube)
    mos, cube = reopen(open_memos, mos, cube.id)
    assert results(cube) == live


def test_deleted_index_files_are_rebuilt_with_identical_search(open_memos):
    mos = open_memos()
    cube = build(mos)
    live, stats = results(cube), cube.stats()
    mos.close()
    for path in index_files(mos, cube.id):
        path.unlink()
    mos, cube = reopen(open_memos, mos, cube.id)
    assert results(cube) == live and cube.stats() == stats
    assert all(path.is_file() for path in index_files(mos, cube.id))


@pytest.mark.parametrize("damage", [b"\x00garbage\xff" * 100, b""], ids=["garbage", "empty"])
def test_damaged_index_files_are_rebuilt_with_identical_search(open_memos, damage):
    mos = open_memos()
    cube = build(mos)
    live, stats = results(cube), cube.stats()
    mos.close()
    for path in index_files(mos, cube.id):
        path.write_bytes(damage)
    mos, cube = reopen(open_memos, mos, cube.id)
    assert results(cube) == live and cube.stats() == stats
    vectors, graph = index_files(mos, cube.id)
    assert len(VectorIndex.load(vectors)) == stats["indexed"]
    assert LinkGraph.load(graph).edge_count == stats["links"]


def test_index_files_older_than_sql_are_not_trusted(open_memos):
    # Index files are saved on close; a crash after a later change leaves them stale.
    mos = open_memos()
    cube = build(mos)
    cube.save_indexes()
    note = cube.list()[0][0]
    cube.update(note.id, text="Carla's bakery closed and she now sells surfboards in Peniche.")
    extra = cube.add("Dario repairs fishing boats in Peniche harbour.")
    cube.delete(extra.id)
    live = results(cube) + [[(h.item.id, round(h.score, 6)) for h in cube.search("surfboards")]]
    crashed_view = open_memos(mos.home).get_cube(cube.id)  # a new process: nothing was saved
    assert results(crashed_view) + [[(h.item.id, round(h.score, 6))
                                     for h in crashed_view.search("surfboards")]] == live
