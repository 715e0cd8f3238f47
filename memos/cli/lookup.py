"""Finding things by what a person types (a cube's name, an adapter id), and answers as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from storage.errors import NotFound


def resolve_cube(target, ref: str) -> dict:
    """The cube whose id is ``ref``, or the one cube named ``ref``; NotFound otherwise."""
    cubes = as_dict(target.list_cubes())
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


def cube_names(target) -> dict[str, str]:
    """Cube names by id, for tables."""
    return {cube.id: cube.name for cube in target.list_cubes()}


def cube_of_adapter(target, adapter_id: str) -> str:
    """The id of the readable cube holding this adapter; NotFound when none does."""
    for cube in target.list_cubes():
        if any(adapter["id"] == adapter_id for adapter in target.list_adapters(cube.id)):
            return cube.id
    raise NotFound(f"no adapter {adapter_id!r} in the cubes you can read "
                   "(see `memos adapters list CUBE`)")


def count_by(rows: Sequence[dict], field: str) -> dict[str, int]:
    """How many rows have each value of ``field``."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[field]] = counts.get(row[field], 0) + 1
    return counts


def as_dict(value: Any) -> Any:
    """A kernel or SDK answer as plain JSON-friendly data."""
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
