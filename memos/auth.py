"""Users and API keys: keys are random secrets, stored only as their sha256 digest."""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from memcube.validation import check_text, check_user_id
from storage.clock import Clock
from storage.database import Database
from storage.errors import Conflict, InvalidInput, NotFound
from storage.schema import ApiKeyRow, UserRow

KEY_PREFIX = "memos_"
ADMIN_USER = "admin"
ADMIN_KEY_FILE = "admin.key"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(slots=True)
class UserInfo:
    """A user as the API shows it."""

    id: str
    is_admin: bool
    created_at: datetime


@dataclass(slots=True)
class KeyInfo:
    """An API key's public fields (never the secret itself)."""

    id: str
    user_id: str
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(slots=True)
class Caller:
    """Who a valid key belongs to."""

    user_id: str
    is_admin: bool


def hash_key(secret: str) -> str:
    """The stored form of a key; sha256 suffices because keys are 256-bit random secrets."""
    return hashlib.sha256(secret.encode()).hexdigest()


def key_prefix(secret: str) -> str:
    """What is stored and listed of a key to tell keys apart: the ``memos_`` marker and at
    most 4 more characters, never more than a tenth of the secret (operator keys too)."""
    marker = KEY_PREFIX if secret.startswith(KEY_PREFIX) else ""
    rest = secret[len(marker):]
    return marker + rest[:min(4, len(rest) // 10)]


def new_secret() -> str:
    """A fresh API key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyStore:
    """Users and their API keys in SQL."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def create_user(self, user_id: str, is_admin: bool = False) -> UserInfo:
        """A new user (Conflict if the id is taken)."""
        check_user_id(user_id)
        with self._database.session() as session:
            if session.get(UserRow, user_id) is not None:
                raise Conflict(f"user {user_id!r} already exists")
            row = UserRow(id=user_id, is_admin=is_admin, created_at=self._clock.now())
            session.add(row)
            return UserInfo(row.id, row.is_admin, row.created_at)

    def get_user(self, user_id: str) -> UserInfo:
        """One user, or NotFound."""
        with self._database.session() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"no user {user_id!r}")
            return UserInfo(row.id, bool(row.is_admin), row.created_at)

    def list_users(self) -> list[UserInfo]:
        """Every user, oldest first."""
        with self._database.session() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.created_at, UserRow.id))
            return [UserInfo(r.id, bool(r.is_admin), r.created_at) for r in rows]

    def create_key(self, user_id: str, name: str = "",
                   secret: str | None = None) -> tuple[KeyInfo, str]:
        """A new key for an existing user; the secret is returned here and never again."""
        check_text(name, "a key's name", 128)
        secret = secret or new_secret()
        if len(secret) < 16:
            raise InvalidInput("an API key must be at least 16 characters")
        with self._database.session() as session:
            if session.get(UserRow, user_id) is None:
                raise NotFound(f"no user {user_id!r}")
            row = ApiKeyRow(id=uuid.uuid4().hex, user_id=user_id, key_hash=hash_key(secret),
                            prefix=key_prefix(secret), name=name, created_at=self._clock.now())
            session.add(row)
            return _key_info(row), secret

    def revoke_key(self, key_id: str) -> None:
        """Delete a key; requests bearing it fail from now on."""
        with self._database.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise NotFound(f"no API key {key_id!r}")
            session.delete(row)

    def list_keys(self, user_id: str | None = None) -> list[KeyInfo]:
        """Keys of one user (or of everyone), oldest first."""
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.id)
        if user_id is not None:
            query = query.where(ApiKeyRow.user_id == user_id)
        with self._database.session() as session:
            return [_key_info(row) for row in session.scalars(query)]

    def user_for_key(self, secret: str) -> Caller | None:
        """The owner of a key, or None for an unknown key; records the use."""
        with self._database.session() as session:
            row = session.scalars(
                select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(secret))
            ).first()
            if row is None:
                return None
            now = self._clock.now()
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
                # At most one write a minute per key; by id, so a key revoked meanwhile
                # (no row left to update) lets this request through instead of failing it.
                session.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id)
                                .values(last_used_at=now)
                                .execution_options(synchronize_session=False))
            user = session.get(UserRow, row.user_id)
            return Caller(user.id, bool(user.is_admin)) if user is not None else None

    def ensure_admin_key(self, home: Path, secret: str | None = None) -> str | None:
        """Make sure an admin can log in on first start; returns a newly created secret.

        A given ``secret`` (``MEMOS_ADMIN_KEY``) is registered if unknown. Otherwise a key is
        created only when the admin user has none, and written to ``<home>/admin.key`` (0600).
        """
        self._ensure_admin_user()
        if secret is not None:
            if self.user_for_key(secret) is None:
                self.create_key(ADMIN_USER, "admin (MEMOS_ADMIN_KEY)", secret)
            return None
        if self.list_keys(ADMIN_USER):
            return None
        _, secret = self.create_key(ADMIN_USER, "admin (first start)")
        _write_private(Path(home) / ADMIN_KEY_FILE, secret + "\n")
        return secret

    def _ensure_admin_user(self) -> None:
        with self._database.session() as session:
            row = session.get(UserRow, ADMIN_USER)
            if row is None:
                session.add(UserRow(id=ADMIN_USER, is_admin=True, created_at=self._clock.now()))
            else:
                row.is_admin = True


def _key_info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(row.id, row.user_id, row.prefix, row.name, row.created_at, row.last_used_at)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(path, 0o600)
