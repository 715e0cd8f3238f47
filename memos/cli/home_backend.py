"""The CLI's backend over a home folder: MemOS directly, as the local administrator."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from memos.auth import KeyStore
from memos.cli.backend import as_dict
from memos.kernel import MemOS


class HomeBackend:
    """Answers the CLI's calls with a MemOS over one home folder (user=None: local admin)."""

    def __init__(self, mos: MemOS) -> None:
        self.mos = mos
        self.keys = KeyStore(mos.database, mos.clock)

    def list_cubes(self) -> list[dict]:
        """Every cube in the home folder."""
        return [as_dict(info) for info in self.mos.list_cubes()]

    def create_cube(self, name: str, owner: str | None, description: str) -> dict:
        """A new cube owned by ``owner`` (the local user when not given)."""
        cube = self.mos.create_cube(name, owner=owner or "local", description=description)
        return as_dict(cube.info)

    def cube_stats(self, cube_id: str) -> dict:
        """A cube's fields and counts."""
        cube = self.mos.get_cube(cube_id)
        return {**as_dict(cube.info), **as_dict(cube.stats())}

    def delete_cube(self, cube_id: str) -> None:
        """Delete a cube and everything in it."""
        self.mos.delete_cube(cube_id)

    def share_cube(self, cube_id: str, with_user: str, access: str | None) -> dict:
        """Give a user read or write access, or take it away (``None``)."""
        return as_dict(self.mos.share_cube(cube_id, with_user, access))

    def export_cube(self, cube_id: str, path: Path) -> dict:
        """Write a cube archive; returns its manifest."""
        return as_dict(self.mos.export_cube(cube_id, path))

    def import_cube(self, path: Path, owner: str | None) -> dict:
        """Recreate a cube from an archive."""
        return as_dict(self.mos.import_cube(path, owner=owner).info)

    def list_memories(self, cube_id: str, states: Sequence[str] | None, tags: Sequence[str],
                      limit: int, offset: int) -> dict:
        """A page of a cube's memories (newest first) and the total that match."""
        items, total = self.mos.get_cube(cube_id).list(states, tags, limit, offset)
        return {"items": as_dict(items), "total": total}

    def get_memory(self, cube_id: str, item_id: str) -> dict:
        """One memory."""
        return as_dict(self.mos.get_cube(cube_id).get(item_id))

    def add_memories(self, cube_id: str, entries: Sequence[dict]) -> list[dict]:
        """Store notes with one batched embedding."""
        return as_dict(self.mos.get_cube(cube_id).add_many(entries))

    def update_memory(self, cube_id: str, item_id: str, fields: dict) -> dict:
        """Change a memory's text, tags, context or metadata."""
        return as_dict(self.mos.get_cube(cube_id).update(item_id, **fields))

    def set_state(self, cube_id: str, item_id: str, state: str) -> dict:
        """Move a memory through its lifecycle."""
        return as_dict(self.mos.get_cube(cube_id).set_state(item_id, state))

    def purge_memory(self, cube_id: str, item_id: str) -> None:
        """Remove a memory and its history for good."""
        self.mos.get_cube(cube_id).purge(item_id)

    def history(self, cube_id: str, item_id: str) -> list[dict]:
        """Every recorded change of a memory, oldest first."""
        return as_dict(self.mos.get_cube(cube_id).history(item_id))

    def search(self, query: str, cube_ids: Sequence[str], k: int,
               states: Sequence[str] | None, tags: Sequence[str]) -> list[dict]:
        """Hybrid search over the given cubes (all of them when none are given)."""
        filters = {"tags": list(tags)} | ({"states": list(states)} if states else {})
        return as_dict(self.mos.search(query, list(cube_ids) or None, k, **filters))

    def list_users(self) -> list[dict]:
        """Every user."""
        return as_dict(self.keys.list_users())

    def create_user(self, user_id: str, is_admin: bool) -> dict:
        """A new user."""
        return as_dict(self.keys.create_user(user_id, is_admin))

    def list_keys(self, user_id: str | None) -> list[dict]:
        """API keys of one user, or of everyone."""
        return as_dict(self.keys.list_keys(user_id))

    def create_key(self, user_id: str, name: str) -> dict:
        """A new API key; the secret is shown once, in ``key``."""
        info, secret = self.keys.create_key(user_id, name)
        return {**as_dict(info), "key": secret}

    def revoke_key(self, key_id: str) -> None:
        """Delete an API key."""
        self.keys.revoke_key(key_id)

    def close(self) -> None:
        """Save indexes and release the database."""
        self.mos.close()
