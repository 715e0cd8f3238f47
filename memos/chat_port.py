"""What the chat pipeline needs of the kernel: retrieval, prompts, the two cached memory kinds,
the decoder and access checks, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from memcube.access import Access
from memcube.cube import MemCube
from memcube.cube_store import CubeStore
from memcube.item_store import ItemStore
from memcube.search import SearchHit
from memcube.types import CubeInfo
from memos.settings import Settings
from storage.clock import Clock

if TYPE_CHECKING:  # torch, transformers and peft: only named here
    from memos.activation.memory import ActivationMemory
    from memos.engine import Engine
    from memos.parametric.memory import ParametricMemory
    from memos.prompt import PromptBuilder


class ChatKernel(Protocol):
    """The kernel as the chat pipeline sees it (``MemOS`` is one)."""

    settings: Settings
    clock: Clock
    items: ItemStore
    cubes: CubeStore

    @property
    def engine(self) -> Engine: ...

    @property
    def decoder(self): ...

    @property
    def prompts(self) -> PromptBuilder: ...

    @property
    def activation(self) -> ActivationMemory: ...

    @property
    def adapters(self) -> ParametricMemory: ...

    def get_cube(self, cube_id: str, user: str | None = None,
                 needed: Access = Access.READ) -> MemCube: ...

    def list_cubes(self, user: str | None = None) -> list[CubeInfo]: ...

    def readable_cubes(self, cube_ids: Sequence[str] | None,
                       user: str | None = None) -> list[MemCube]: ...

    def search_cubes(self, query: str, cubes: Sequence[MemCube], k: int = 10,
                     **filters) -> list[SearchHit]: ...
