"""The cubes one chat request reads: access checked once, each cube opened once, when needed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memcube.cube import MemCube
    from memos.chat_port import ChatKernel


class CubeScope:
    """The cubes asked for (checked at once: NotFound unless each is readable), or, when none
    are named, every cube the user may read (listed when first needed, opened only to search)."""

    def __init__(self, kernel: ChatKernel, cube_ids: Sequence[str] | None,
                 user: str | None) -> None:
        self._kernel, self._user = kernel, user
        self.asked = list(dict.fromkeys(cube_ids or ()))
        self._cubes: list[MemCube] | None = None
        if self.asked:
            self.cubes()

    def ids(self) -> list[str]:
        """The ids of the cubes in scope, without opening them."""
        if self.asked:
            return self.asked
        if self._cubes is not None:
            return [cube.id for cube in self._cubes]
        return [info.id for info in self._kernel.list_cubes(self._user)]

    def cubes(self) -> list[MemCube]:
        """The cubes in scope, opened (and their access checked) on the first call only."""
        if self._cubes is None:
            self._cubes = self._kernel.readable_cubes(self.asked or None, self._user)
        return self._cubes
