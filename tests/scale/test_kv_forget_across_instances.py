"""A note deleted or rewritten through one instance leaves the KV another instance holds."""

from __future__ import annotations

import pytest

from memos.kernel import MemOS
from memos.settings import Settings

LISBON = "Ana lives in Lisbon near the old river."
CAT = "Bob's cat is called Mochi."


@pytest.fixture
def pair(database_url, engine, embedder, tmp_path):
    """Two MemOS on one home and database, each with its own KV in memory (two workers)."""
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    first, second = (MemOS(settings=settings, engine=engine, embedder=embedder)
                     for _ in range(2))
    yield first, second
    for mos in (first, second):
        mos.close()


def held(mos: MemOS, text: str) -> list[str]:
    """Keys of the prefix-tree nodes of this instance whose own tokens are the text's chunk."""
    return mos.activation.tree.index.holding(mos.activation.prompts.chunk_ids(text))


def test_a_delete_in_one_instance_drops_the_others_kv_when_it_next_reads(pair):
    first, second = pair
    cube = first.create_cube("people")
    lisbon, cat = (cube.add(text) for text in (LISBON, CAT))
    second.warm(cube.id, [lisbon.id])
    second.warm(cube.id, [cat.id])
    cat_nodes = held(second, CAT)
    assert held(second, LISBON) and cat_nodes

    first.get_cube(cube.id).delete(lisbon.id)
    assert held(second, LISBON)  # the second instance has not looked at the cube since
    second.get_cube(cube.id).search("Where does Ana live?")

    assert held(second, LISBON) == []
    assert all(key in second.activation.cache for key in cat_nodes)  # other notes stay
    assert second.get_cube(cube.id).search("Where does Ana live?")[0].item.id == cat.id


def test_a_rewrite_in_one_instance_drops_the_others_kv_of_the_old_text(pair):
    first, second = pair
    cube = first.create_cube("people")
    lisbon = cube.add(LISBON)
    second.warm(cube.id, [lisbon.id])
    assert held(second, LISBON)

    first.get_cube(cube.id).update(lisbon.id, text="Ana lives in Berlin now.")
    second.get_cube(cube.id).search("Where does Ana live?")

    assert held(second, LISBON) == []
