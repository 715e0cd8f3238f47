"""Refuses a SQLite home on a network filesystem that a second process tries to open.

SQLite's WAL mode needs shared memory between the processes using one file, and the file
locks of network filesystems are not reliable: two processes on an NFS or SMB home can
corrupt the database. One process there is fine; the second is refused with UnsafeSharing,
unless ``MEMOS_ALLOW_UNSAFE_SHARING=1`` says the operator knows better. Local filesystems
(ext4, xfs, btrfs, tmpfs, overlay...) are never refused.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from storage.errors import UnsafeSharing

OVERRIDE_ENV = "MEMOS_ALLOW_UNSAFE_SHARING"
NETWORK_TYPES = frozenset({"nfs", "nfs4", "cifs", "smb", "smb2", "smbfs", "smb3", "9p",
                           "fuse.sshfs", "sshfs", "afs", "ncpfs", "coda", "glusterfs",
                           "fuse.glusterfs", "ceph", "fuse.ceph", "lustre", "gpfs",
                           "fuse.s3fs", "fuse.rclone", "davfs", "fuse.davfs2"})
LOCK_NAME = ".memos-process.lock"


def filesystem_type(path: Path, mounts: str | None = None) -> str:
    """The filesystem type of the mount holding ``path`` (longest matching mount point)."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text()
        except OSError:
            return "unknown"
    target, best, kind = str(Path(path).resolve()), "", "unknown"
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind


def is_network(kind: str) -> bool:
    """Whether a filesystem type is a network (or remote FUSE) filesystem."""
    return kind in NETWORK_TYPES


def guard_home(folder: Path, mounts: str | None = None) -> IO | None:
    """On a network filesystem, hold the home's process lock for this process's lifetime, or
    raise UnsafeSharing when another process holds it; the open lock file (None elsewhere)."""
    kind = filesystem_type(folder, mounts)
    if not is_network(kind) or os.environ.get(OVERRIDE_ENV) == "1":
        return None
    handle = open(Path(folder) / LOCK_NAME, "a+")  # noqa: SIM115 - held until close
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise UnsafeSharing(
            f"the SQLite home {folder} is on a network filesystem ({kind}) and another process "
            "already uses it: SQLite cannot be shared safely there. Use PostgreSQL "
            "(MEMOS_DATABASE_URL) for several processes, a local folder, or set "
            f"{OVERRIDE_ENV}=1 to take the risk.") from None
    return handle
