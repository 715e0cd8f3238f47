"""Cubes, their settings and shares."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from api.schemas.common import Name, Public, Strict
from memcube.cube_settings import CubeSettings


class CubeCreate(Strict):
    """A new cube, owned by the caller."""

    name: Name
    description: Annotated[str, Field(max_length=4_000)] = ""
    settings: CubeSettings = Field(default_factory=CubeSettings)


class CubeUpdate(Strict):
    """Fields of a cube to change; omitted fields stay as they are."""

    name: Name | None = None
    description: Annotated[str, Field(max_length=4_000)] | None = None
    settings: CubeSettings | None = None


class AccessLevel(StrEnum):
    """What a share allows."""

    READ = "read"
    WRITE = "write"


class ShareCreate(Strict):
    """Access to give another user."""

    access: AccessLevel


class CubePublic(Public):
    """A cube."""

    id: str
    name: str
    owner: str
    description: str
    settings: dict
    created_at: datetime
    updated_at: datetime
    shares: dict[str, str]


class CubesPublic(Public):
    """A list of cubes."""

    data: list[CubePublic]
    count: int


class CubeStats(Public):
    """How many memories a cube holds, by state, and its index sizes."""

    cube_id: str
    items_by_state: dict[str, int]
    indexed: int
    links: int
