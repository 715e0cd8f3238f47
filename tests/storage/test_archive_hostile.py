"""Archives from strangers: every id is remapped, every row checked, files land where memos says."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from archive_members import members_of, write_archive

from memcube.archive import FORMAT, FORMAT_VERSION
from storage.errors import Conflict, InvalidInput, TooLarge

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zip names written twice


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def rows_of(members: dict, name: str) -> list[dict]:
    return [json.loads(line) for line in members[name].decode().splitlines() if line.strip()]


def snapshot_tree(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its size (to prove nothing outside changed)."""
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*"))
            if p.is_file() and "-wal" not in p.name and "-shm" not in p.name}


@pytest.fixture
def homes(open_memos, tmp_path):
    """A victim home with Alice's cube, and an exported archive of an attacker's cube."""
    mos = open_memos(tmp_path / "home")
    alice = mos.create_cube("diary", owner="alice")
    note = alice.add("Alice keeps her passport in the blue drawer.")
    mallory = mos.create_cube("bait", owner="mallory")
    mallory.add("Mallory likes chess.")
    mallory.add("Mallory plays on Tuesdays.")
    archive = tmp_path / "bait.memcube"
    mos.export_cube(mallory.id, archive)
    return mos, alice, note, members_of(archive)


def alice_state(mos, alice) -> dict:
    items, count = alice.list(states=["created", "activated", "archived", "frozen", "merged",
                                      "deleted"], limit=100)
    return {"count": count, "items": [i.to_dict() for i in items],
            "history": {i.id: [h.to_dict() for h in alice.history(i.id)] for i in items}}


@pytest.mark.parametrize("cube_id", ["..", "../../x", "/etc", ".", "cubes", "%2e%2e"])
def test_archive_cube_id_is_never_used(homes, tmp_path, cube_id):
    mos, alice, _, members = homes
    manifest = json.loads(members["manifest.json"])
    manifest["cube"]["id"] = cube_id
    members["manifest.json"] = json.dumps(manifest)
    imported = mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                               name="copy")
    assert imported.id != cube_id and len(imported.id) == 32 and imported.id.isalnum()
    assert imported.owner == "mallory" and imported.list()[1] == 2
    alice.save_indexes()
    imported.save_indexes()
    assert (mos.home / "cubes" / imported.id).is_dir()
    before = snapshot_tree(mos.home / "cubes" / alice.id)
    mos.delete_cube(imported.id, "mallory")
    assert not (mos.home / "cubes" / imported.id).exists()
    assert snapshot_tree(mos.home / "cubes" / alice.id) == before
    assert mos.get_cube(alice.id).list()[1] == 1


def test_archive_cube_id_with_nul_is_refused(homes, tmp_path):
    mos, _, _, members = homes
    manifest = json.loads(members["manifest.json"])
    manifest["cube"]["id"] = "a\u0000b"
    members["manifest.json"] = json.dumps(manifest)
    cubes = mos.list_cubes()
    with pytest.raises(InvalidInput, match="manifest.json cube: id must not contain NUL"):
        mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                        name="copy")
    assert mos.list_cubes() == cubes


def test_rows_naming_another_tenants_cube_and_notes_land_in_the_new_cube(homes, tmp_path):
    mos, alice, note, members = homes
    before = alice_state(mos, alice)
    items = rows_of(members, "items.jsonl")
    history = rows_of(members, "history.jsonl")
    for row in items:
        row["cube_id"] = alice.id
    items[0]["id"] = note.id  # the attacker reuses Alice's note id
    forged = dict(history[0], item_id=note.id, cube_id=alice.id, event="updated",
                  snapshot=dict(history[0]["snapshot"], text="forged"))
    members["items.jsonl"] = jsonl(items)
    members["history.jsonl"] = jsonl([*history, forged])
    imported = mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                               name="copy")
    assert alice_state(mos, alice) == before
    copied, count = imported.list()
    assert count == 2 and note.id not in {item.id for item in copied}
    assert {item.cube_id for item in copied} == {imported.id}


def adapter_row(**fields) -> dict:
    row = {"id": "a1", "cube_id": "whatever", "fingerprint": "f" * 16, "path": "adapters/a1",
           "items": {}, "steps": 1, "final_loss": 0.5, "size": 3, "stale": False,
           "created_at": {"$dt": "2024-01-01T00:00:00+00:00"}}
    return {**row, **fields}


@pytest.mark.parametrize("path", ["../memos.db", ".", "..", "/etc", "cubes", "adapters/../.."])
def test_adapter_path_from_an_archive_is_never_read_or_exported(homes, tmp_path, path):
    mos, _, _, members = homes
    members["adapters.jsonl"] = jsonl([adapter_row(path=path)])
    imported = mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                               name="copy")
    out = tmp_path / "out.memcube"
    mos.export_cube(imported.id, out)
    files = [name for name in members_of(out) if name.startswith("files/")]
    assert files == []
    row = rows_of(members_of(out), "adapters.jsonl")[0]
    assert row["id"] != "a1" and row["path"] == f"adapters/{row['id']}"


def test_adapter_files_land_only_in_the_new_adapters_folder(homes, tmp_path):
    mos, _, _, members = homes
    members["adapters.jsonl"] = jsonl([adapter_row()])
    members["files/adapters/a1/adapter_model.safetensors"] = b"weights"
    members["files/adapters/a1/memos_adapter.json"] = b"{}"
    imported = mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                               name="copy")
    mos.export_cube(imported.id, tmp_path / "o.memcube")
    out = members_of(tmp_path / "o.memcube")
    new_id = rows_of(out, "adapters.jsonl")[0]["id"]
    folder = mos.home / "adapters" / new_id
    assert sorted(p.name for p in folder.iterdir()) == ["adapter_model.safetensors",
                                                      "memos_adapter.json"]
    assert not (mos.home / "adapters" / "a1").exists()
    assert [p.name for p in (mos.home / "adapters").iterdir()] == [new_id]  # no staging left


@pytest.mark.parametrize("member", [
    "files/../escaped.txt", "files/adapters/a1/../../../memos.db", "files//etc/passwd",
    "files/adapters/a1/sub/file", "files/adapters/a1/.hidden", "files/models/weights",
    "files/cubes/other/index/faiss.index", "../outside.txt", "notes.txt"])
def test_files_outside_an_adapter_folder_are_refused(homes, tmp_path, member):
    mos, alice, _, members = homes
    members["adapters.jsonl"] = jsonl([adapter_row()])
    members[member] = b"overwrite"
    before = snapshot_tree(mos.home)
    cubes = mos.list_cubes()
    with pytest.raises(InvalidInput):
        mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory")
    assert mos.list_cubes() == cubes
    assert snapshot_tree(mos.home) == before
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "outside.txt").exists()


BAD_ROWS = [
    ("items.jsonl", {"meta": json.loads('{"a": ' * 40 + "1" + "}" * 40)}, "nested deeper"),
    ("items.jsonl", {"text": "\ud800 lone surrogate"}, "text"),
    ("items.jsonl", {"meta": {"k\ud800": 1}}, "lone surrogate"),
    ("items.jsonl", {"text": "NUL \x00 inside"}, "NUL"),
    ("items.jsonl", {"state": "haunted"}, "state"),
    ("items.jsonl", {"embedding": {"$b64": "AAAA"}}, "dimensions"),
    ("items.jsonl", {"embedding": {"$b64": "not base64!"}}, "items.jsonl line 1"),
    ("items.jsonl", {"created_at": {"$dt": "2023-13-45"}}, "items.jsonl line 1"),
    ("items.jsonl", {"ttl_seconds": -5}, "ttl_seconds"),
    ("items.jsonl", {"surprise": 1}, "surprise"),
    ("history.jsonl", {"snapshot": {"text": "x"}}, "snapshot"),
    ("links.jsonl", {"weight": "heavy"}, "weight"),
]


@pytest.mark.parametrize(("member", "change", "message"), BAD_ROWS)
def test_invalid_rows_are_refused_and_nothing_is_written(homes, tmp_path, member, change,
                                                          message):
    mos, _, _, members = homes
    rows = rows_of(members, member) or [{}]
    rows[0] = {**rows[0], **change}
    members[member] = jsonl(rows)
    cubes = mos.list_cubes()
    with pytest.raises(InvalidInput, match=message):
        mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                        name="copy")
    assert mos.list_cubes() == cubes


@pytest.mark.parametrize("manifest", [
    [], "x", 3, None, {"format": FORMAT}, {"format": FORMAT, "version": "1"},
    {"format": FORMAT, "version": 1.5}, {"format": FORMAT, "version": True},
    {"format": FORMAT, "version": FORMAT_VERSION, "cube": []},
    {"format": FORMAT, "version": FORMAT_VERSION, "cube": {"id": "c"}},
])
def test_malformed_manifest_is_refused_without_server_paths(mos, tmp_path, manifest):
    path = write_archive(tmp_path / "x.memcube", {"manifest.json": json.dumps(manifest)})
    with pytest.raises(InvalidInput) as refused:
        mos.import_cube(path)
    assert str(tmp_path) not in str(refused.value) and "/tmp" not in str(refused.value)


def test_unexpected_member_is_refused(homes, tmp_path):
    mos, _, _, members = homes
    members["secrets.txt"] = "x"
    with pytest.raises(InvalidInput, match="unexpected archive member"):
        mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                        name="copy")


def test_highly_compressed_member_is_refused_before_it_is_inflated(mos, tmp_path):
    path = tmp_path / "bomb.memcube"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("manifest.json", "w") as member:
            for _ in range(64):
                member.write(b" " * (1 << 20))
    assert os.path.getsize(path) < 1 << 20
    with pytest.raises(TooLarge, match="compressed more than"):
        mos.import_cube(path)


def test_name_clash_is_a_conflict_and_a_new_name_imports(homes, tmp_path):
    mos, _, _, members = homes
    path = write_archive(tmp_path / "x.memcube", members)
    with pytest.raises(Conflict, match="already has a cube named 'bait'"):
        mos.import_cube(path, owner="mallory")
    assert mos.import_cube(path, owner="mallory", name="bait 2").name == "bait 2"


def test_version_one_archive_with_kv_rows_imports(homes, tmp_path):
    mos, _, _, members = homes
    manifest = json.loads(members["manifest.json"])
    manifest["version"] = 1
    members["manifest.json"] = json.dumps(manifest)
    members["kv_entries.jsonl"] = jsonl([{"key": "k" * 16, "cube_id": "x", "item_id": "y",
                                          "fingerprint": "f", "tokens": 3,
                                          "created_at": {"$dt": "2024-01-01T00:00:00"}}])
    imported = mos.import_cube(write_archive(tmp_path / "x.memcube", members), owner="mallory",
                               name="old")
    assert imported.list()[1] == 2
