"""A cube exported from one home and imported into another comes back item by item."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest

from memcube.archive import FORMAT, FORMAT_VERSION
from memcube.lifecycle import State
from memos import MemOS
from storage.errors import Conflict, InvalidInput, UnsupportedFormat

NOTES = [
    "Alice moved to Lisbon in May 2023.",
    "Alice lives in Lisbon with her cat Miso.",
    "Bob teaches chemistry at the secondary school in Porto.",
    "Bob and Alice met at a chemistry conference in 2019.",
    "The cat Miso only eats salmon on Sundays.",
    "Porto's bridges were designed by several different engineers.",
]


KEPT = [state.value for state in State if state != State.DELETED]


def fill(cube) -> list:
    items = cube.add_many([{"text": text, "metadata": {"n": i}, "session_id": "s1"}
                           for i, text in enumerate(NOTES)])
    cube.add("Alice plays the cello on weekends.", event_time=datetime(2024, 5, 4, tzinfo=UTC),
             ttl_seconds=3600.0, source_type="chat", source_id="msg-7", actor="alice")
    cube.update(items[0].id, text="Alice moved to Lisbon in June 2023.", actor="alice")
    cube.archive(items[5].id)
    cube.freeze(items[4].id)
    cube.merge(items[1].id, [items[3].id])
    cube.delete(items[2].id)
    return items


def everything(mos, cube) -> dict:
    """All that an archive must carry (deleted notes are forgotten), read back through the
    public API."""
    items, _ = cube.list(states=KEPT, limit=1000)
    kept = {item.id for item in items}
    return {
        "info": {k: v for k, v in cube.info.to_dict().items() if k != "shares"},
        "items": [item.to_dict() for item in items],
        "embeddings": {item.id: mos.items.get(item.id).embedding for item in items},
        "history": {item.id: [h.to_dict() for h in cube.history(item.id)] for item in items},
        "links": {item.id: sorted((link for link in cube.links(item.id) if link["id"] in kept),
                                  key=lambda link: link["id"])
                  for item in items},
    }


def remapped(before: dict, id_map: dict[str, str]) -> dict:
    """``before`` with every old id written as the id it was given on import."""
    text = json.dumps(before, default=repr, sort_keys=True)
    for old, new in id_map.items():
        text = text.replace(old, new)
    return json.loads(text)


def sorted_links(links: dict) -> dict:
    return {item_id: sorted(rows, key=lambda link: link["id"]) for item_id, rows in links.items()}


def id_map_of(source_cube, imported_cube) -> dict[str, str]:
    """Old id -> new id, matched by text (the notes' texts are unique)."""
    old, _ = source_cube.list(states=KEPT, limit=1000)
    new, _ = imported_cube.list(states=[state.value for state in State], limit=1000)
    by_text = {item.text: item.id for item in new}
    return {source_cube.id: imported_cube.id, **{item.id: by_text[item.text] for item in old}}


def test_export_then_import_into_another_home_is_equal_item_by_item(open_memos, tmp_path):
    source = open_memos(tmp_path / "a")
    cube = source.create_cube("travel", owner="alice", description="trips",
                              settings={"dedupe_threshold": 0.99})
    fill(cube)
    before = everything(source, cube)
    manifest = source.export_cube(cube.id, tmp_path / "travel.memcube")
    assert manifest["version"] == FORMAT_VERSION and manifest["counts"]["items"] == 6

    target = open_memos(tmp_path / "b", fresh=True)
    imported = target.import_cube(tmp_path / "travel.memcube", owner="alice")
    after = everything(target, imported)
    ids = id_map_of(cube, imported)
    assert set(ids.values()).isdisjoint(ids)  # every id is fresh
    expected = remapped({k: v for k, v in before.items() if k != "embeddings"}, ids)
    assert after["info"] == expected["info"]
    assert after["items"] == expected["items"]
    assert after["history"] == expected["history"]
    assert sorted_links(after["links"]) == sorted_links(expected["links"])
    for item_id, vector in before["embeddings"].items():
        np.testing.assert_array_equal(after["embeddings"][ids[item_id]], vector)


def test_export_after_a_delete_never_carries_the_deleted_note(open_memos, tmp_path):
    source = open_memos(tmp_path / "a")
    cube = source.create_cube("travel", owner="alice")
    items = fill(cube)
    source.export_cube(cube.id, tmp_path / "travel.memcube")
    with zipfile.ZipFile(tmp_path / "travel.memcube") as archive:
        carried = b"".join(archive.read(name) for name in archive.namelist())
    assert NOTES[2].encode() not in carried and items[2].id.encode() not in carried
    assert NOTES[3].encode() in carried  # merged, not deleted: kept


def test_imported_cube_searches_like_the_original(open_memos, tmp_path):
    source = open_memos(tmp_path / "a")
    cube = source.create_cube("travel", owner="alice")
    fill(cube)
    source.export_cube(cube.id, tmp_path / "travel.memcube")
    imported = open_memos(tmp_path / "b", fresh=True).import_cube(tmp_path / "travel.memcube")
    for query in ("Where does Alice live?", "What does the cat eat?"):
        original = [(h.item.text, round(h.score, 6)) for h in cube.search(query, k=5)]
        copied = [(h.item.text, round(h.score, 6)) for h in imported.search(query, k=5)]
        assert copied == original


def test_import_can_hand_the_cube_to_a_new_owner(open_memos, tmp_path):
    source = open_memos(tmp_path / "a")
    cube = source.create_cube("travel", owner="alice")
    cube.add("Alice moved to Lisbon in May 2023.")
    source.export_cube(cube.id, tmp_path / "travel.memcube")
    imported = open_memos(tmp_path / "b", fresh=True).import_cube(
        tmp_path / "travel.memcube", owner="carol")
    assert imported.owner == "carol" and imported.list()[1] == 1


def test_importing_twice_makes_two_cubes_with_their_own_ids(mos, tmp_path):
    cube = mos.create_cube("travel")
    cube.add("Alice moved to Lisbon in May 2023.")
    mos.export_cube(cube.id, tmp_path / "travel.memcube")
    with pytest.raises(Conflict, match="already has a cube named 'travel'"):
        mos.import_cube(tmp_path / "travel.memcube")
    copy = mos.import_cube(tmp_path / "travel.memcube", name="travel (copy)")
    assert copy.id != cube.id and copy.name == "travel (copy)"
    assert copy.list()[0][0].id != cube.list()[0][0].id
    assert cube.list()[1] == 1 and copy.list()[1] == 1


def rewrite_manifest(path, **changes) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = {**json.loads(members["manifest.json"]), **changes}
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_archive_from_a_newer_format_version_is_refused(open_memos, tmp_path):
    source = open_memos(tmp_path / "a")
    cube = source.create_cube("travel")
    cube.add("Alice moved to Lisbon in May 2023.")
    path = tmp_path / "future.memcube"
    source.export_cube(cube.id, path)
    rewrite_manifest(path, version=FORMAT_VERSION + 1)
    target = open_memos(tmp_path / "b", fresh=True)
    with pytest.raises(UnsupportedFormat, match=rf"version {FORMAT_VERSION + 1} is newer.*upgrade"):
        target.import_cube(path)
    assert target.list_cubes() == []


def test_file_that_is_not_an_archive_is_invalid_input(mos, tmp_path):
    path = tmp_path / "notes.memcube"
    path.write_bytes(b"these are not the bytes of a zip file")
    with pytest.raises(InvalidInput):
        mos.import_cube(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something.else", "version": 1}))
    with pytest.raises(InvalidInput, match="not a memos cube archive"):
        mos.import_cube(path)


def test_archive_member_pointing_outside_the_home_is_refused(open_memos, tmp_path):
    source = open_memos(tmp_path / "a")
    cube = source.create_cube("travel")
    cube.add("Alice moved to Lisbon in May 2023.")
    path = tmp_path / "sneaky.memcube"
    source.export_cube(cube.id, path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("files/../escaped.txt", b"outside")
    target = open_memos(tmp_path / "b", fresh=True)
    with pytest.raises(InvalidInput, match="belongs to no adapter"):
        target.import_cube(path)
    assert not (tmp_path / "escaped.txt").exists() and target.list_cubes() == []


def test_damaged_archive_is_refused_and_writes_nothing(tmp_path, embedder):
    archive = tmp_path / "damaged.memcube"
    with zipfile.ZipFile(archive, "w") as bundle:
        when = "2024-01-01T00:00:00"
        cube = {"id": "c1", "name": "x", "created_at": when, "updated_at": when}
        bundle.writestr("manifest.json", json.dumps({"format": FORMAT, "version": FORMAT_VERSION,
                                                     "cube": cube}))
        bundle.writestr("items.jsonl", '{"no_such_column": 1}\n')
    with MemOS(home=tmp_path / "home", embedder=embedder) as mos:
        with pytest.raises(InvalidInput, match="items.jsonl line 1"):
            mos.import_cube(archive, owner="alice")
        assert mos.list_cubes() == []
