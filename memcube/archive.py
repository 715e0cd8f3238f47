"""Portable cube archives: a versioned zip of items, history, links, embeddings and adapters."""

from __future__ import annotations

import base64
import json
import os
import zipfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from storage.clock import as_utc
from storage.database import Database
from storage.errors import Conflict, InvalidInput, UnsupportedFormat
from storage.schema import AdapterRow, CubeRow, ItemHistoryRow, ItemRow, KvEntryRow, LinkRow
from storage.write_failures import storage_errors

FORMAT = "memos.memcube"
FORMAT_VERSION = 1
TABLES = {"items": ItemRow, "history": ItemHistoryRow, "links": LinkRow, "adapters": AdapterRow,
          "kv_entries": KvEntryRow}


def export_cube(database: Database, cube_id: str, path: Path, files_root: Path) -> dict:
    """Write a cube and everything in it to a ``.memcube`` archive; returns the manifest."""
    with database.session() as session:
        cube = session.get(CubeRow, cube_id)
        tables = {name: [_row_dict(r) for r in session.scalars(_ordered(table, cube_id))]
                  for name, table in TABLES.items()}
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, "cube": _row_dict(cube),
                    "counts": {name: len(rows) for name, rows in tables.items()}}
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with storage_errors():  # a full disk leaves no half-written archive behind
            path.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                _write_archive(archive, manifest, tables, files_root)
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _write_archive(archive: zipfile.ZipFile, manifest: dict, tables: dict,
                   files_root: Path) -> None:
    archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    for name, rows in tables.items():
        archive.writestr(f"{name}.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    for adapter in tables["adapters"]:
        _add_folder(archive, files_root / adapter["path"], f"files/{adapter['path']}")


def import_cube(database: Database, path: Path, files_root: Path,
                owner: str | None = None) -> str:
    """Recreate a cube from an archive in this home; returns the cube id."""
    with _open(path) as archive:
        manifest = read_manifest(archive)
        files = _file_targets(archive, Path(files_root))
        try:
            cube = _insert_rows(database, archive, dict(manifest["cube"]), owner)
        except (KeyError, TypeError, ValueError, UnicodeDecodeError, SQLAlchemyError) as error:
            # A damaged or hand-made archive: nothing was committed.
            raise InvalidInput(f"archive {path} is damaged ({type(error).__name__})") from None
        for member, target in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    return cube["id"]


def _insert_rows(database: Database, archive: zipfile.ZipFile, cube: dict,
                 owner: str | None) -> dict:
    if owner:
        cube["owner_id"] = owner
    with database.session() as session:
        if session.get(CubeRow, cube["id"]) is not None:
            raise Conflict(f"cube {cube['id']} already exists in this home")
        session.add(_from_dict(CubeRow, cube))
        for name, table in TABLES.items():
            for line in archive.read(f"{name}.jsonl").decode().splitlines():
                session.add(_from_dict(table, json.loads(line)))
    return cube


def _file_targets(archive: zipfile.ZipFile, files_root: Path) -> list[tuple[str, Path]]:
    """Where each packed file goes; refuses names that would land outside the home folder."""
    root = files_root.resolve()
    targets = []
    for member in archive.namelist():
        if member.startswith("files/") and not member.endswith("/"):
            target = (root / member.removeprefix("files/")).resolve()
            if root not in target.parents:
                raise InvalidInput(f"archive member {member!r} points outside the home folder")
            targets.append((member, target))
    return targets


def manifest_of(path: Path) -> dict:
    """The manifest of an archive file, refusing unknown formats and newer versions."""
    with _open(path) as archive:
        return read_manifest(archive)


def read_manifest(archive: zipfile.ZipFile) -> dict:
    """The archive's manifest, refusing unknown formats and newer versions."""
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, json.JSONDecodeError):
        raise InvalidInput("not a memos cube archive (no readable manifest.json)") from None
    if manifest.get("format") != FORMAT:
        raise InvalidInput(f"not a memos cube archive (format {manifest.get('format')!r})")
    if int(manifest.get("version", 0)) > FORMAT_VERSION:
        raise UnsupportedFormat(
            f"archive format version {manifest['version']} is newer than this memos "
            f"understands ({FORMAT_VERSION}); upgrade memos to import it"
        )
    return manifest


def _ordered(table, cube_id: str):
    query = select(table).where(table.cube_id == cube_id)
    return query.order_by(table.seq) if hasattr(table, "seq") else query


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise InvalidInput(f"cannot read archive {path}: {error}") from None


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


def _from_dict(table, data: dict):
    values = {}
    for key, value in data.items():
        if isinstance(value, dict) and "$dt" in value:
            value = as_utc(datetime.fromisoformat(value["$dt"]))
        elif isinstance(value, dict) and "$b64" in value:
            value = base64.b64decode(value["$b64"])
        values[key] = value
    if table is ItemRow or table is ItemHistoryRow:
        values.pop("seq", None)  # local autoincrement keys are assigned anew
    return table(**values)


def _add_folder(archive: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    if folder.is_file():
        archive.write(folder, prefix)
        return
    for file in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if file.is_file():
            archive.write(file, f"{prefix}/{file.relative_to(folder)}")
