"""The CLI's backend over a running server: memos.Client, with the caller's API key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from memos.cli.backend import Backend, as_dict, count_by
from memos.cli.errors import CliError
from memos.client import Client
from storage.errors import NotFound

TIMEOUT_S = 600.0  # distillation and imports can take minutes
JOBS_COUNTED = 1000  # jobs read per cube for `memos stats`


class ServerBackend(Backend):
    """A memos server reached through Client; permissions are those of the key's user."""

    mode = "server"

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.client = client

    @classmethod
    def connect(cls, url: str, api_key: str | None) -> ServerBackend:
        """A backend for the server at ``url``, authenticating with ``api_key``."""
        if not api_key:
            raise CliError("server mode needs an API key: MEMOS_API_KEY or --api-key-file PATH")
        return cls(Client(url, api_key, timeout=TIMEOUT_S))

    def cube_stats(self, cube_id: str) -> dict:
        """A cube's fields and counts, with its jobs by state, KV bytes by tier and adapters."""
        jobs, _ = self.client.list_jobs(cube_id=cube_id, limit=JOBS_COUNTED)
        return {**super().cube_stats(cube_id),
                "jobs_by_state": count_by(as_dict(jobs), "state"),
                "kv_bytes_by_tier": _bytes_by_tier(self.client.kv_entries(cube_id)),
                "adapters": len(self.client.list_adapters(cube_id))}

    def create_cube(self, name: str, owner: str | None, description: str) -> dict:
        """A new cube owned by the key's user."""
        _no_owner(owner, "create a cube")
        return as_dict(self.client.create_cube(name, description).info)

    def import_cube(self, path: Path, owner: str | None, name: str | None = None) -> dict:
        """Upload an archive; the new cube (fresh ids) belongs to the key's user."""
        _no_owner(owner, "import a cube")
        return as_dict(self.client.import_cube(path, name=name).info)

    def list_users(self) -> list[dict]:
        """Every user (admin key needed)."""
        return self.client.list_users()

    def create_user(self, user_id: str, is_admin: bool) -> dict:
        """A new user (admin key needed)."""
        return self.client.create_user(user_id, is_admin)

    def list_keys(self, user_id: str | None) -> list[dict]:
        """API keys of one user, or of everyone (admin key needed)."""
        return self.client.list_keys(user_id)

    def create_key(self, user_id: str, name: str) -> dict:
        """A new API key; the secret is in ``key`` (admin key needed)."""
        return self.client.create_key(user_id, name)

    def revoke_key(self, key_id: str) -> None:
        """Revoke an API key (admin key needed)."""
        self.client.revoke_key(key_id)

    def list_jobs(self, state: str | None, cube_id: str | None, kind: str | None, limit: int,
                  offset: int) -> dict:
        """A page of jobs, newest first (without an admin key, of one readable cube)."""
        jobs, total = self.client.list_jobs(cube_id, state, kind, limit, offset)
        return {"items": as_dict(jobs), "total": total}

    def get_job(self, job_id: str) -> dict:
        """One job."""
        return as_dict(self.client.get_job(job_id))

    def cancel_job(self, job_id: str) -> dict:
        """Cancel a job."""
        return as_dict(self.client.cancel_job(job_id))

    def kv_entries(self, cube_id: str | None) -> list[dict]:
        """Cached chunks of one cube's notes, or all of them (admin key needed)."""
        return self.client.kv_entries(cube_id)

    def kv_stats(self) -> dict:
        """Hits, misses, bytes and evictions per tier of the server's cache."""
        return self.client.kv_stats()

    def warm(self, cube_id: str, item_ids: Sequence[str]) -> int:
        """Precompute the KV of these notes on the server; returns how many were warmed."""
        return self.client.warm(cube_id, item_ids)

    def kv_evict(self, key: str) -> None:
        """Drop a cached chunk from every tier (admin key needed)."""
        self.client.kv_evict(key)

    def kv_pin(self, key: str, pinned: bool) -> None:
        """Keep a cached chunk out of eviction, or release it (admin key needed)."""
        self.client.kv_pin(key, pinned)

    def list_adapters(self, cube_id: str) -> list[dict]:
        """A cube's adapters, newest first."""
        return self.client.list_adapters(cube_id)

    def distill(self, cube_id: str, item_ids: Sequence[str], steps: int | None,
                progress: Callable[[int, int, float], None] | None) -> dict:
        """Train the cube's LoRA adapter on the server (blocking; no step progress over HTTP)."""
        options = {"steps": steps} if steps else {}
        return self.client.distill(cube_id, list(item_ids) or None, **options)

    def delete_adapter(self, adapter_id: str, cube_id: str | None) -> None:
        """Unload and remove an adapter; its cube is looked up when not given."""
        self.client.delete_adapter(cube_id or self._cube_of_adapter(adapter_id), adapter_id)

    def _cube_of_adapter(self, adapter_id: str) -> str:
        for cube in self.client.list_cubes():
            if any(adapter["id"] == adapter_id for adapter in self.client.list_adapters(cube.id)):
                return cube.id
        raise NotFound(f"no adapter {adapter_id!r} in the cubes this key can read "
                       "(see `memos adapters list CUBE`)")


def _no_owner(owner: str | None, action: str) -> None:
    if owner:
        raise CliError(f"--owner works only on a home folder; on a server you {action} as the "
                       "API key's user (log in with that user's key)")


def _bytes_by_tier(entries: list[dict]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries:
        totals[entry["tier"]] = totals.get(entry["tier"], 0) + entry["nbytes"]
    return totals
