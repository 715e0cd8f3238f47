"""SQL reads and writes of users, cubes and their shares."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from memcube.access import Access
from memcube.types import CubeInfo
from memcube.validation import (
    check_json_object,
    check_optional_text,
    check_text,
    check_user_id,
)
from storage.clock import Clock
from storage.database import Database
from storage.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from storage.schema import (
    AdapterRow,
    ChangeRow,
    CubeRow,
    CubeShareRow,
    ItemHistoryRow,
    ItemRow,
    JobRow,
    KvEntryRow,
    LinkRow,
    UserRow,
)

NAME_LIMIT = 128
MAX_SHARES_PER_CUBE = 256
DESCRIPTION_LIMIT = 4_000


class CubeStore:
    """Users, cubes and shares in SQL."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def ensure_user(self, user_id: str, is_admin: bool = False) -> str:
        """Create the user if it does not exist yet; returns its id."""
        check_user_id(user_id)
        with self._database.session() as session:
            # One statement, so two first uses of a new id at once both succeed.
            dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
            session.execute(dialect.insert(UserRow).values(
                id=user_id, is_admin=is_admin, created_at=self._clock.now(),
            ).on_conflict_do_nothing(index_elements=[UserRow.id]))
        return user_id

    def is_admin(self, user_id: str) -> bool:
        """Whether the user is an administrator."""
        with self._database.session() as session:
            row = session.get(UserRow, user_id)
            return bool(row and row.is_admin)

    def create(self, name: str, owner: str, description: str = "",
               settings: dict | None = None, cube_id: str | None = None) -> CubeInfo:
        """A new cube owned by ``owner`` (created if unknown)."""
        _check_name(name, "cube name")
        _check_cube_fields(description=description, settings=settings)
        self.ensure_user(owner)
        now = self._clock.now()
        row = CubeRow(id=cube_id or uuid.uuid4().hex, name=name, owner_id=owner,
                      description=description, settings=settings or {},
                      created_at=now, updated_at=now)
        try:
            with self._database.session() as session:
                session.add(row)
        except IntegrityError:
            raise Conflict(f"{owner} already has a cube named {name!r}") from None
        return self.get(row.id)

    def get(self, cube_id: str) -> CubeInfo:
        """A cube's fields, or NotFound."""
        with self._database.session() as session:
            row = session.get(CubeRow, cube_id)
            if row is None:
                raise NotFound(f"no cube {cube_id!r}")
            shares = session.execute(select(CubeShareRow.user_id, CubeShareRow.access)
                                     .where(CubeShareRow.cube_id == cube_id)).all()
            return CubeInfo(row.id, row.name, row.owner_id, row.description, dict(row.settings),
                            row.created_at, row.updated_at, dict(shares))

    def update(self, cube_id: str, **fields) -> CubeInfo:
        """Change a cube's name, description or settings."""
        allowed = {"name", "description", "settings"}
        if set(fields) - allowed:
            raise InvalidInput(f"cannot change {sorted(set(fields) - allowed)} of a cube")
        if fields.get("name") is not None:
            _check_name(fields["name"], "cube name")
        _check_cube_fields(description=fields.get("description"), settings=fields.get("settings"))
        try:
            with self._database.session() as session:
                row = session.get(CubeRow, cube_id)
                if row is None:
                    raise NotFound(f"no cube {cube_id!r}")
                for name, value in fields.items():
                    if value is not None:
                        setattr(row, name, value)
                row.updated_at = self._clock.now()
        except IntegrityError:
            raise Conflict(f"a cube named {fields.get('name')!r} already exists") from None
        return self.get(cube_id)

    def delete(self, cube_id: str) -> None:
        """Remove a cube and everything in it from SQL."""
        with self._database.session() as session:
            if session.get(CubeRow, cube_id) is None:
                raise NotFound(f"no cube {cube_id!r}")
            for table in (ItemHistoryRow, LinkRow, ItemRow, AdapterRow, KvEntryRow, JobRow,
                          CubeShareRow, ChangeRow):
                session.execute(delete(table).where(table.cube_id == cube_id))
            session.execute(delete(CubeRow).where(CubeRow.id == cube_id))

    def share(self, cube_id: str, user_id: str, access: Access | None) -> None:
        """Give ``user_id`` read or write access (None takes it away).

        An unknown user id is answered exactly like a known one, so sharing cannot be used to
        find out who has an account: the id is registered (without any key) and shared with.
        """
        check_user_id(user_id)
        info = self.get(cube_id)
        if access is not None and user_id not in info.shares \
                and len(info.shares) >= MAX_SHARES_PER_CUBE:
            raise QuotaExceeded(f"a cube can be shared with at most {MAX_SHARES_PER_CUBE} users")
        if access is not None:
            self.ensure_user(user_id)
        with self._database.session() as session:
            session.execute(delete(CubeShareRow).where(CubeShareRow.cube_id == cube_id,
                                                       CubeShareRow.user_id == user_id))
            if access is not None:
                session.add(CubeShareRow(cube_id=cube_id, user_id=user_id,
                                         access=access.name.lower()))

    def access_of(self, cube_id: str, user_id: str | None) -> Access:
        """What ``user_id`` may do with the cube (None means the local, trusted caller)."""
        with self._database.session() as session:
            row = session.get(CubeRow, cube_id)
            if row is None:
                return Access.NONE
            if user_id is None or row.owner_id == user_id:
                return Access.OWNER
            user = session.get(UserRow, user_id)
            if user is not None and user.is_admin:
                return Access.OWNER
            share = session.get(CubeShareRow, (cube_id, user_id))
            return Access[share.access.upper()] if share else Access.NONE

    def users_of(self, cube_id: str) -> list[str]:
        """The cube's owner and the users it is shared with (none for an unknown cube)."""
        with self._database.session() as session:
            owner = session.scalar(select(CubeRow.owner_id).where(CubeRow.id == cube_id))
            shared = session.scalars(select(CubeShareRow.user_id).where(
                CubeShareRow.cube_id == cube_id))
            return [user for user in (owner, *shared) if user is not None]

    def visible_to(self, user_id: str | None) -> list[CubeInfo]:
        """Cubes the user owns or was shared (every cube for None or an admin)."""
        query = select(CubeRow.id).order_by(CubeRow.created_at)
        if user_id is not None and not self.is_admin(user_id):
            shared = select(CubeShareRow.cube_id).where(CubeShareRow.user_id == user_id)
            query = query.where(or_(CubeRow.owner_id == user_id, CubeRow.id.in_(shared)))
        with self._database.session() as session:
            ids = list(session.scalars(query))
        return [self.get(cube_id) for cube_id in ids]


def _check_name(value: str, what: str) -> None:
    if not isinstance(value, str) or not value or len(value) > NAME_LIMIT or not value.strip():
        raise InvalidInput(f"{what} must be 1 to {NAME_LIMIT} non-blank characters")
    check_text(value, what)


def _check_cube_fields(description: str | None, settings: dict | None) -> None:
    check_optional_text(description, "a cube's description", DESCRIPTION_LIMIT)
    if settings is not None:
        check_json_object(settings, "a cube's settings")
