"""The change log keeps changes for a while; an instance that missed pruned ones re-reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from memos.kernel import MemOS
from memos.settings import Settings
from storage import change_log
from storage.clock import ManualClock
from storage.schema import ChangeRow

KEEP_S = 3600.0


@pytest.fixture
def pair(database_url, embedder, tmp_path):
    """Two MemOS on one home and database, sharing a clock that tests move."""
    clock = ManualClock()
    settings = Settings(home=tmp_path / "home", database_url=database_url,
                        change_log_keep_s=KEEP_S)
    first, second = (MemOS(settings=settings, embedder=embedder, clock=clock)
                     for _ in range(2))
    yield first, second, clock
    for mos in (first, second):
        mos.close()


def logged(mos: MemOS, cube_id: str) -> list[tuple[str | None, str]]:
    with mos.database.session() as session:
        return session.execute(select(ChangeRow.item_id, ChangeRow.kind)
                               .where(ChangeRow.cube_id == cube_id)
                               .order_by(ChangeRow.seq)).all()


def texts(mos: MemOS, cube_id: str, query: str) -> list[str]:
    return [hit.item.text for hit in mos.get_cube(cube_id).search(query, k=5)]


def test_pruning_drops_old_changes_but_each_cubes_newest(pair):
    first, _, clock = pair
    pets, books = first.create_cube("pets"), first.create_cube("books")
    pets.add("Rex is a brown dog.")
    pets.add("Pixel is a grey cat.")
    books.add("Dune is a long novel.")
    heads = {cube.id: cube._sync.head() for cube in (pets, books)}
    clock.advance(seconds=KEEP_S + 1)
    fresh = pets.add("Nemo is an orange fish.")

    pruned = change_log.prune(first.database, clock.now() - timedelta(seconds=KEEP_S))

    assert pruned == 2  # the two old pet changes; the book cube's only change is its newest
    assert logged(first, pets.id) == [(fresh.id, change_log.ADDED)]
    assert len(logged(first, books.id)) == 1 and books._sync.head() == heads[books.id]


def test_an_instance_behind_the_pruned_log_re_reads_the_cube(pair):
    first, second, clock = pair
    cube = first.create_cube("pets")
    rex = cube.add("Rex is a brown dog.")
    assert texts(second, cube.id, "dog") == [rex.text]  # the second instance is caught up
    clock.advance(seconds=KEEP_S)
    cat = cube.add("Pixel is a grey cat.")
    cube.delete(rex.id)
    clock.advance(seconds=KEEP_S + 1)
    first.scheduler.tick()  # prunes everything but the cube's newest change (the delete)
    assert logged(first, cube.id) == [(rex.id, change_log.DELETED)]

    assert texts(second, cube.id, "a pet animal") == [cat.text]
    view = second.get_cube(cube.id)
    assert view._sync.resyncs == 1 and view.stats()["indexed"] == 1


def test_an_instance_that_kept_up_replays_without_re_reading(pair):
    first, second, clock = pair
    cube = first.create_cube("pets")
    cube.add("Rex is a brown dog.")
    view = second.get_cube(cube.id)
    for text in ("Pixel is a grey cat.", "Nemo is an orange fish.", "Tweety is a yellow bird."):
        clock.advance(seconds=KEEP_S / 4)
        cube.add(text)
        view.search("dog")
    assert view._sync.resyncs == 0 and view.stats()["indexed"] == 4
