"""Export ledger: which archives this home wrote, so a forget check can look inside them.

Every ``MemOS.export_cube`` appends one line (cube id, path, time) to ``exports.jsonl`` in the
home folder. ``scan`` opens the archives that still exist and lists the members that hold a
forgotten memory id or text. A copy that was downloaded or moved elsewhere is out of reach;
the ledger only says that it was written.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

LEDGER = "exports.jsonl"
MAX_MEMBER_BYTES = 64 << 20  # members larger than this are not read (adapter weights)


class ExportLedger:
    """The archives one home folder wrote, by cube."""

    def __init__(self, home: Path) -> None:
        self._path = Path(home) / LEDGER

    def record(self, cube_id: str, archive: Path) -> None:
        """Remember that ``archive`` holds a copy of the cube."""
        line = {"cube_id": cube_id, "path": str(Path(archive).resolve()), "at": time.time()}
        with self._path.open("a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(line) + "\n")

    def archives(self, cube_id: str) -> list[Path]:
        """Paths of the cube's recorded archives (newest record first, each once)."""
        if not self._path.exists():
            return []
        paths = []
        for line in self._path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line
            if isinstance(entry, dict) and entry.get("cube_id") == cube_id:
                paths.append(Path(entry["path"]))
        return list(dict.fromkeys(reversed(paths)))

    def scan(self, cube_id: str, item_ids: Sequence[str], texts: Sequence[str]) -> list[dict]:
        """One entry per recorded archive: ``found`` members quoting the notes, or ``gone``."""
        needles = _needles(item_ids, texts)
        return [scan_archive(path, needles) for path in self.archives(cube_id)]


def scan_archive(path: Path, needles: Sequence[str]) -> dict:
    """Which members of one archive contain any of ``needles`` (``exists`` false if gone)."""
    if not path.exists():
        return {"file": str(path), "exists": False, "members": []}
    members = []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.file_size > MAX_MEMBER_BYTES or info.is_dir():
                    continue
                body = archive.read(info).decode("utf-8", errors="ignore")
                if any(needle in body for needle in needles):
                    members.append(info.filename)
    except (zipfile.BadZipFile, OSError) as error:
        return {"file": str(path), "exists": True, "members": [], "error": str(error)}
    return {"file": str(path), "exists": True, "members": members}


def _needles(item_ids: Sequence[str], texts: Sequence[str]) -> list[str]:
    """Ids as they are, texts both raw and as JSON writes them inside a string."""
    needles = [item_id for item_id in item_ids if item_id]
    for text in texts:
        if text.strip():
            needles += [text, json.dumps(text)[1:-1]]
    return list(dict.fromkeys(needles))
