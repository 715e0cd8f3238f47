"""What the scheduler, its jobs and its policies need of the kernel: this much and no more."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from memcube.access import Access
from memcube.cube import MemCube
from memcube.item_store import ItemStore
from memcube.types import CubeInfo
from memos.settings import Settings
from storage.clock import Clock
from storage.database import Database

if TYPE_CHECKING:  # torch and peft: only named here
    from memos.parametric.memory import AdapterInfo, ParametricMemory
    from memos.scheduler.scheduler import Scheduler


class SchedulerKernel(Protocol):
    """The kernel as the scheduler sees it (``MemOS`` is one)."""

    settings: Settings
    clock: Clock
    database: Database
    items: ItemStore

    @property
    def scheduler(self) -> Scheduler: ...

    @property
    def adapters(self) -> ParametricMemory: ...

    def list_cubes(self, user: str | None = None) -> list[CubeInfo]: ...

    def get_cube(self, cube_id: str, user: str | None = None,
                 needed: Access = Access.READ) -> MemCube: ...

    def distill(self, cube_id: str, item_ids: Sequence[str] | None = None,
                config: Any = None, progress: Callable[[int, int, float], None] | None = None,
                cancel: Any = None, user: str | None = None, **options) -> AdapterInfo: ...

    def warm_memories(self, cube_id: str, item_ids: Sequence[str],
                      user: str | None = None) -> int: ...

    def hot_memory_sets(self, cube_id: str, since: datetime,
                        min_uses: int) -> list[tuple[str, ...]] | None: ...

    def pinned_memory_sets(self, cube_id: str) -> list[tuple[str, ...]]: ...

    def pin_memory_sets(self, cube_id: str, memory_sets: Sequence[Sequence[str]],
                        min_uses: int = 1) -> dict: ...

    def enforce_budgets(self) -> dict: ...
