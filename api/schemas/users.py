"""Users and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.schemas.common import Public, Strict

UserId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]


class UserCreate(Strict):
    """A new user."""

    id: UserId
    is_admin: bool = False


class UserPublic(Public):
    """A user."""

    id: str
    is_admin: bool
    created_at: datetime


class UsersPublic(Public):
    """A list of users."""

    data: list[UserPublic]
    count: int


class KeyCreate(Strict):
    """A new API key for a user."""

    user_id: UserId
    name: Annotated[str, Field(max_length=128)] = ""


class KeyPublic(Public):
    """An API key's public fields; the secret is never shown again after creation."""

    id: str
    user_id: str
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


class KeyCreated(KeyPublic):
    """A freshly created key, with its secret (shown only this once)."""

    key: str


class KeysPublic(Public):
    """A list of API keys."""

    data: list[KeyPublic]
    count: int
