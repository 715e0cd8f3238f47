"""Adapter files from an archive: staged under server-chosen names, then published at once."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from memcube.archive_reader import ArchiveReader
from memcube.archive_rows import ArchivedAdapter
from storage.errors import InvalidInput

FILES_PREFIX = "files/"
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_ADAPTER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def adapter_folder(adapters_root: Path, adapter_id: str) -> Path:
    """The folder of a stored adapter, derived from its server-generated id."""
    if not _ADAPTER_ID.fullmatch(adapter_id):
        raise InvalidInput(f"invalid adapter id {adapter_id[:80]!r}")
    return Path(adapters_root) / adapter_id


class AdapterFiles:
    """Which archive member becomes which file of which new adapter folder."""

    def __init__(self, root: Path, new_ids: dict[str, str],
                 members: list[tuple[str, str, str]]) -> None:
        self.root = Path(root)
        self.new_ids = new_ids  # archive adapter id -> fresh id
        self._members = members  # (member, fresh adapter id, file name)
        self._staging = self.root / f".partial-import-{uuid.uuid4().hex}"

    @classmethod
    def plan(cls, archive: ArchiveReader, adapters: list[ArchivedAdapter],
             root: Path) -> AdapterFiles:
        """Match every ``files/`` member to an adapter row; refuse members that match none."""
        new_ids: dict[str, str] = {}
        folders: dict[str, str] = {}
        for adapter in adapters:
            if adapter.id in new_ids:
                raise InvalidInput(f"adapters.jsonl names adapter {adapter.id!r} twice")
            new_ids[adapter.id] = uuid.uuid4().hex
            folders[f"{FILES_PREFIX}{adapter.path}"] = new_ids[adapter.id]
        members = []
        for name in archive.names:
            if name.startswith(FILES_PREFIX):
                members.append(_placed(name, folders))
        return cls(root, new_ids, members)

    def stage(self, archive: ArchiveReader) -> None:
        """Write every adapter file into a hidden staging folder."""
        for member, adapter_id, file_name in self._members:
            folder = self._staging / adapter_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / file_name).write_bytes(archive.read(member))

    def publish(self) -> None:
        """Move each staged adapter folder to its final place."""
        for folder in sorted(self._staging.iterdir()) if self._staging.is_dir() else []:
            folder.rename(adapter_folder(self.root, folder.name))

    def discard_staging(self) -> None:
        """Remove whatever is left of the staging folder."""
        shutil.rmtree(self._staging, ignore_errors=True)


def _placed(member: str, folders: dict[str, str]) -> tuple[str, str, str]:
    parent, _, file_name = member.rpartition("/")
    adapter_id = folders.get(parent)
    if adapter_id is None:
        raise InvalidInput(f"archive member {member[:200]!r} belongs to no adapter of the archive")
    if not _FILE_NAME.fullmatch(file_name):
        raise InvalidInput(f"archive member {member[:200]!r} has an unusable file name")
    return member, adapter_id, file_name
