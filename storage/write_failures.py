"""Recognising writes refused by the storage itself: a full disk, a read-only filesystem."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

from storage.errors import StorageBusy, StorageFull

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}
BUSY_ERRNOS = {errno.EAGAIN, errno.EBUSY}
# SQLite and PostgreSQL messages for the same conditions (sqlite3 carries no errno).
FULL_MESSAGES = ("database or disk is full", "readonly database", "read-only file system",
                 "no space left on device", "could not extend file", "disk quota exceeded")
BUSY_MESSAGES = ("database is locked", "database table is locked")


def refused_write(error: BaseException) -> StorageFull | None:
    """The project error a storage failure amounts to, or None for any other error."""
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
    return None


@contextmanager
def storage_errors() -> Iterator[None]:
    """Raise StorageFull (or StorageBusy) in place of a full disk's or read-only fs's error."""
    try:
        yield
    except (OSError, OperationalError) as error:
        refused = refused_write(error)
        if refused is None or refused is error:
            raise
        raise refused from error
