"""Parametric memory (LoRA adapters) as callers see it: distil, list, verify, delete."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from memcube.access import Access
from memos.scheduler import Job
from memos.scheduler.distill_job import DISTILL_JOB, check_distill_room, distill_payload
from memos.settings import Settings
from storage.errors import NotFound

if TYPE_CHECKING:  # peft and torch: imported when first used
    from memos.parametric import DistillConfig
    from memos.parametric.memory import AdapterInfo


class ParametricCalls:
    """A cube's adapters; ``list_adapters`` and ``verify_adapter`` answer JSON-friendly dicts."""

    settings: Settings

    def distill(self, cube_id: str, item_ids: Sequence[str] | None = None,
                config: DistillConfig | None = None,
                progress: Callable[[int, int, float], None] | None = None,
                cancel: threading.Event | None = None, user: str | None = None,
                **options) -> AdapterInfo:
        """Train the cube's LoRA adapter from its notes (blocking); returns the adapter.
        ``options`` are DistillConfig fields, used when no ``config`` is given."""
        cube = self.get_cube(cube_id, user, needed=Access.WRITE)
        if config is None and options:
            from memos.parametric import DistillConfig

            config = DistillConfig(**options)
        return self.adapters.distill(cube, item_ids, config, progress, cancel)

    def start_distill(self, cube_id: str, item_ids: Sequence[str] | None = None,
                      user: str | None = None, **options) -> Job:
        """Queue a distillation as a scheduler job (the scheduler's workers run it)."""
        cube = self.get_cube(cube_id, user, needed=Access.WRITE)
        payload = distill_payload(list(item_ids) if item_ids else None, options)
        self.adapters.notes_to_distill(cube, payload["item_ids"])  # none: refuse it now
        payload["requested_by"] = user
        room = partial(check_distill_room, cube_id=cube_id, user=user,
                       max_per_user=self.settings.max_jobs_per_user)
        return self.scheduler.enqueue(DISTILL_JOB, cube_id, payload, max_attempts=1,
                                      dedupe_key=f"{DISTILL_JOB}:{cube_id}", admit=room)

    def list_adapters(self, cube_id: str, user: str | None = None) -> list[dict]:
        """A cube's adapters, newest first, each saying whether it is stale or damaged."""
        self.get_cube(cube_id, user)
        return [adapter.to_dict() for adapter in self.adapters.list(cube_id)]

    def verify_adapter(self, cube_id: str, adapter_id: str, user: str | None = None) -> dict:
        """Check an adapter's files against their checksums; ``damaged`` says what failed."""
        self._adapter_of(cube_id, adapter_id, user, Access.READ)
        return self.adapters.verify(adapter_id).to_dict()

    def delete_adapter(self, cube_id: str, adapter_id: str, user: str | None = None) -> None:
        """Unload and remove one of the cube's adapters."""
        self._adapter_of(cube_id, adapter_id, user, Access.WRITE)
        self.adapters.delete(adapter_id)

    def _adapter_of(self, cube_id: str, adapter_id: str, user: str | None,
                    needed: Access) -> None:
        """NotFound unless the adapter belongs to a cube ``user`` has ``needed`` access to."""
        self.get_cube(cube_id, user, needed=needed)
        if adapter_id not in {adapter.id for adapter in self.adapters.list(cube_id)}:
            raise NotFound(f"no adapter {adapter_id!r} in cube {cube_id!r}")
