"""The cubes one chat request reads: access checked once, each cube opened once, when needed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memcube.access import Access
from storage.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from memcube.cube import MemCube
    from memcube.cube_store import CubeStore

OpenCube = Callable[[str, "str | None", Access], "MemCube"]


@dataclass(frozen=True, slots=True)
class CubeAccess:
    """Who may do what to which cube (the store), and the opener of a cube for a caller
    (NotFound, or PermissionDenied, unless the caller has the access needed)."""

    store: CubeStore
    open: OpenCube

    def readable(self, cube_ids: Sequence[str] | None, user: str | None) -> list[MemCube]:
        """These cubes (each once, in order), or every cube ``user`` may read when None."""
        ids = cube_ids if cube_ids else [info.id for info in self.store.visible_to(user)]
        return [self.open(cube_id, user, Access.READ) for cube_id in dict.fromkeys(ids)]

    def writable(self, cube_id: str, user: str | None) -> MemCube | None:
        """The cube, opened for writing, if ``user`` may write to it; else None."""
        try:
            return self.open(cube_id, user, Access.WRITE)  # one access check, not two
        except (NotFound, PermissionDenied):
            return None


class CubeScope:
    """The cubes asked for (checked at once: NotFound unless each is readable), or, when none
    are named, every cube the user may read (listed when first needed, opened only to search)."""

    def __init__(self, access: CubeAccess, cube_ids: Sequence[str] | None,
                 user: str | None) -> None:
        self._access, self._user = access, user
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
        return [info.id for info in self._access.store.visible_to(self._user)]

    def cubes(self) -> list[MemCube]:
        """The cubes in scope, opened (and their access checked) on the first call only."""
        if self._cubes is None:
            self._cubes = self._access.readable(self.asked or None, self._user)
        return self._cubes
