"""Blob files: checksums recorded in SQL, damage detected and reported instead of loaded."""

from __future__ import annotations

import pytest

from storage.blobs import BlobStore, sha256_of
from storage.database import Database, sqlite_url
from storage.errors import CorruptBlob, NotFound

PAYLOAD = b"\x00\x01adapter weights\xff" * 64


@pytest.fixture
def blobs(database_url, tmp_path) -> BlobStore:
    database = Database(database_url or sqlite_url(tmp_path))
    database.migrate()
    yield BlobStore(tmp_path / "blobs", database)
    database.close()


def test_blob_round_trips_with_its_checksum(blobs):
    assert blobs.put("cubes/c1/adapter.safetensors", PAYLOAD) == sha256_of(PAYLOAD)
    assert blobs.get("cubes/c1/adapter.safetensors") == PAYLOAD
    assert blobs.exists("cubes/c1/adapter.safetensors")
    assert blobs.list("cubes/c1/") == ["cubes/c1/adapter.safetensors"]


def test_blob_with_a_flipped_byte_is_reported_not_loaded(blobs):
    blobs.put("kv/chunk.safetensors", PAYLOAD)
    path = blobs.root / "kv/chunk.safetensors"
    damaged = bytearray(path.read_bytes())
    damaged[10] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(CorruptBlob, match="kv/chunk.safetensors.*checksum"):
        blobs.get("kv/chunk.safetensors")


def test_truncated_blob_is_reported_not_loaded(blobs):
    blobs.put("kv/chunk.safetensors", PAYLOAD)
    path = blobs.root / "kv/chunk.safetensors"
    path.write_bytes(PAYLOAD[:-1])
    with pytest.raises(CorruptBlob):
        blobs.get("kv/chunk.safetensors")


def test_recorded_blob_whose_file_vanished_is_reported(blobs):
    blobs.put("kv/chunk.safetensors", PAYLOAD)
    (blobs.root / "kv/chunk.safetensors").unlink()
    with pytest.raises(CorruptBlob, match="missing"):
        blobs.get("kv/chunk.safetensors")


def test_overwriting_a_blob_records_the_new_checksum(blobs):
    blobs.put("a.bin", PAYLOAD)
    blobs.put("a.bin", b"second version")
    assert blobs.get("a.bin") == b"second version"


def test_unknown_and_deleted_blobs_are_not_found(blobs):
    with pytest.raises(NotFound):
        blobs.get("never/written.bin")
    blobs.put("gone.bin", PAYLOAD)
    blobs.delete("gone.bin")
    assert not (blobs.root / "gone.bin").exists() and not blobs.exists("gone.bin")
    with pytest.raises(NotFound):
        blobs.get("gone.bin")


def test_blob_path_cannot_escape_the_blob_folder(blobs):
    with pytest.raises(CorruptBlob, match="escapes"):
        blobs.put("../outside.bin", PAYLOAD)
    assert not (blobs.root.parent / "outside.bin").exists()


def test_write_leaves_no_temp_files_behind(blobs):
    blobs.put("dir/a.bin", PAYLOAD)
    assert [p.name for p in (blobs.root / "dir").iterdir()] == ["a.bin"]
