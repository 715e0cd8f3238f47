"""Quotas hold under concurrent adds from several workers: the check runs inside the add's
transaction, after the cube's write lock, so two adds cannot both take the last place."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text as sql_text

from memos.errors import QuotaExceeded
from memos.kernel import MemOS
from memos.settings import Settings
from storage.schema import ItemRow

ADDERS = 12


@pytest.fixture
def workers(database_url, engine, embedder, tmp_path):
    """Two MemOS on one home and database (two worker processes), small quotas."""
    settings = Settings(home=tmp_path / "home", database_url=database_url,
                        max_memories_per_cube=4, max_bytes_per_user=4000)
    pair = [MemOS(settings=settings, engine=engine, embedder=embedder) for _ in range(2)]
    yield pair
    for mos in pair:
        mos.close()


def add_at_once(workers, cube_ids: list[str], texts: list[str]) -> tuple[int, int]:
    """Add each text from its own thread (alternating workers and cubes), all released
    together; how many adds were stored and how many the quota refused."""
    start = threading.Barrier(len(texts))
    outcomes: list[str] = []

    def add(mos: MemOS, cube_id: str, text: str) -> None:
        cube = mos.get_cube(cube_id)
        start.wait()
        try:
            cube.add(text, force=True)
            outcomes.append("stored")
        except QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=add,
                                args=(workers[n % 2], cube_ids[n % len(cube_ids)], text))
               for n, text in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes.count("stored"), outcomes.count("refused")


def test_concurrent_adds_never_pass_the_memories_per_cube_quota(workers):
    cube = workers[0].create_cube("notes", owner="dana")
    cube.add("Dana keeps bees on the roof.", force=True)
    texts = [f"Note {n}: Dana planted {n} tulips by the gate." for n in range(ADDERS)]

    stored, refused = add_at_once(workers, [cube.id], texts)

    assert (stored, refused) == (3, ADDERS - 3)
    assert workers[1].get_cube(cube.id).stats()["items_by_state"] == {"created": 4}


def test_concurrent_adds_never_pass_the_bytes_per_user_quota(workers):
    first = workers[0].create_cube("first", owner="erin")
    second = workers[1].create_cube("second", owner="erin")
    first.add("x" * 3000, force=True)
    texts = [f"{n:04d}" + "y" * 396 for n in range(ADDERS)]  # 400 bytes each: two fit
    # half of the adds go to each of the owner's two cubes: the per-cube lock is not enough

    stored, refused = add_at_once(workers, [first.id, second.id], texts)

    assert (stored, refused) == (2, ADDERS - 2)
    assert workers[0].items.text_bytes_of_owner("erin") == 3800


def test_adds_to_two_cubes_of_one_owner_wait_for_each_other_on_postgres(database_url, engine,
                                                                        embedder, tmp_path):
    if database_url is None:
        pytest.skip("SQLite lets one writer at a time in: nothing to wait for")
    mos = MemOS(settings=Settings(home=tmp_path / "home", database_url=database_url),
                engine=engine, embedder=embedder)
    first, second = (mos.create_cube(name, owner="fay") for name in ("first", "second"))
    seen: dict[str, object] = {}
    counted = threading.Event()

    def hold_until_the_other_add_waits(holdings) -> None:
        seen["first"] = holdings
        counted.set()
        wait_for_a_waiting_lock(mos.database)  # commits only once the second add is blocked

    adds = [threading.Thread(target=mos.items.insert, args=([note(first.id, "a" * 100)],),
                             kwargs={"limit": hold_until_the_other_add_waits})]
    adds[0].start()
    counted.wait()
    adds.append(threading.Thread(target=mos.items.insert, args=([note(second.id, "b" * 50)],),
                                 kwargs={"limit": lambda holdings: seen.update(second=holdings)}))
    adds[1].start()
    for add in adds:
        add.join()
    mos.close()

    assert seen["first"].owner_text_bytes == 100
    assert seen["second"].owner_text_bytes == 150  # the first add was counted


def note(cube_id: str, text: str) -> ItemRow:
    return ItemRow(cube_id=cube_id, kind="plaintext", text=text, state="created")


def wait_for_a_waiting_lock(database, tries: int = 600) -> None:
    """Return once another PostgreSQL session waits for an advisory lock (polled)."""
    waiting = sql_text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND NOT granted")
    for _ in range(tries):
        if database.read_scalar(waiting):
            return
        time.sleep(0.05)
    raise AssertionError("the other add never waited for the owner's lock")
