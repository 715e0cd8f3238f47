"""The forget check: which notes to look for, and where anything of them remains."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Identifier, Public, Strict
from api.schemas.memories import Text


class ForgetCheckRequest(Strict):
    """Notes to look for: ids (soft-deleted ones keep their text) and/or texts (purged ones)."""

    item_ids: Annotated[list[Identifier], Field(max_length=100)] = Field(default_factory=list)
    texts: Annotated[list[Text], Field(max_length=100)] = Field(default_factory=list)


class ForgetCheckPublic(Public):
    """Where anything of the notes remains: ``clean`` when nothing could still be served."""

    cube_id: str
    item_ids: list[str]
    texts_checked: int
    clean: bool
    remains: list[dict[str, Any]]
    retained: list[dict[str, Any]]
