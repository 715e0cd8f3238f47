"""Scheduler fixtures: a MemOS on SQLite in a temp folder, driven by a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memos.kernel import MemOS
from storage.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """Time that moves only when a test says so."""
    return ManualClock()


@pytest.fixture
def mos(tmp_path, embedder, clock) -> Iterator[MemOS]:
    """A fresh MemOS home with the real embedder and the manual clock."""
    kernel = MemOS(tmp_path / "home", embedder=embedder, clock=clock)
    yield kernel
    kernel.close()


@pytest.fixture
def cube(mos):
    """An empty cube."""
    return mos.create_cube("notes", owner="alice")
