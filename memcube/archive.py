"""Portable cube archives: a versioned zip of items, history, links, embeddings and adapters.

An archive is untrusted input. Importing one creates a new cube owned by the caller with fresh
server-generated ids; every id inside the archive is only a label that is mapped to a fresh one,
and files land only in folders derived from those fresh ids.
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from memcube.archive_files import AdapterFiles, adapter_folder
from memcube.archive_reader import ArchiveLimits, ArchiveReader
from memcube.archive_rows import ArchivedAdapter, ArchivedCube, decode_row
from memcube.archive_writer import insert_archive
from memcube.item_store import Holdings
from memcube.lifecycle import State
from storage.database import Database
from storage.errors import InvalidInput, UnsupportedFormat
from storage.schema import AdapterRow, CubeRow, ItemHistoryRow, ItemRow, LinkRow
from storage.write_failures import storage_errors

FORMAT = "memos.memcube"
FORMAT_VERSION = 2  # 2: no KV rows (caches are rebuilt on use), adapter files by adapter id
TABLES = {"items": ItemRow, "history": ItemHistoryRow, "links": LinkRow, "adapters": AdapterRow}
OLD_MEMBERS = {"kv_entries.jsonl"}  # written by version 1, ignored on import


@dataclass(slots=True)
class ImportTarget:
    """Where and for whom an archive is imported."""

    owner: str
    adapters_root: Path
    embedding_dim: int
    name: str | None = None
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    quota: Callable[[Holdings], None] | None = None  # raises to refuse the whole import


def export_cube(database: Database, cube_id: str, path: Path, adapters_root: Path) -> dict:
    """Write a cube and everything in it to a ``.memcube`` archive; returns the manifest."""
    with database.session() as session:
        cube = session.get(CubeRow, cube_id)
        tables = without_deleted({
            name: [_row_dict(r) for r in session.scalars(_ordered(table, cube_id))]
            for name, table in TABLES.items()})
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "cube": _row_dict(cube),
                    "counts": {name: len(rows) for name, rows in tables.items()}}
    for adapter in tables["adapters"]:
        adapter["path"] = f"adapters/{adapter['id']}"
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with storage_errors():  # a full disk leaves no half-written archive behind
            path.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                _write_archive(archive, manifest, tables, adapters_root)
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _write_archive(archive: zipfile.ZipFile, manifest: dict, tables: dict,
                   adapters_root: Path) -> None:
    archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    for name, rows in tables.items():
        archive.writestr(f"{name}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    for adapter in tables["adapters"]:
        _add_folder(archive, adapter_folder(adapters_root, adapter["id"]),
                    f"files/{adapter['path']}")


def import_cube(database: Database, path: Path, target: ImportTarget) -> str:
    """Recreate a cube from an archive as a new cube of ``target.owner``; returns its id."""
    with ArchiveReader(Path(path), target.limits) as archive:
        manifest = read_manifest(archive)
        cube = decode_row(ArchivedCube, manifest.get("cube"), "manifest.json cube")
        _refuse_unknown_members(archive)
        adapters = [decode_row(ArchivedAdapter, row, f"adapters.jsonl line {number}")
                    for number, row in archive.rows("adapters.jsonl")]
        files = AdapterFiles.plan(archive, adapters, target.adapters_root)
        try:
            with storage_errors():  # a full disk: nothing committed, staging removed
                files.stage(archive)
                cube_id = insert_archive(database, archive, cube, adapters, files.new_ids,
                                         target)
                files.publish()
        finally:
            files.discard_staging()
    return cube_id


def manifest_of(path: Path, limits: ArchiveLimits | None = None) -> dict:
    """The manifest of an archive file, refusing unknown formats and newer versions."""
    with ArchiveReader(Path(path), limits or ArchiveLimits()) as archive:
        return read_manifest(archive)


def read_manifest(archive: ArchiveReader) -> dict:
    """The archive's manifest, refusing unknown formats and newer versions."""
    manifest = archive.manifest()
    if manifest.get("format") != FORMAT:
        raise InvalidInput("not a memos cube archive (unknown format in manifest.json)")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidInput("manifest.json: version must be a positive integer")
    if version > FORMAT_VERSION:
        raise UnsupportedFormat(
            f"archive format version {version} is newer than this memos understands "
            f"({FORMAT_VERSION}); upgrade memos to import it")
    if not isinstance(manifest.get("cube"), dict):
        raise InvalidInput("manifest.json: cube must be an object")
    return manifest


def _refuse_unknown_members(archive: ArchiveReader) -> None:
    known = {"manifest.json", *(f"{name}.jsonl" for name in TABLES), *OLD_MEMBERS}
    for name in archive.names:
        if name not in known and not name.startswith("files/"):
            raise InvalidInput(f"unexpected archive member {name[:200]!r}")


def without_deleted(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The tables without deleted notes, their history and their links: an export made after
    a delete never carries the forgotten text."""
    gone = {row["id"] for row in tables["items"] if row["state"] == State.DELETED.value}
    return {**tables,
            "items": [row for row in tables["items"] if row["id"] not in gone],
            "history": [row for row in tables["history"] if row["item_id"] not in gone],
            "links": [row for row in tables["links"]
                      if row["source_id"] not in gone and row["target_id"] not in gone]}


def _ordered(table, cube_id: str):
    query = select(table).where(table.cube_id == cube_id)
    return query.order_by(table.seq) if hasattr(table, "seq") else query


def _row_dict(row) -> dict:
    data = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        if isinstance(value, datetime):
            value = {"$dt": value.isoformat()}
        elif isinstance(value, bytes):
            value = {"$b64": base64.b64encode(value).decode()}
        data[column.key] = value
    return data


def _add_folder(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        if file.is_file() and not file.is_symlink():
            archive.write(file, f"{prefix}/{file.name}")

