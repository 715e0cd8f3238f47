"""The checksum manifest of an adapter folder: an XXH3-64 per file, checked when read back.

It guards against corruption (a flipped bit, a truncated copy), not tampering: XXH3 runs at
memory speed, as for KV files. An adapter folder without a manifest is treated as damaged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import xxhash

from storage.errors import CorruptBlob

CHECKSUM_FILE = "memos_checksums.json"
FORMAT = "memos-adapter-checksums"


def checksum(data: bytes) -> str:
    """``xxh3_64:<hex>`` of some bytes."""
    return f"xxh3_64:{xxhash.xxh3_64_hexdigest(data)}"


def file_checksums(contents: Mapping[str, bytes]) -> dict:
    """The manifest of files about to be written: name -> checksum (and byte size)."""
    return {"format": FORMAT, "files": {
        name: {"checksum": checksum(data), "bytes": len(data)} for name, data in contents.items()}}


def read_verified(folder: Path, names: Iterable[str], adapter_id: str) -> dict[str, bytes]:
    """The bytes of these files of the folder, each checked against the manifest.

    Raises CorruptBlob naming the first file that is missing, truncated or damaged.
    """
    manifest = _manifest(folder, adapter_id)
    return {name: _checked(folder, name, manifest.get(name), adapter_id) for name in names}


def manifest_checksum(folder: Path, name: str, adapter_id: str) -> str:
    """The checksum the manifest records for one file (CorruptBlob when it records none)."""
    entry = _manifest(folder, adapter_id).get(name)
    if not isinstance(entry, dict) or not isinstance(entry.get("checksum"), str):
        raise CorruptBlob(f"adapter {adapter_id}: {name} is not in its checksum manifest")
    return entry["checksum"]


def _checked(folder: Path, name: str, expected, adapter_id: str) -> bytes:
    if not isinstance(expected, dict):
        raise CorruptBlob(f"adapter {adapter_id}: {name} is not in its checksum manifest")
    try:
        data = (folder / name).read_bytes()
    except OSError as error:
        raise CorruptBlob(f"adapter {adapter_id}: {name} cannot be read ({error})") from error
    if len(data) != expected.get("bytes"):
        raise CorruptBlob(f"adapter {adapter_id}: {name} is truncated or padded "
                          f"({len(data)} bytes, {expected.get('bytes')} expected)")
    if checksum(data) != expected.get("checksum"):
        raise CorruptBlob(f"adapter {adapter_id}: {name} fails its checksum (damaged file)")
    return data


def _manifest(folder: Path, adapter_id: str) -> dict:
    try:
        manifest = json.loads((folder / CHECKSUM_FILE).read_bytes())
        files = manifest["files"] if manifest.get("format") == FORMAT else None
    except FileNotFoundError:
        raise CorruptBlob(f"adapter {adapter_id} has no checksum manifest; distill it again") \
            from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptBlob(f"adapter {adapter_id}: unreadable {CHECKSUM_FILE}") from error
    if not isinstance(files, dict):
        raise CorruptBlob(f"adapter {adapter_id}: {CHECKSUM_FILE} is not a checksum manifest")
    return files
