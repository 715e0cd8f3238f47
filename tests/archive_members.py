"""Reading and writing the members of ``.memcube`` zip files, for tests that tamper with them."""

from __future__ import annotations

import zipfile
from pathlib import Path


def members_of(path: Path) -> dict[str, bytes]:
    """Every member of an archive by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_archive(path: Path, members: dict[str, bytes | str]) -> Path:
    """Write ``members`` as a deflated zip at ``path``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path
