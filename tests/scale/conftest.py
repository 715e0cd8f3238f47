"""Scale-out fixtures: databases shared by several MemOS instances (and processes).

Every test runs on SQLite and, when ``MEMOS_TEST_DATABASE_URL`` is set, on a fresh PostgreSQL
schema of its own (as the storage tests do).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import torch
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ENV = "MEMOS_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """A sentence or two is embedded at a time; extra threads only cost sync time."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> Iterator[str | None]:
    """None (SQLite in the home folder) or the URL of a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL scale tests skipped")
    schema = f"memos_scale_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
