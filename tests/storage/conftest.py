"""Storage fixtures: every test runs on SQLite and, when configured, on a real PostgreSQL.

Set ``MEMOS_TEST_DATABASE_URL`` (``.ci/postgres`` starts one) to run the PostgreSQL half.
Each PostgreSQL database a test asks for is a fresh schema of its own (chosen through
``search_path``), so tests never see each other's rows and parallel runs do not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from memos.kernel import MemOS
from memos.settings import Settings
from storage.clock import Clock

POSTGRES_ENV = "MEMOS_TEST_DATABASE_URL"

NewDatabase = Callable[[], str | None]
OpenMemOS = Callable[..., MemOS]


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Storage tests embed a sentence or two at a time; extra threads only cost sync time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=["sqlite", "postgres"])
def new_database(request) -> Iterator[NewDatabase]:
    """Makes clean databases: None (SQLite in the home folder) or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield lambda: None
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL storage tests skipped")
    admin = create_engine(base)
    schemas: list[str] = []

    def new() -> str:
        schema = f"memos_test_{uuid.uuid4().hex[:12]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        schemas.append(schema)
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    yield new
    with admin.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def database_url(new_database) -> str | None:
    """The test's database URL (None: the default SQLite file in the home folder)."""
    return new_database()


@pytest.fixture
def open_memos(database_url, new_database, embedder, tmp_path) -> Iterator[OpenMemOS]:
    """Opens MemOS on a home folder; ``fresh=True`` gives it a database of its own."""
    opened: list[MemOS] = []

    def open_(home: Path | None = None, *, clock: Clock | None = None,
              fresh: bool = False) -> MemOS:
        url = new_database() if fresh else database_url
        settings = Settings(home=home or tmp_path / "home", database_url=url)
        mos = MemOS(settings=settings, embedder=embedder, clock=clock)
        opened.append(mos)
        return mos

    yield open_
    for mos in opened:
        mos.database.close()


@pytest.fixture
def mos(open_memos) -> MemOS:
    """MemOS on a fresh home folder and database."""
    return open_memos()
