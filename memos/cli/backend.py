"""What the CLI talks to: a MemOS over a home folder, or a memos server through Client.

MemOS and Client share their method names (``get_cube(id).add_many``, ``search``,
``list_cubes`` ...), so most calls are written once here against ``self.target``; the two
subclasses adapt the few calls that differ. Every answer is JSON-friendly data, so the
commands print the same tables and JSON in either mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from memcube.archive import manifest_of
from storage.errors import InvalidInput, NotFound

STATE_ACTIONS = ("archive", "freeze", "delete")


class Backend:
    """The calls every command makes, on a MemOS or a Client held in ``target``."""

    mode = "?"

    def __init__(self, target) -> None:
        self.target = target

    def list_cubes(self) -> list[dict]:
        """Cubes the caller can read."""
        return as_dict(self.target.list_cubes())

    def cube_stats(self, cube_id: str) -> dict:
        """A cube's fields together with its counts."""
        cube = self.target.get_cube(cube_id)
        return {**as_dict(cube.info), **as_dict(cube.stats())}

    def delete_cube(self, cube_id: str) -> None:
        """Delete a cube and everything in it."""
        self.target.delete_cube(cube_id)

    def share_cube(self, cube_id: str, with_user: str, access: str | None) -> dict:
        """Give a user read or write access, or take it away (``None``)."""
        return as_dict(self.target.share_cube(cube_id, with_user, access))

    def export_cube(self, cube_id: str, path: Path) -> dict:
        """Write a cube archive to ``path``; returns its manifest."""
        self.target.export_cube(cube_id, path)
        return manifest_of(path)

    def list_memories(self, cube_id: str, states: Sequence[str] | None, tags: Sequence[str],
                      limit: int, offset: int) -> dict:
        """A page of a cube's memories (newest first) and the total that match."""
        items, total = self.target.get_cube(cube_id).list(states, tags, limit, offset)
        return {"items": as_dict(items), "total": total}

    def get_memory(self, cube_id: str, item_id: str) -> dict:
        """One memory."""
        return as_dict(self.target.get_cube(cube_id).get(item_id))

    def add_memories(self, cube_id: str, entries: Sequence[dict]) -> list[dict]:
        """Store notes with one batched embedding."""
        return as_dict(self.target.get_cube(cube_id).add_many(entries))

    def update_memory(self, cube_id: str, item_id: str, fields: dict) -> dict:
        """Change a memory's text, tags, context or metadata."""
        return as_dict(self.target.get_cube(cube_id).update(item_id, **fields))

    def change_state(self, cube_id: str, item_id: str, action: str) -> dict:
        """Archive, freeze or (soft-)delete a memory."""
        if action not in STATE_ACTIONS:
            raise InvalidInput(f"unknown action {action!r}")
        return as_dict(getattr(self.target.get_cube(cube_id), action)(item_id))

    def purge_memory(self, cube_id: str, item_id: str) -> None:
        """Remove a memory and its history for good."""
        self.target.get_cube(cube_id).purge(item_id)

    def history(self, cube_id: str, item_id: str) -> list[dict]:
        """Every recorded change of a memory, oldest first."""
        return as_dict(self.target.get_cube(cube_id).history(item_id))

    def search(self, query: str, cube_ids: Sequence[str], k: int,
               states: Sequence[str] | None, tags: Sequence[str], **more) -> list[dict]:
        """Hybrid search over the given cubes (every readable one when none are given);
        ``more`` are further filters (``current_only``, ``as_of``)."""
        filters = {"tags": list(tags)} | ({"states": list(states)} if states else {}) | more
        return as_dict(self.target.search(query, list(cube_ids) or None, k, **filters))

    def forget_check(self, cube_id: str, item_ids: Sequence[str], texts: Sequence[str],
                     probe_model: bool = True) -> dict:
        """Where anything of these memories remains, kind by kind, and what still states it."""
        return self.target.forget_check(cube_id, list(item_ids), list(texts),
                                        probe_model=probe_model)

    def close(self) -> None:
        """Release the home folder or the connection."""
        self.target.close()


def resolve_cube(backend: Backend, ref: str) -> dict:
    """The cube whose id is ``ref``, or the one cube named ``ref``; NotFound otherwise."""
    cubes = backend.list_cubes()
    for cube in cubes:
        if cube["id"] == ref:
            return cube
    named = [cube for cube in cubes if cube["name"] == ref]
    if len(named) == 1:
        return named[0]
    if named:
        owners = ", ".join(f"{c['owner']} ({c['id']})" for c in named)
        raise NotFound(f"several cubes are named {ref!r}: {owners}; give the cube id")
    raise NotFound(f"no cube {ref!r} (see `memos cubes list`)")


def cube_names(backend: Backend) -> dict[str, str]:
    """Cube names by id, for tables."""
    return {cube["id"]: cube["name"] for cube in backend.list_cubes()}


def count_by(rows: Sequence[dict], field: str) -> dict[str, int]:
    """How many rows have each value of ``field``."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[field]] = counts.get(row[field], 0) + 1
    return counts


def as_dict(value: Any) -> Any:
    """A kernel or SDK result as plain JSON-friendly data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return as_dict({field.name: getattr(value, field.name) for field in fields(value)})
    if isinstance(value, dict):
        return {key: as_dict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_dict(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def open_backend(url: str | None, api_key: str | None, home: Path | None) -> Backend:
    """A server backend when ``url`` is given, else a MemOS over ``home`` (or the default)."""
    if url:
        from memos.cli.server_backend import ServerBackend

        return ServerBackend.connect(url, api_key)
    from transformers.utils import logging as transformers_logging

    from memos.cli.home_backend import HomeBackend
    from memos.kernel import MemOS

    transformers_logging.disable_progress_bar()  # model loading bars would clutter the output
    return HomeBackend(MemOS(home))
