"""Cubes over HTTP: create, list, read, change, delete, share, export and import."""

from __future__ import annotations

import pytest

from memos.errors import Conflict, NotFound, PermissionDenied


def test_create_list_get_update_delete_a_cube(alice):
    cube = alice.create_cube("lifecycle-cube", description="first", settings={"max_similar": 3})
    assert (cube.owner, cube.info.description, cube.info.settings) == ("alice", "first",
                                                                        {"max_similar": 3})
    assert cube.id in [c.id for c in alice.list_cubes()]
    assert alice.get_cube(cube.id).name == "lifecycle-cube"
    renamed = alice.update_cube(cube.id, name="renamed-cube", description="second")
    assert (renamed.name, renamed.description) == ("renamed-cube", "second")
    alice.delete_cube(cube.id)
    with pytest.raises(NotFound):
        alice.get_cube(cube.id)


def test_duplicate_cube_name_is_a_conflict(alice):
    cube = alice.create_cube("twice")
    try:
        with pytest.raises(Conflict):
            alice.create_cube("twice")
    finally:
        alice.delete_cube(cube.id)


def test_sharing_gives_and_takes_access(alice, bob):
    cube = alice.create_cube("shared-cube")
    try:
        item = cube.add("Shared knowledge: the wifi password is on the fridge.")
        with pytest.raises(NotFound):
            bob.get_cube(cube.id)
        assert alice.share_cube(cube.id, "bob", "read").shares == {"bob": "read"}
        as_bob = bob.get_cube(cube.id)
        assert as_bob.get(item.id).text == item.text
        assert cube.id in [c.id for c in bob.list_cubes()]
        with pytest.raises(PermissionDenied):
            as_bob.add("Bob may not write here.")
        alice.share_cube(cube.id, "bob", "write")
        assert as_bob.add("Now Bob may write here.").provenance.actor == "bob"
        with pytest.raises(PermissionDenied):
            bob.delete_cube(cube.id)
        assert alice.share_cube(cube.id, "bob", None).shares == {}
        with pytest.raises(NotFound):
            bob.get_cube(cube.id)
    finally:
        alice.delete_cube(cube.id)


def test_export_then_import_restores_the_cube(alice, tmp_path):
    cube = alice.create_cube("portable-cube")
    items = cube.add_many([{"text": "Grace speaks Portuguese."}, {"text": "Heidi runs marathons."}])
    archive = cube.export(tmp_path / "portable.memcube")
    assert archive.stat().st_size > 0
    alice.delete_cube(cube.id)
    restored = alice.import_cube(archive)
    try:
        assert restored.id != cube.id and restored.owner == "alice"
        assert sorted(i.text for i in restored.list()[0]) == sorted(i.text for i in items)
        assert restored.search("Who runs marathons?", k=1)[0].item.text == items[1].text
        with pytest.raises(Conflict, match="another name"):
            alice.import_cube(archive)
        copy = alice.import_cube(archive, name="portable copy")
        assert copy.name == "portable copy" and copy.id != restored.id
        alice.delete_cube(copy.id)
    finally:
        alice.delete_cube(restored.id)


def test_cube_stats_count_memories_by_state(alice):
    cube = alice.create_cube("stats-cube")
    try:
        item = cube.add("Ivan collects stamps.")
        cube.archive(item.id)
        assert cube.stats()["items_by_state"] == {"archived": 1}
    finally:
        alice.delete_cube(cube.id)
