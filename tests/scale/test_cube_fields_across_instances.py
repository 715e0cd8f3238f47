"""A cube's name, settings and shares changed through one process are what every other
process serves from its next request on."""

from __future__ import annotations

from memos.kernel import MemOS
from memos.settings import Settings


def test_another_instance_serves_the_cubes_new_name_settings_and_shares(database_url, engine,
                                                                        embedder, tmp_path):
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    first, second = (MemOS(settings=settings, engine=engine, embedder=embedder)
                     for _ in range(2))
    cube = first.create_cube("notes", owner="gina")
    assert second.get_cube(cube.id).info.name == "notes"  # opened (and held) by the second

    first.update_cube(cube.id, name="journal", settings={"dedupe_threshold": 0.5})
    first.share_cube(cube.id, "hank", "read")
    held = second.get_cube(cube.id, user="hank")

    assert held.info.name == "journal" and held.info.shares == {"hank": "read"}
    assert held.settings["dedupe_threshold"] == 0.5
    for mos in (first, second):
        mos.close()
