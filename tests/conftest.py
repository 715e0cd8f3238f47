"""Shared fixtures: the real model and embedder, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from memos.embedder import Embedder
from memos.engine import Engine, EngineConfig


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """One folder per test session holding the converted default model."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def engine(models_dir) -> Engine:
    """The real default chat model (converted once per test session), fp32 on CPU."""
    return Engine.load(EngineConfig(models_dir=models_dir, device="cpu", progress=False))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 embedder."""
    return Embedder.load(device="cpu")
