"""A hostile archive uploaded over HTTP touches nothing but the importer's new cube."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from archive_members import members_of, write_archive


def upload(http, path: Path, **params):
    return http.post("/v1/cubes/import", content=path.read_bytes(), params=params,
                     headers={"Content-Type": "application/octet-stream"})


@pytest.fixture
def bob_archive(bob, tmp_path) -> dict[str, bytes]:
    """The members of an archive of a cube Bob made (then deleted)."""
    cube = bob.create_cube("bob-bait")
    cube.add("Bob collects old maps.")
    path = cube.export(tmp_path / "bait.memcube")
    bob.delete_cube(cube.id)
    return members_of(path)


def test_archive_cube_id_dot_dot_cannot_delete_the_home(live, alice, bob_key, bob_archive,
                                                        tmp_path):
    victim = alice.create_cube("alice-precious")
    victim.add("Alice's recovery code is in the safe.")
    manifest = json.loads(bob_archive["manifest.json"])
    manifest["cube"]["id"] = ".."
    bob_archive["manifest.json"] = json.dumps(manifest).encode()
    with live.http(bob_key) as http:
        response = upload(http, write_archive(tmp_path / "dots.memcube", bob_archive))
        assert response.status_code == 201, response.text
        imported = response.json()["id"]
        assert imported != ".." and imported.isalnum()
        assert http.delete("/v1/cubes/%2e%2e").status_code == 404
        assert http.delete("/v1/cubes/..").status_code in (404, 405)
        assert http.delete(f"/v1/cubes/{imported}").status_code == 204
    assert (live.home / "memos.db").exists() and (live.home / "cubes").is_dir()
    assert victim.list()[1] == 1
    alice.delete_cube(victim.id)


def test_archive_rows_aimed_at_another_tenant_stay_in_the_importers_cube(
        live, alice, bob_key, bob_archive, tmp_path):
    victim = alice.create_cube("alice-notes")
    note = victim.add("Alice's locker number is 42.")
    rows = [json.loads(line) for line in bob_archive["items.jsonl"].decode().splitlines()]
    rows[0].update(cube_id=victim.id, id=note.id, text="Injected by Bob.")
    bob_archive["items.jsonl"] = "".join(json.dumps(row) + "\n" for row in rows).encode()
    with live.http(bob_key) as http:
        response = upload(http, write_archive(tmp_path / "aimed.memcube", bob_archive))
        assert response.status_code == 201, response.text
        http.delete(f"/v1/cubes/{response.json()['id']}")
    items, count = victim.list()
    assert count == 1 and items[0].text == "Alice's locker number is 42."
    assert [h.event for h in victim.history(note.id)] == ["created"]
    alice.delete_cube(victim.id)


def test_adapter_path_in_an_archive_cannot_export_home_files(live, bob_key, bob_archive,
                                                             tmp_path):
    adapter = {"id": "a1", "cube_id": "x", "fingerprint": "f", "path": ".", "items": {},
               "steps": 1, "final_loss": None, "size": 1, "stale": False,
               "created_at": {"$dt": "2024-01-01T00:00:00+00:00"}}
    bob_archive["adapters.jsonl"] = (json.dumps(adapter) + "\n").encode()
    with live.http(bob_key) as http:
        response = upload(http, write_archive(tmp_path / "path.memcube", bob_archive))
        assert response.status_code == 201, response.text
        cube_id = response.json()["id"]
        exported = http.get(f"/v1/cubes/{cube_id}/export")
        assert exported.status_code == 200
        (tmp_path / "out.memcube").write_bytes(exported.content)
        names = members_of(tmp_path / "out.memcube")
        assert not [name for name in names if name.startswith("files/")]
        assert not [name for name in names if "memos.db" in name or "admin.key" in name]
        http.delete(f"/v1/cubes/{cube_id}")


def test_member_aimed_at_the_database_is_refused(live, bob_key, bob_archive, tmp_path):
    bob_archive["files/../memos.db"] = b"overwritten"
    before = (live.home / "memos.db").stat().st_size
    with live.http(bob_key) as http:
        response = upload(http, write_archive(tmp_path / "db.memcube", bob_archive))
    assert response.status_code == 400
    assert "belongs to no adapter" in response.json()["error"]["message"]
    assert (live.home / "memos.db").stat().st_size >= before


def peak_rss_reset() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def test_archive_inflating_to_a_gibibyte_is_refused_before_inflating(live, bob_key, tmp_path):
    bomb = tmp_path / "bomb.memcube"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("manifest.json", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            for _ in range(1024):
                member.write(block)
    assert bomb.stat().st_size < 4 << 20
    peak_rss_reset()
    baseline = peak_rss_bytes()
    with live.http(bob_key) as http:
        response = upload(http, bomb)
    assert response.status_code == 413, response.text
    assert "compressed more than" in response.json()["error"]["message"]
    assert peak_rss_bytes() - baseline < 100 << 20
    assert str(tmp_path) not in response.text and "memos-import-" not in response.text
