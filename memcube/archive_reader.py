"""Bounded reading of an untrusted ``.memcube`` zip: sizes are checked before anything inflates."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.errors import InvalidInput, TooLarge

MANIFEST = "manifest.json"


@dataclass(slots=True, frozen=True)
class ArchiveLimits:
    """What one archive may hold once inflated."""

    max_members: int = 10_000
    max_total_bytes: int = 1 << 30
    max_member_bytes: int = 512 << 20
    max_manifest_bytes: int = 1 << 20
    max_ratio: float = 200.0  # inflated size over compressed size, per member
    max_line_bytes: int = 4 << 20
    max_rows: int = 1_000_000

    def __post_init__(self) -> None:
        if min(self.max_members, self.max_total_bytes, self.max_member_bytes,
               self.max_manifest_bytes, self.max_line_bytes, self.max_rows) < 1:
            raise ValueError("archive limits must be positive")
        if self.max_ratio < 1:
            raise ValueError("max_ratio must be at least 1")


class ArchiveReader:
    """An opened archive whose member table was checked against ``limits``."""

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile):
            raise InvalidInput("not a memos cube archive (not a readable zip file)") from None
        try:
            self._members = _checked_members(self._zip, limits)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()

    @property
    def names(self) -> list[str]:
        """Every file member's name, in archive order."""
        return list(self._members)

    def has(self, name: str) -> bool:
        """Whether the archive holds a file member of this name."""
        return name in self._members

    def manifest(self) -> dict:
        """The manifest as a JSON object (InvalidInput when missing, too large or not one)."""
        if MANIFEST not in self._members:
            raise InvalidInput("not a memos cube archive (no manifest.json)")
        if self._members[MANIFEST].file_size > self.limits.max_manifest_bytes:
            raise TooLarge(f"manifest.json is larger than {self.limits.max_manifest_bytes} bytes")
        try:
            manifest = json.loads(self.read(MANIFEST))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise InvalidInput("not a memos cube archive (manifest.json is not JSON)") from None
        if not isinstance(manifest, dict):
            raise InvalidInput("not a memos cube archive (manifest.json is not an object)")
        return manifest

    def read(self, name: str) -> bytes:
        """A whole member (its inflated size was checked when the archive was opened)."""
        try:
            return self._zip.read(self._members[name])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise InvalidInput(f"archive member {name!r} is damaged") from None

    def rows(self, name: str) -> Iterator[tuple[int, dict]]:
        """The JSON objects of a JSON-lines member with their line numbers (none if absent)."""
        if name not in self._members:
            return
        try:
            with self._zip.open(self._members[name]) as raw:
                yield from _json_lines(io.BufferedReader(raw), name, self.limits)
        except (zipfile.BadZipFile, OSError, EOFError):
            raise InvalidInput(f"archive member {name!r} is damaged") from None


def _checked_members(archive: zipfile.ZipFile, limits: ArchiveLimits) -> dict[str, zipfile.ZipInfo]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > limits.max_members:
        raise TooLarge(f"the archive has more than {limits.max_members} members")
    total = 0
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in members:
            raise InvalidInput(f"archive member {info.filename!r} appears twice")
        _check_member_size(info, limits)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise TooLarge(f"the archive inflates to more than {limits.max_total_bytes} bytes")
        members[info.filename] = info
    return members


def _check_member_size(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    # zipfile never inflates a member past its declared size, so checking it here is enough.
    if info.file_size > limits.max_member_bytes:
        raise TooLarge(f"archive member {info.filename!r} inflates to more than "
                       f"{limits.max_member_bytes} bytes")
    if info.file_size > 4096 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise TooLarge(f"archive member {info.filename!r} is compressed more than "
                       f"{limits.max_ratio:g}:1 (a zip bomb?)")


def _json_lines(stream: io.BufferedReader, name: str,
                limits: ArchiveLimits) -> Iterator[tuple[int, dict]]:
    for number in range(1, limits.max_rows + 2):
        line = stream.readline(limits.max_line_bytes + 1)
        if not line:
            return
        if number > limits.max_rows:
            raise TooLarge(f"{name} has more than {limits.max_rows} rows")
        if len(line) > limits.max_line_bytes:
            raise TooLarge(f"{name} line {number} is longer than {limits.max_line_bytes} bytes")
        if line.strip():
            yield number, _json_object(line, name, number)


def _json_object(line: bytes, name: str, number: int) -> dict:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidInput(f"{name} line {number} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} line {number} is not a JSON object")
    return value
