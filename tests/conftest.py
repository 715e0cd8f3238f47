"""Shared fixtures: the real model and embedder, loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from filelock import FileLock

from memos.embedder import Embedder
from memos.engine import Engine, EngineConfig
from memos.engine.model_files import converted_default_model


def pytest_configure(config) -> None:
    """Parallel workers (pytest -n N) share the cores: one torch thread each."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """One folder per test run holding the converted default model, shared by all workers."""
    run_root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_root = run_root.parent
    folder = run_root / "models"
    with FileLock(str(run_root / "models.lock")):
        folder.mkdir(exist_ok=True)
        converted_default_model(folder, progress=False)
    return folder


@pytest.fixture(scope="session")
def engine(models_dir) -> Engine:
    """The real default chat model (converted once per test session), fp32 on CPU."""
    return Engine.load(EngineConfig(models_dir=models_dir, device="cpu", progress=False))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 embedder."""
    return Embedder.load(device="cpu")
