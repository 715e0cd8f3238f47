"""Recognising writes refused by the storage itself: a full disk, a read-only filesystem."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import OperationalError

from storage.errors import StorageBusy, StorageFull

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
BUSY_ERRNOS = {errno.EAGAIN, errno.EBUSY}
# SQLite and PostgreSQL messages for the same conditions (sqlite3 carries no errno).
FULL_MESSAGES = ("database or disk is full", "readonly database", "read-only file system",
                 "no space left on device", "could not extend file", "disk quota exceeded")
BUSY_MESSAGES = ("database is locked", "database table is locked")
NO_ROOM_BYTES = 1 << 20


def refused_write(error: BaseException, folder: Path | None = None) -> StorageFull | None:
    """The project error a storage failure amounts to, or None for any other error. SQLite
    reports some full-disk writes as a plain "disk I/O error": with ``folder`` (where its
    files live) given, that counts as a full disk when the folder's disk has no room left."""
    if isinstance(error, StorageFull):
        return error
    if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
        return StorageFull(f"the write could not be stored: {error.strerror or error}")
    if isinstance(error, OSError) and error.errno in BUSY_ERRNOS:
        return StorageBusy(f"the storage is busy, retry later: {error.strerror or error}")
    if isinstance(error, OperationalError):
        message = str(error.orig or error).lower()
        if any(text in message for text in FULL_MESSAGES):
            return StorageFull(f"the write could not be stored: {error.orig}")
        if any(text in message for text in BUSY_MESSAGES):
            return StorageBusy(f"the database is busy, retry later: {error.orig}")
        if "disk i/o error" in message and folder is not None and _no_room(folder):
            return StorageFull(f"the write could not be stored: the disk is full ({error.orig})")
    return None


def _no_room(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < NO_ROOM_BYTES
    except OSError:
        return False


@contextmanager
def storage_errors(folder: Path | None = None) -> Iterator[None]:
    """Raise StorageFull (or StorageBusy) in place of a full disk's or read-only fs's error."""
    try:
        yield
    except (OSError, OperationalError) as error:
        refused = refused_write(error, folder)
        if refused is None or refused is error:
            raise
        raise refused from error
