"""What the CLI talks to: a MemOS over a home folder, or a memos server through Client.

Both sides answer the same small protocol and return JSON-friendly dicts, so every command
is written once and the table/JSON output is the same in either mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from storage.errors import NotFound

STATE_VERBS = {"archive": "archived", "freeze": "frozen", "delete": "deleted",
               "activate": "activated"}


class Backend(Protocol):
    """The calls the CLI makes; a home folder and a server both answer them."""

    def list_cubes(self) -> list[dict]: ...
    def create_cube(self, name: str, owner: str | None, description: str) -> dict: ...
    def cube_stats(self, cube_id: str) -> dict: ...
    def delete_cube(self, cube_id: str) -> None: ...
    def share_cube(self, cube_id: str, with_user: str, access: str | None) -> dict: ...
    def export_cube(self, cube_id: str, path: Path) -> dict: ...
    def import_cube(self, path: Path, owner: str | None) -> dict: ...
    def list_memories(self, cube_id: str, states: Sequence[str] | None, tags: Sequence[str],
                      limit: int, offset: int) -> dict: ...
    def get_memory(self, cube_id: str, item_id: str) -> dict: ...
    def add_memories(self, cube_id: str, entries: Sequence[dict]) -> list[dict]: ...
    def update_memory(self, cube_id: str, item_id: str, fields: dict) -> dict: ...
    def set_state(self, cube_id: str, item_id: str, state: str) -> dict: ...
    def purge_memory(self, cube_id: str, item_id: str) -> None: ...
    def history(self, cube_id: str, item_id: str) -> list[dict]: ...
    def search(self, query: str, cube_ids: Sequence[str], k: int,
               states: Sequence[str] | None, tags: Sequence[str]) -> list[dict]: ...
    def list_users(self) -> list[dict]: ...
    def create_user(self, user_id: str, is_admin: bool) -> dict: ...
    def list_keys(self, user_id: str | None) -> list[dict]: ...
    def create_key(self, user_id: str, name: str) -> dict: ...
    def revoke_key(self, key_id: str) -> None: ...
    def close(self) -> None: ...


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


def as_dict(value: Any) -> Any:
    """A kernel or SDK result as plain JSON-friendly data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return as_dict(asdict(value))
    if isinstance(value, dict):
        return {key: as_dict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_dict(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
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
