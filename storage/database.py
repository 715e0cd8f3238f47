"""Database engine and sessions: SQLite (WAL) in the home folder by default, any SQLAlchemy URL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageFull
from storage.network_fs import guard_home
from storage.write_failures import storage_errors

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# What a failed query or transaction raises: callers that retry later catch these.
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError,)


def sqlite_url(home: Path) -> str:
    """The default database: one SQLite file in the home folder."""
    return f"sqlite:///{Path(home).resolve() / 'memos.db'}"


class Database:
    """An engine plus a session factory, migrated to the latest schema on open."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.refused_writes = 0  # transactions refused by a full disk or read-only filesystem
        is_file = self.engine.dialect.name == "sqlite"
        database = self.engine.url.database if is_file else None
        self._folder = Path(database).parent if database and database != ":memory:" else None
        self._home_lock = guard_home(self._folder) if self._folder else None

    def migrate(self) -> None:
        """Apply every pending migration (ordered Alembic revisions)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with storage_errors(self._folder), self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error; a write the
        storage refuses (full disk, read-only filesystem) raises StorageFull."""
        try:
            with storage_errors(self._folder), self._sessions.begin() as session:
                yield session
        except StorageFull:
            self.refused_writes += 1
            raise

    def read_scalar(self, statement):
        """One read outside any transaction (autocommit): the cheapest round trip, for checks
        made before every request."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return conn.execute(statement).scalar()

    def close(self) -> None:
        """Release every pooled connection (and the home's process lock, if held)."""
        self.engine.dispose()
        if self._home_lock is not None:
            self._home_lock.close()
            self._home_lock = None


def upsert(session: Session, model, rows: Sequence[dict], keys: Sequence[str]) -> None:
    """Insert ``rows`` in one statement; a row whose ``keys`` exist replaces the old values."""
    if not rows:
        return
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = dialect.insert(model)
    changed = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changed),
                    list(rows))


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
