"""Blob files under the home folder: atomic writes, SHA-256 recorded in SQL, verified on read."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import delete, select

from storage.atomic import atomic_write
from storage.clock import Clock, SystemClock
from storage.database import Database
from storage.errors import CorruptBlob, NotFound
from storage.schema import BlobRow


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files addressed by a relative path, each with its checksum recorded in SQL."""

    def __init__(self, root: Path, database: Database, clock: Clock | None = None) -> None:
        self.root = Path(root)
        self._database = database
        self._clock = clock or SystemClock()

    def put(self, relative: str, data: bytes) -> str:
        """Store bytes at ``relative``; returns their checksum."""
        checksum = sha256_of(data)
        atomic_write(self._path(relative), data)
        row = BlobRow(path=relative, sha256=checksum, size=len(data), created_at=self._clock.now())
        with self._database.session() as session:
            session.merge(row)
        return checksum

    def get(self, relative: str) -> bytes:
        """The bytes at ``relative``, after checking them against the recorded checksum."""
        with self._database.session() as session:
            row = session.get(BlobRow, relative)
        if row is None:
            raise NotFound(f"no blob {relative!r}")
        path = self._path(relative)
        if not path.is_file():
            raise CorruptBlob(f"blob {relative!r} is recorded but its file is missing")
        data = path.read_bytes()
        if len(data) != row.size or sha256_of(data) != row.sha256:
            raise CorruptBlob(f"blob {relative!r} does not match its recorded checksum")
        return data

    def exists(self, relative: str) -> bool:
        """Whether a blob is recorded at ``relative``."""
        with self._database.session() as session:
            return session.get(BlobRow, relative) is not None

    def delete(self, relative: str) -> None:
        """Forget a blob and remove its file."""
        with self._database.session() as session:
            session.execute(delete(BlobRow).where(BlobRow.path == relative))
        self._path(relative).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> list[str]:
        """Recorded blob paths starting with ``prefix``."""
        with self._database.session() as session:
            rows = session.scalars(select(BlobRow.path).where(BlobRow.path.startswith(prefix)))
            return sorted(rows)

    def _path(self, relative: str) -> Path:
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents:
            raise CorruptBlob(f"blob path {relative!r} escapes the blob folder")
        return path
