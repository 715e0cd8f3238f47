"""How full the filesystem of a folder is."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

NEARLY_FULL_FRACTION = 0.05  # less than this share free...
NEARLY_FULL_BYTES = 256 << 20  # ...or less than this many bytes free


@dataclass(slots=True)
class DiskSpace:
    """Free and total bytes of the filesystem holding a folder."""

    free_bytes: int
    total_bytes: int

    @classmethod
    def of(cls, folder: Path) -> DiskSpace:
        """Measure the filesystem that holds ``folder``."""
        usage = shutil.disk_usage(folder)
        return cls(free_bytes=usage.free, total_bytes=usage.total)

    @property
    def nearly_full(self) -> bool:
        """Whether writes are about to be refused: little space left, relatively or at all."""
        return (self.free_bytes < NEARLY_FULL_BYTES
                or self.free_bytes < NEARLY_FULL_FRACTION * self.total_bytes)
