"""Several server processes on one port (``memos serve --workers N``), sharing the database.

The parent opens the home once (migrations, the admin key announced once), then uvicorn starts
N processes that each build the app from the environment through ``worker_app``. They share
nothing but SQL (and Redis when configured): indexes catch up through the change log, jobs are
claimed under leases, sessions are rows.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import uvicorn

from api.app import create_app
from memos.engine.model_files import converted_default_model
from memos.kernel import MemOS
from memos.settings import Settings

FACTORY = "api.workers:worker_app"


def serve_processes(settings: Settings, log_level: str = "info") -> None:
    """Prepare the home, then run ``settings.server_processes`` uvicorn workers on one port."""
    with MemOS(settings=settings) as mos:
        create_app(mos, settings)  # migrates and creates (and prints) the admin key, once
    if settings.model is None:  # convert the shipped model here, not in N workers at once
        converted_default_model(Path(settings.home) / "models")
    os.environ.update(_environment(settings))  # the workers read their settings from it
    uvicorn.run(FACTORY, factory=True, workers=settings.server_processes, host=settings.host,
                port=settings.port, log_level=log_level)


def worker_app():
    """The app of one worker process (uvicorn calls this in each)."""
    settings = Settings()
    mos = MemOS(settings=settings)
    atexit.register(mos.close)  # saves the indexes when the worker exits
    return create_app(mos, settings)


def _environment(settings: Settings) -> dict[str, str]:
    """What a worker needs that the command line (not the environment) may have set."""
    values = {"MEMOS_HOME": str(settings.home.resolve())}
    if settings.database_url:
        values["MEMOS_DATABASE_URL"] = settings.database_url
    return values
