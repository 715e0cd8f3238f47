"""The CLI's backend over a home folder: MemOS directly, as the local administrator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from memos.auth import KeyStore
from memos.cli.backend import Backend, as_dict, count_by
from memos.kernel import MemOS
from storage.errors import NotFound


class HomeBackend(Backend):
    """MemOS over one home folder; the caller is the local administrator (user=None)."""

    mode = "home"

    def __init__(self, mos: MemOS) -> None:
        super().__init__(mos)
        self.mos = mos
        self.keys = KeyStore(mos.database, mos.clock)

    def cube_stats(self, cube_id: str) -> dict:
        """A cube's fields and counts, with its scheduler jobs by state."""
        jobs, _ = self.mos.scheduler.jobs.list(cube_id=cube_id, limit=1000)
        return {**super().cube_stats(cube_id), "jobs_by_state": count_by(as_dict(jobs), "state")}

    def create_cube(self, name: str, owner: str | None, description: str) -> dict:
        """A new cube owned by ``owner`` (the local user when not given)."""
        cube = self.mos.create_cube(name, owner=owner or "local", description=description)
        return as_dict(cube.info)

    def import_cube(self, path: Path, owner: str | None, name: str | None = None) -> dict:
        """Recreate an archived cube as a new cube (fresh ids), optionally for another owner."""
        return as_dict(self.mos.import_cube(path, owner=owner, name=name).info)

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

    def list_jobs(self, state: str | None, cube_id: str | None, kind: str | None, limit: int,
                  offset: int) -> dict:
        """A page of the scheduler's jobs (newest first) and the total that match."""
        jobs, total = self.mos.scheduler.jobs.list(state, cube_id, kind, limit, offset)
        return {"items": as_dict(jobs), "total": total}

    def get_job(self, job_id: str) -> dict:
        """One job."""
        return as_dict(self.mos.scheduler.jobs.get(job_id))

    def cancel_job(self, job_id: str) -> dict:
        """Cancel a job."""
        return as_dict(self.mos.scheduler.jobs.cancel(job_id))

    def kv_entries(self, cube_id: str | None) -> list[dict]:
        """Cached KV chunks (of one cube's notes, or all), most recently used first."""
        return as_dict(self.mos.activation.entries(cube_id))

    def kv_stats(self) -> dict:
        """Hits, misses, bytes and evictions per tier of this process's cache."""
        return as_dict(self.mos.activation.stats())

    def warm(self, cube_id: str, item_ids: Sequence[str]) -> int:
        """Precompute the KV of these notes; returns how many were warmed."""
        return self.mos.warm_memories(cube_id, item_ids)

    def kv_evict(self, key: str) -> None:
        """Drop a cached chunk from every tier, its file included."""
        self.mos.activation.evict(key)

    def list_adapters(self, cube_id: str) -> list[dict]:
        """A cube's adapters, newest first."""
        return as_dict(self.mos.adapters.list(cube_id))

    def distill(self, cube_id: str, item_ids: Sequence[str], steps: int | None,
                progress: Callable[[int, int, float], None] | None) -> dict:
        """Train the cube's LoRA adapter from its notes (blocking)."""
        from memos.parametric import DistillConfig

        config = DistillConfig(steps=steps) if steps else None
        return as_dict(self.mos.distill(cube_id, list(item_ids) or None, config, progress))

    def delete_adapter(self, adapter_id: str, cube_id: str | None) -> None:
        """Unload and remove an adapter (of ``cube_id`` when given)."""
        if cube_id and self.mos.adapters.get(adapter_id).cube_id != cube_id:
            raise NotFound(f"no adapter {adapter_id!r} in cube {cube_id!r}")
        self.mos.adapters.delete(adapter_id)
