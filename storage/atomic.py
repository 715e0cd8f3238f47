"""Replacing a file in one step: a crash leaves the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from storage.write_failures import storage_errors


def write_replacing(path: Path, data: bytes | bytearray) -> None:
    """Write beside ``path``, fsync, rename over it and fsync the folder; an OSError leaves no
    temporary file behind (callers that treat the file as a cache catch it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes | bytearray) -> None:
    """Like ``write_replacing``, for files that must be stored: a full or read-only disk is
    StorageFull (507 at the API)."""
    with storage_errors():
        write_replacing(path, data)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
