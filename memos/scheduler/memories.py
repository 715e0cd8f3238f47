"""What the scheduler, its jobs and its policies work with: stores, clock, settings and the
memory kinds they move notes into (the composition root wires them)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from memcube.adapter_records import AdapterRecords
from memcube.cube import MemCube
from memcube.cube_store import CubeStore
from memcube.item_store import ItemStore
from memcube.retrieval_log import RetrievalLog
from memos.activation.promotion import ActivationPromotion
from memos.settings import Settings
from storage.clock import Clock

if TYPE_CHECKING:  # torch and peft: only named here
    from memos.parametric import DistillConfig
    from memos.parametric.memory import AdapterInfo, ParametricMemory


@dataclass(frozen=True, slots=True)
class Memories:
    """The scheduler's collaborators; a policy needing an absent memory kind is skipped."""

    settings: Settings
    clock: Clock
    cubes: CubeStore
    open_cube: Callable[[str], MemCube]  # a cube opened for changes (shared, cached)
    items: ItemStore
    retrievals: RetrievalLog
    adapter_records: AdapterRecords
    activation: ActivationPromotion | None = None
    parametric: Callable[[], ParametricMemory] | None = None  # loads the model when first called
    enforce_budgets: Callable[[], dict] | None = None  # KV and adapter byte budgets
    prune_changes: Callable[[datetime], int] | None = None  # the change log's old entries

    def distill(self, cube_id: str, item_ids: Sequence[str] | None = None,
                config: DistillConfig | None = None,
                progress: Callable[[int, int, float], None] | None = None,
                cancel: threading.Event | None = None) -> AdapterInfo:
        """Train the cube's adapter from its notes (blocking); returns the adapter."""
        return self.parametric().distill(self.open_cube(cube_id), item_ids, config, progress,
                                         cancel)
