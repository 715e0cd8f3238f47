"""Who may do what with a cube: its owner, users it is shared with, and admins."""

from __future__ import annotations

from enum import IntEnum

from storage.errors import InvalidInput, NotFound, PermissionDenied


class Access(IntEnum):
    """Levels of access to a cube, each including the ones below it."""

    NONE = 0
    READ = 1
    WRITE = 2
    OWNER = 3


def parse_access(value: str) -> Access:
    """``read`` or ``write`` as an Access level."""
    try:
        level = Access[value.upper()]
    except KeyError:
        raise InvalidInput(f"access must be 'read' or 'write', not {value!r}") from None
    if level not in (Access.READ, Access.WRITE):
        raise InvalidInput(f"access must be 'read' or 'write', not {value!r}")
    return level


def require(level: Access, needed: Access, cube_id: str) -> None:
    """Raise unless ``level`` suffices; an invisible cube is NotFound so existence never leaks."""
    if level == Access.NONE:
        raise NotFound(f"no cube {cube_id!r}")
    if level < needed:
        raise PermissionDenied(f"{needed.name.lower()} access to cube {cube_id!r} is required")
